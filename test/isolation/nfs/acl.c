/*
 * A test NF for the ACL service (nf.h, nfp_acl_*). Config `{"use": "<how>"}`:
 *   own         one rule (UDP to port 53 allows, userdata 7); a packet passes when its key matches
 *   bad-handle  classifies on an ACL it never created
 *   bad-count   classifies more keys than a batch holds
 * Anything not matched drops with reason 0.
 */
#include <stdint.h>
#include <string.h>

#include "nfp/nf.h"
#include "cfg.h"

struct acl_state {
	char use[16];
	int32_t acl;
	struct nfp_acl_rule rule;
	struct nfp_acl_key keys[NFP_NF_MAX_BATCH + 1];
	uint32_t results[NFP_NF_MAX_BATCH + 1];
};

static int acl_init(nfp_ctx *ctx, void *state, const char *config, uint32_t len)
{
	struct acl_state *s = state;
	(void)len;
	if (cfg_word(config, "use", s->use, sizeof(s->use)) < 0)
		strcpy(s->use, "own");
	memset(&s->rule, 0, sizeof(s->rule));
	s->rule.proto = 17;
	s->rule.sport_hi = 65535;
	s->rule.dport_lo = s->rule.dport_hi = 53;
	s->rule.userdata = 7;
	s->acl = nfp_acl_create(ctx, &s->rule, 1);
	return s->acl < 0 ? s->acl : 0;
}

static void acl_process(nfp_ctx *ctx, void *state, struct nfp_batch *b)
{
	struct acl_state *s = state;
	for (uint32_t i = 0; i < b->count; i++) {
		const uint8_t *ip = b->pkts[i].data + 14;
		struct nfp_acl_key *k = &s->keys[i];
		memset(k, 0, sizeof(*k));
		k->proto = ip[9];
		memcpy(&k->src, ip + 12, 4);
		memcpy(&k->dst, ip + 16, 4);
		memcpy(&k->sport, ip + 20, 2);
		memcpy(&k->dport, ip + 22, 2);
	}
	int32_t handle = strcmp(s->use, "bad-handle") == 0 ? s->acl + 5 : s->acl;
	uint32_t n = strcmp(s->use, "bad-count") == 0 ? NFP_NF_MAX_BATCH + 1 : b->count;
	nfp_acl_classify(ctx, handle, s->keys, n, s->results);
	for (uint32_t i = 0; i < b->count; i++) {
		b->verdicts[i] = s->results[i] == 7 ? NFP_VERDICT_PASS : NFP_VERDICT_DROP;
		b->drop_reasons[i] = 0;
	}
}

const struct nfp_nf_descriptor nfp_nf_v1 = {
	.manifest = {
		.abi_version = NFP_NF_ABI_VERSION,
		.name = "acl",
		.version = "1.0.0",
		.reads = NFP_REGION_L2 | NFP_REGION_L3 | NFP_REGION_L4,
		.state_bytes = sizeof(struct acl_state),
	},
	.init = acl_init,
	.process = acl_process,
};
