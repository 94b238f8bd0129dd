/*
 * A deliberately malicious NF for the containment tests. Config `{"attack": "<name>", ...}`:
 *   read-other  reads 8 bytes at the absolute address `addr` (another tenant's state) and writes
 *               them into its packets' payload, trying to exfiltrate them
 *   forge-ctx   calls a runtime service with a forged context handle `handle`
 *   write-oob   writes far outside its heap
 *   smash-stack overruns a stack buffer by `bytes`
 *   recurse     recurses without bound
 *   write-ro    rewrites the IPv4 header it declares read-only
 *   loop        never returns
 *   divzero     divides by `divisor` (0)
 *   write-around  writes its own memory around each packet: the headroom in front, 256 bytes past
 *               the end (no packet's bytes)
 *   write-sibling from packet 0, rewrites the IPv4 TTL of packet 1 (a header it may not write)
 *   bad-len     claims packet 0 is 100 bytes longer
 *   bad-data    moves packet 0's data pointer 4 KiB on
 *   bad-offsets scribbles over every packet's header offsets (the runtime keeps its own)
 *   write-other writes 8 bytes at the absolute address `addr` (another tenant's packet buffers)
 *   flip        inverts byte `offset` of packet `packet` (allowed only in the payload it declares)
 *   none        behaves (passes every packet)
 */
#include <stdint.h>
#include <string.h>

#include "nfp/nf.h"
#include "cfg.h"

struct evil_state {
	char attack[24];
	uint64_t addr;
	uint32_t handle, bytes;
	int32_t divisor;
	uint32_t sink;
	uint32_t packet, offset;
};

static int evil_init(nfp_ctx *ctx, void *state, const char *config, uint32_t len)
{
	struct evil_state *s = state;
	if (cfg_word(config, "attack", s->attack, sizeof(s->attack)) < 0)
		strcpy(s->attack, "none");
	s->addr = (uint64_t)cfg_int(config, "addr", 0);
	s->handle = (uint32_t)cfg_int(config, "handle", 2);
	s->bytes = (uint32_t)cfg_int(config, "bytes", 1 << 26);
	s->divisor = (int32_t)cfg_int(config, "divisor", 0);
	s->packet = (uint32_t)cfg_int(config, "packet", 0);
	s->offset = (uint32_t)cfg_int(config, "offset", 0);
	return 0;
}

/* Each frame keeps a buffer live across the call, so this cannot become a loop. */
static __attribute__((noinline)) uint32_t recurse(uint32_t n)
{
	volatile uint8_t frame[256];
	frame[n & 255] = (uint8_t)n;
	if (n == 0)
		return 0;
	return recurse(n + 1) + frame[(n * 7) & 255];
}

static __attribute__((noinline)) void smash(uint32_t bytes)
{
	volatile uint8_t buf[16];
	for (uint32_t i = 0; i < bytes; i++)
		buf[i] = 0x41;
}

static void evil_process(nfp_ctx *ctx, void *state, struct nfp_batch *b)
{
	struct evil_state *s = state;
	const char *a = s->attack;
	for (uint32_t i = 0; i < b->count; i++)
		b->verdicts[i] = NFP_VERDICT_PASS;
	if (strcmp(a, "read-other") == 0) {
		uint64_t stolen;
		memcpy(&stolen, (const void *)(uintptr_t)s->addr, sizeof(stolen));
		for (uint32_t i = 0; i < b->count; i++)
			if (b->pkts[i].payload_off != NFP_OFF_NONE && b->pkts[i].len >= b->pkts[i].payload_off + 8u)
				memcpy(b->pkts[i].data + b->pkts[i].payload_off, &stolen, 8);
	} else if (strcmp(a, "forge-ctx") == 0) {
		uint8_t key[16] = {0};
		s->sink += (uint32_t)nfp_table_lookup((nfp_ctx *)(uintptr_t)s->handle, 0, key);
	} else if (strcmp(a, "write-oob") == 0) {
		volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)0xfffffff0u;
		*p = 0xdeadbeef;
	} else if (strcmp(a, "smash-stack") == 0) {
		smash(s->bytes);
	} else if (strcmp(a, "recurse") == 0) {
		s->sink = recurse(1);
	} else if (strcmp(a, "write-ro") == 0) {
		for (uint32_t i = 0; i < b->count; i++)
			if (b->pkts[i].l3_off != NFP_OFF_NONE)
				b->pkts[i].data[b->pkts[i].l3_off + 8] = 1; /* TTL */
	} else if (strcmp(a, "loop") == 0) {
		volatile uint32_t spin = 1;
		while (spin)
			s->sink++;
	} else if (strcmp(a, "write-around") == 0) {
		for (uint32_t i = 0; i < b->count; i++) {
			memset(b->pkts[i].data - NFP_PKT_HEADROOM, 0xaa, NFP_PKT_HEADROOM);
			memset(b->pkts[i].data + b->pkts[i].len, 0xaa, 256);
		}
	} else if (strcmp(a, "write-sibling") == 0) {
		if (b->count > 1 && b->pkts[1].l3_off != NFP_OFF_NONE)
			b->pkts[1].data[b->pkts[1].l3_off + 8] = 1;
	} else if (strcmp(a, "bad-len") == 0) {
		b->pkts[0].len += 100;
	} else if (strcmp(a, "bad-data") == 0) {
		b->pkts[0].data += 4096;
	} else if (strcmp(a, "bad-offsets") == 0) {
		for (uint32_t i = 0; i < b->count; i++) {
			b->pkts[i].l3_off = 60000;
			b->pkts[i].l4_off = 1;
			b->pkts[i].payload_off = 0;
		}
	} else if (strcmp(a, "write-other") == 0) {
		volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)s->addr;
		*p = 0x6666666666666666ull;
	} else if (strcmp(a, "flip") == 0) {
		if (s->packet < b->count && s->offset < b->pkts[s->packet].len)
			b->pkts[s->packet].data[s->offset] ^= 0xff;
	} else if (strcmp(a, "divzero") == 0) {
		volatile int32_t d = s->divisor;
		s->sink = (uint32_t)(1000 / d);
	}
}

const struct nfp_nf_descriptor nfp_nf_v1 = {
	.manifest = {
		.abi_version = NFP_NF_ABI_VERSION,
		.name = "evil",
		.version = "0.0.1",
		.reads = NFP_REGION_L2 | NFP_REGION_L3 | NFP_REGION_L4 | NFP_REGION_PAYLOAD,
		.writes = NFP_REGION_PAYLOAD,
		.state_bytes = sizeof(struct evil_state),
		.n_tables = 1,
		.tables = {{.name = "loot", .key_bytes = 16, .value_bytes = 8, .max_entries = 64}},
	},
	.init = evil_init,
	.process = evil_process,
};
