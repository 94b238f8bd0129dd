/*
 * Helpers shared by the built-in NFs: a defensive IPv4 view of a packet (every length and field
 * checked before use, whatever the runtime's offsets say), the common drop reasons, RFC 1624
 * incremental checksum updates and flow keys. Header-only, no allocation.
 */
#ifndef NFP_NFS_NF_UTIL_H
#define NFP_NFS_NF_UTIL_H

#include <stdint.h>
#include <string.h>

#include "nfp/nf.h"

/* Drop reasons every IP-aware built-in NF declares first, in this order. */
#define NFP_COMMON_DROP_REASONS "truncated", "bad-ihl", "ip-options", "fragment", "not-ipv4"
#define NFP_N_COMMON_DROP_REASONS 5u

enum nfp_pkt_fault {
	NFP_PKT_OK = -1,
	NFP_PKT_TRUNCATED = 0,
	NFP_PKT_BAD_IHL = 1,
	NFP_PKT_IP_OPTIONS = 2,
	NFP_PKT_FRAGMENT = 3,
	NFP_PKT_NOT_IPV4 = 4,
};

#define NFP_IPPROTO_ICMP 1
#define NFP_IPPROTO_TCP 6
#define NFP_IPPROTO_UDP 17

/* A checked view of an IPv4 packet. Addresses and ports are kept in network byte order. */
struct nfp_ipv4_view {
	uint8_t *ip;      /* IPv4 header (20 bytes, no options) */
	uint8_t *l4;      /* L4 header; NULL for protocols other than TCP/UDP/ICMP */
	uint8_t *payload; /* bytes after the L4 header */
	uint32_t payload_len;
	uint8_t proto;
	uint32_t src, dst;    /* network order */
	uint16_t sport, dport; /* network order; 0 for ICMP and others */
};

/*
 * Network-order fields, read and written as whole words: one (checked) memory access each, where
 * byte-by-byte access would cost one per byte in an sfi sandbox (and the compiler turns the byte
 * swap into one instruction natively and after wasm2c alike).
 */
/*
 * The per-packet helpers are inlined into every NF that uses them, whatever the compiler's size
 * heuristics (clang for wasm32 keeps them out of line otherwise, and a call in a sandbox passes
 * the view through its linear memory).
 */
#define NFP_HOT static inline __attribute__((always_inline))

static inline uint16_t nfp_rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return __builtin_bswap16(v);
}
static inline void nfp_wr16(uint8_t *p, uint16_t v)
{
	v = __builtin_bswap16(v);
	memcpy(p, &v, 2);
}
static inline uint32_t nfp_rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return __builtin_bswap32(v);
}
static inline void nfp_wr32(uint8_t *p, uint32_t v)
{
	v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
}

/*
 * Checks an Ethernet (optionally one 802.1Q tag) + IPv4 + TCP/UDP/ICMP packet. Returns
 * NFP_PKT_OK and fills `v`, or the fault, whose value is the index of its common drop reason.
 */
NFP_HOT int nfp_ipv4_view(const struct nfp_pkt *p, struct nfp_ipv4_view *v)
{
	uint32_t len = p->len, off = 14;
	if (len < 14)
		return NFP_PKT_TRUNCATED;
	uint16_t type = nfp_rd16(p->data + 12);
	if (type == 0x8100) {
		if (len < 18)
			return NFP_PKT_TRUNCATED;
		type = nfp_rd16(p->data + 16);
		off = 18;
	}
	if (type != 0x0800)
		return NFP_PKT_NOT_IPV4;
	if (len < off + 20)
		return NFP_PKT_TRUNCATED;
	uint8_t *ip = p->data + off;
	if (ip[0] >> 4 != 4)
		return NFP_PKT_NOT_IPV4;
	uint32_t ihl = ip[0] & 0x0f;
	if (ihl < 5)
		return NFP_PKT_BAD_IHL;
	if (ihl > 5)
		return NFP_PKT_IP_OPTIONS;
	uint32_t tot = nfp_rd16(ip + 2);
	if (tot < 20)
		return NFP_PKT_BAD_IHL;
	if (off + tot > len)
		return NFP_PKT_TRUNCATED;
	if ((nfp_rd16(ip + 6) & 0x3fff) != 0) /* MF or a fragment offset */
		return NFP_PKT_FRAGMENT;
	v->ip = ip;
	v->proto = ip[9];
	memcpy(&v->src, ip + 12, 4);
	memcpy(&v->dst, ip + 16, 4);
	v->sport = v->dport = 0;
	uint32_t l4len = tot - 20, hdr;
	uint8_t *l4 = ip + 20;
	switch (v->proto) {
	case NFP_IPPROTO_TCP:
		if (l4len < 20)
			return NFP_PKT_TRUNCATED;
		hdr = (uint32_t)(l4[12] >> 4) * 4;
		if (hdr < 20 || hdr > l4len)
			return NFP_PKT_TRUNCATED;
		break;
	case NFP_IPPROTO_UDP:
		hdr = 8;
		/* The UDP length must fit the IP payload it claims to fill (a lying one is cut short). */
		if (l4len < 8 || nfp_rd16(l4 + 4) < 8 || nfp_rd16(l4 + 4) > l4len)
			return NFP_PKT_TRUNCATED;
		break;
	case NFP_IPPROTO_ICMP:
		hdr = 8;
		if (l4len < 8)
			return NFP_PKT_TRUNCATED;
		break;
	default:
		v->l4 = NULL;
		v->payload = l4;
		v->payload_len = l4len;
		return NFP_PKT_OK;
	}
	if (v->proto != NFP_IPPROTO_ICMP) {
		memcpy(&v->sport, l4, 2);
		memcpy(&v->dport, l4 + 2, 2);
	}
	v->l4 = l4;
	v->payload = l4 + hdr;
	v->payload_len = l4len - hdr;
	return NFP_PKT_OK;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), over 16-bit words in network order. */
static inline uint16_t nfp_csum_fold(uint32_t s)
{
	/* Two folds carry any 32-bit sum into 16 bits (the first leaves at most 0x1fffe). */
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static inline void nfp_csum_replace16(uint8_t *csum, uint16_t old_v, uint16_t new_v)
{
	uint32_t s = (uint16_t)~nfp_rd16(csum);
	s += (uint16_t)~old_v;
	s += new_v;
	nfp_wr16(csum, (uint16_t)~nfp_csum_fold(s));
}

static inline void nfp_csum_replace32(uint8_t *csum, uint32_t old_v, uint32_t new_v)
{
	nfp_csum_replace16(csum, (uint16_t)(old_v >> 16), (uint16_t)(new_v >> 16));
	nfp_csum_replace16(csum, (uint16_t)old_v, (uint16_t)new_v);
}

/* The L4 checksum field of a TCP/UDP view, or NULL (ICMP has no pseudo-header; UDP 0 = none). */
static inline uint8_t *nfp_l4_csum(const struct nfp_ipv4_view *v)
{
	if (v->proto == NFP_IPPROTO_TCP)
		return v->l4 + 16;
	if (v->proto == NFP_IPPROTO_UDP && nfp_rd16(v->l4 + 6) != 0)
		return v->l4 + 6;
	return NULL;
}

/*
 * Rewrites the source (which = 0) or destination (which = 1) address and port of a TCP/UDP view,
 * updating the IPv4 and L4 checksums incrementally. Address and port are host order.
 */
NFP_HOT void nfp_rewrite_endpoint(struct nfp_ipv4_view *v, int which, uint32_t addr, uint16_t port)
{
	uint8_t *ap = v->ip + (which ? 16 : 12);
	uint32_t old_a = nfp_rd32(ap);
	uint8_t *l4c = nfp_l4_csum(v);
	nfp_wr32(ap, addr);
	nfp_csum_replace32(v->ip + 10, old_a, addr);
	if (l4c != NULL)
		nfp_csum_replace32(l4c, old_a, addr);
	if (v->l4 != NULL && v->proto != NFP_IPPROTO_ICMP) {
		uint8_t *pp = v->l4 + (which ? 2 : 0);
		uint16_t old_p = nfp_rd16(pp);
		nfp_wr16(pp, port);
		if (l4c != NULL)
			nfp_csum_replace16(l4c, old_p, port);
	}
	memcpy(which ? &v->dst : &v->src, ap, 4);
	if (v->l4 != NULL && v->proto != NFP_IPPROTO_ICMP)
		memcpy(which ? &v->dport : &v->sport, v->l4 + (which ? 2 : 0), 2);
}

/* A 5-tuple flow key (16 bytes, no padding holes), in packet direction. */
struct nfp_flow_key {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t proto;
	uint8_t pad[3];
};

static inline void nfp_flow_key_of(const struct nfp_ipv4_view *v, struct nfp_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->src = v->src;
	k->dst = v->dst;
	k->sport = v->sport;
	k->dport = v->dport;
	k->proto = v->proto;
}

/* The same key for both directions of a connection (lower endpoint first). */
static inline void nfp_flow_key_symmetric(const struct nfp_ipv4_view *v, struct nfp_flow_key *k)
{
	nfp_flow_key_of(v, k);
	uint64_t a = (uint64_t)v->src << 16 | v->sport, b = (uint64_t)v->dst << 16 | v->dport;
	if (a > b) {
		k->src = v->dst;
		k->dst = v->src;
		k->sport = v->dport;
		k->dport = v->sport;
	}
}

/* Marks packet i dropped with reason `r`. */
static inline void nfp_drop(struct nfp_batch *b, uint32_t i, uint32_t r)
{
	b->verdicts[i] = NFP_VERDICT_DROP;
	b->drop_reasons[i] = (uint8_t)r;
}

#endif
