/*
 * Fills an NF's view of a packet (struct nfp_pkt) from the inner Ethernet frame: header offsets
 * (NFP_OFF_NONE where absent or unusable) and a symmetric 5-tuple flow hash. NFs still check what
 * they read; these offsets are a convenience, not a promise.
 */
#ifndef NFP_PKT_PARSE_H
#define NFP_PKT_PARSE_H

#include <stdint.h>

#include <rte_hash_crc.h>

#include "nfp/nf.h"

static inline uint16_t pp_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static inline void nfp_pkt_fill(struct nfp_pkt *p, uint8_t *data, uint32_t len, uint16_t tenant, uint16_t path)
{
	p->data = data;
	p->len = (uint16_t)len;
	p->l3_off = p->l4_off = p->payload_off = NFP_OFF_NONE;
	p->flow_hash = 0;
	p->tenant = tenant;
	p->path = path;
	if (len < 14)
		return;
	uint32_t off = 14;
	uint16_t type = pp_rd16(data + 12);
	if (type == 0x8100 && len >= 18) {
		type = pp_rd16(data + 16);
		off = 18;
	}
	if (type != 0x0800 || len < off + 20)
		return;
	const uint8_t *ip = data + off;
	uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	if (ip[0] >> 4 != 4 || ihl < 20 || len < off + ihl)
		return;
	p->l3_off = (uint16_t)off;
	uint32_t a, b;
	memcpy(&a, ip + 12, 4);
	memcpy(&b, ip + 16, 4);
	uint32_t ports_a = 0, ports_b = 0;
	if ((pp_rd16(ip + 6) & 0x1fff) == 0) { /* first fragment or whole: the L4 header is here */
		uint32_t l4 = off + ihl, proto = ip[9], hdr = 0;
		if (proto == 6 && len >= l4 + 20)
			hdr = (uint32_t)(data[l4 + 12] >> 4) * 4;
		else if ((proto == 17 || proto == 1) && len >= l4 + 8)
			hdr = 8;
		if (hdr >= 8 && len >= l4 + hdr) {
			p->l4_off = (uint16_t)l4;
			p->payload_off = (uint16_t)(l4 + hdr);
			if (proto != 1) {
				ports_a = pp_rd16(data + l4);
				ports_b = pp_rd16(data + l4 + 2);
			}
		}
	}
	/* Symmetric: both directions of a connection hash alike. */
	uint32_t lo = a < b ? a : b, hi = a < b ? b : a;
	uint32_t plo = ports_a < ports_b ? ports_a : ports_b, phi = ports_a < ports_b ? ports_b : ports_a;
	uint32_t h = rte_hash_crc_4byte(lo, ip[9]);
	h = rte_hash_crc_4byte(hi, h);
	h = rte_hash_crc_4byte(plo << 16 | phi, h);
	p->flow_hash = h ? h : 1;
}

/*
 * An NF grew (grow > 0) or shrank the packet at its front (nf.h, front adjustment): the headers
 * after L2 moved by `grow` relative to `data`. Call after updating `data` and `len`.
 */
static inline void nfp_pkt_shift_offsets(struct nfp_pkt *p, int32_t grow)
{
	uint16_t *offs[3] = {&p->l3_off, &p->l4_off, &p->payload_off};
	for (int k = 0; k < 3; k++) {
		int32_t v = *offs[k] == NFP_OFF_NONE ? -1 : (int32_t)*offs[k] + grow;
		*offs[k] = v < 0 || v > (int32_t)p->len ? (uint16_t)NFP_OFF_NONE : (uint16_t)v;
	}
}

#endif
