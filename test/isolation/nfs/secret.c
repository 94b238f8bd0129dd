/*
 * The victim of the containment tests: swaps MAC addresses (a visible, checkable effect) and
 * keeps a secret from its config in its state and in a flow table, for an attacker to go after.
 */
#include <stdint.h>
#include <string.h>

#include "nfp/nf.h"
#include "cfg.h"

struct secret_state {
	uint64_t secret;
	uint64_t batches;
};

static int secret_init(nfp_ctx *ctx, void *state, const char *config, uint32_t len)
{
	struct secret_state *s = state;
	s->secret = (uint64_t)cfg_int(config, "secret", 0x5ec7e75ec7e7);
	uint8_t key[16] = {1};
	int32_t slot = nfp_table_add(ctx, 0, key);
	if (slot < 0)
		return slot;
	memcpy(nfp_table_value(ctx, 0, slot), &s->secret, 8);
	return 0;
}

static void secret_process(nfp_ctx *ctx, void *state, struct nfp_batch *b)
{
	struct secret_state *s = state;
	s->batches++;
	for (uint32_t i = 0; i < b->count; i++) {
		uint8_t *d = b->pkts[i].data, t[6];
		memcpy(t, d, 6);
		memcpy(d, d + 6, 6);
		memcpy(d + 6, t, 6);
		b->verdicts[i] = NFP_VERDICT_PASS;
	}
	nfp_counter_add(ctx, 0, b->count);
}

const struct nfp_nf_descriptor nfp_nf_v1 = {
	.manifest = {
		.abi_version = NFP_NF_ABI_VERSION,
		.name = "secret",
		.version = "1.0.0",
		.reads = NFP_REGION_L2,
		.writes = NFP_REGION_L2,
		.state_bytes = sizeof(struct secret_state),
		.n_tables = 1,
		.tables = {{.name = "vault", .key_bytes = 16, .value_bytes = 8, .max_entries = 64}},
	},
	.init = secret_init,
	.process = secret_process,
};
