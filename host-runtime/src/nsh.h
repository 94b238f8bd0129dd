/*
 * NSH (RFC 8300) between the NIC and the host, in the layout the P4 pipeline pushes
 * (p4/headers.ts `nsh_t`):
 *
 *   Ethernet dst, src (12 B), EtherType 0x894F
 *   NSH base header (4 B): Ver=0, O=0, U, TTL=63, Length=4 words, U, MD Type=2, Next Protocol=0xFE
 *   service path header (4 B): SPI (24 bits) = plan path id, SI (8 bits) = host hops still to run
 *   MD type 2 context, one TLV (8 B): Class=0xFFF6, Type=0x01, U, Len=4,
 *                                     value = tenant id (16 bits) + the displaced inner EtherType (16 bits)
 *   the L3 packet (IPv4, ...)
 *
 * Because the TLV ends with the inner EtherType, moving the 12 MAC bytes 16 bytes forward turns the
 * frame into a plain Ethernet frame starting at offset 16 (what NFs see), and moving them back
 * re-encapsulates it. The host validates every field it relies on and never trusts the NIC for
 * the tenant: the path's tenant must match the TLV.
 */
#ifndef NFP_NSH_H
#define NFP_NSH_H

#include <stdint.h>
#include <string.h>

#define NFP_ETHERTYPE_NSH 0x894Fu
#define NFP_NSH_OFF 14u
#define NFP_NSH_LEN 16u
#define NFP_NSH_SHIFT 16u /* the inner Ethernet frame starts here once decapsulated */
#define NFP_NSH_MIN_FRAME (NFP_NSH_OFF + NFP_NSH_LEN)
#define NFP_NSH_TTL 63u
#define NFP_NSH_MD_TYPE 2u
#define NFP_NSH_NEXT_PROTO 0xFEu
#define NFP_NSH_TLV_CLASS 0xFFF6u
#define NFP_NSH_TLV_TENANT 0x01u

struct nfp_nsh_fields {
	uint32_t spi;
	uint8_t si;
	uint16_t tenant;
};

static inline uint16_t nsh_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* Returns 0 and fills `f`, -1 when the frame carries no NSH, -2 when the NSH is malformed. */
static inline int nfp_nsh_parse(const uint8_t *frame, uint32_t len, struct nfp_nsh_fields *f)
{
	if (len < NFP_NSH_OFF || nsh_rd16(frame + 12) != NFP_ETHERTYPE_NSH)
		return -1;
	if (len < NFP_NSH_MIN_FRAME)
		return -2;
	const uint8_t *n = frame + NFP_NSH_OFF;
	/* Ver(2) O(1) U(1) TTL(6) Length(6): Length is the low 6 bits of the first 16-bit word. */
	uint32_t ver = n[0] >> 6, words = nsh_rd16(n) & 0x3f, md = n[2] & 0x0f, next = n[3];
	if (ver != 0 || words != NFP_NSH_LEN / 4 || md != NFP_NSH_MD_TYPE || next != NFP_NSH_NEXT_PROTO)
		return -2;
	const uint8_t *tlv = n + 8;
	if (nsh_rd16(tlv) != NFP_NSH_TLV_CLASS || tlv[2] != NFP_NSH_TLV_TENANT || (tlv[3] & 0x7f) != 4)
		return -2;
	f->spi = (uint32_t)n[4] << 16 | (uint32_t)n[5] << 8 | n[6];
	f->si = n[7];
	f->tenant = nsh_rd16(tlv + 4);
	return 0;
}

/* Moves the MACs next to the inner EtherType: a plain Ethernet frame now starts at +16. */
static inline void nfp_nsh_decap(uint8_t *frame) { memcpy(frame + NFP_NSH_SHIFT, frame, 12); }

/*
 * The 16 bytes at frame[12..28) that encapsulation writes for (spi, si, tenant): the NSH
 * EtherType, then the NSH up to the inner EtherType. The same for every packet leaving on one path,
 * so a batch builds it once.
 */
static inline void nfp_nsh_header(uint8_t out[16], uint32_t spi, uint8_t si, uint16_t tenant)
{
	out[0] = (uint8_t)(NFP_ETHERTYPE_NSH >> 8);
	out[1] = (uint8_t)NFP_ETHERTYPE_NSH;
	uint8_t *n = out + 2;
	uint16_t w0 = (uint16_t)(NFP_NSH_TTL << 6 | NFP_NSH_LEN / 4); /* Ver=0, O=0, U=0 */
	n[0] = (uint8_t)(w0 >> 8);
	n[1] = (uint8_t)w0;
	n[2] = NFP_NSH_MD_TYPE;
	n[3] = NFP_NSH_NEXT_PROTO;
	n[4] = (uint8_t)(spi >> 16);
	n[5] = (uint8_t)(spi >> 8);
	n[6] = (uint8_t)spi;
	n[7] = si;
	n[8] = (uint8_t)(NFP_NSH_TLV_CLASS >> 8);
	n[9] = (uint8_t)NFP_NSH_TLV_CLASS;
	n[10] = NFP_NSH_TLV_TENANT;
	n[11] = 4;
	n[12] = (uint8_t)(tenant >> 8);
	n[13] = (uint8_t)tenant;
	/* n[14..15], the inner EtherType, is the inner frame's own EtherType field: already in place. */
}

/* Rebuilds the NSH in front of the (possibly rewritten) inner frame at +16, from nfp_nsh_header. */
static inline void nfp_nsh_encap_with(uint8_t *frame, const uint8_t header[16])
{
	memcpy(frame, frame + NFP_NSH_SHIFT, 12);
	memcpy(frame + 12, header, 16);
}

/* Rebuilds the NSH in front of the (possibly rewritten) inner frame at +16. */
static inline void nfp_nsh_encap(uint8_t *frame, uint32_t spi, uint8_t si, uint16_t tenant)
{
	uint8_t header[16];
	nfp_nsh_header(header, spi, si, tenant);
	nfp_nsh_encap_with(frame, header);
}

#endif
