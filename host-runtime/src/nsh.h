/*
 * NSH (RFC 8300) as nfp uses it between the NIC and the host. Layout on the wire:
 *
 *   outer Ethernet (14 B, EtherType 0x894F)
 *   NSH base header (4 B): Ver=0, O=0, U, TTL=63, Length=4 (words), MD Type=2, Next Protocol=3 (Ethernet)
 *   service path header (4 B): SPI (24 bits) = plan path id, SI (8 bits) = host hops still to run
 *   MD type 2 context, one TLV (8 B): Class=0xFF00 (nfp), Type=0x01 (tenant), Len=4, value = tenant id (u32)
 *   inner Ethernet frame (what NFs see)
 *
 * The host validates every field it relies on and never trusts the NIC for the tenant: the path's
 * tenant must match the TLV.
 */
#ifndef NFP_NSH_H
#define NFP_NSH_H

#include <stdint.h>

#define NFP_ETHERTYPE_NSH 0x894Fu
#define NFP_NSH_LEN 16u /* base + service path + one 8-byte TLV */
#define NFP_NSH_OFF 14u
#define NFP_NSH_INNER_OFF (NFP_NSH_OFF + NFP_NSH_LEN)
#define NFP_NSH_MD_TYPE 2u
#define NFP_NSH_NEXT_ETHERNET 3u
#define NFP_NSH_TLV_CLASS 0xFF00u
#define NFP_NSH_TLV_TENANT 0x01u

struct nfp_nsh_fields {
	uint32_t spi;
	uint8_t si;
	uint32_t tenant;
};

static inline uint16_t nsh_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* Returns 0 and fills `f`, -1 when the frame carries no NSH, -2 when the NSH is malformed. */
static inline int nfp_nsh_parse(const uint8_t *frame, uint32_t len, struct nfp_nsh_fields *f)
{
	if (len < NFP_NSH_OFF || nsh_rd16(frame + 12) != NFP_ETHERTYPE_NSH)
		return -1;
	if (len < NFP_NSH_INNER_OFF)
		return -2;
	const uint8_t *n = frame + NFP_NSH_OFF;
	uint32_t ver = n[0] >> 6, length = n[1] & 0x3f, md = n[2] & 0x0f, next = n[3];
	if (ver != 0 || length != NFP_NSH_LEN / 4 || md != NFP_NSH_MD_TYPE || next != NFP_NSH_NEXT_ETHERNET)
		return -2;
	const uint8_t *tlv = n + 8;
	if (nsh_rd16(tlv) != NFP_NSH_TLV_CLASS || tlv[2] != NFP_NSH_TLV_TENANT || (tlv[3] & 0x7f) != 4)
		return -2;
	f->spi = (uint32_t)n[4] << 16 | (uint32_t)n[5] << 8 | n[6];
	f->si = n[7];
	f->tenant = (uint32_t)tlv[4] << 24 | (uint32_t)tlv[5] << 16 | (uint32_t)tlv[6] << 8 | tlv[7];
	return 0;
}

/* Rewrites SPI and SI in place (the frame was validated by nfp_nsh_parse). */
static inline void nfp_nsh_set_path(uint8_t *frame, uint32_t spi, uint8_t si)
{
	uint8_t *n = frame + NFP_NSH_OFF + 4;
	n[0] = (uint8_t)(spi >> 16);
	n[1] = (uint8_t)(spi >> 8);
	n[2] = (uint8_t)spi;
	n[3] = si;
}

#endif
