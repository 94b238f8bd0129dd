/*
 * ids: Aho-Corasick multi-pattern matching over the first `inspectBytes` of the payload. The
 * automaton is compiled at init into a full DFA (one table lookup per byte); a match yields the
 * dynamic verdict `alert`, everything else passes.
 *
 * Counters: 0 alerts, 1 bytes inspected.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "builtin.h"
#include "config.h"
#include "nf_util.h"

#define IDS_MAX_STATES 4096u
#define IDS_MAX_PATTERN 256u

struct ids_state {
	uint32_t n_states;
	uint32_t inspect;
	uint16_t delta[IDS_MAX_STATES][256]; /* DFA transitions */
	uint16_t fail[IDS_MAX_STATES];
	uint8_t match[IDS_MAX_STATES]; /* a pattern ends here (directly or through a failure link) */
	uint16_t queue[IDS_MAX_STATES];
};

/* Adds one pattern to the trie (delta holds trie edges, 0 = none, until ids_compile). */
static int ids_add(struct ids_state *s, const uint8_t *p, uint32_t n)
{
	uint32_t st = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (s->delta[st][p[i]] == 0) {
			if (s->n_states >= IDS_MAX_STATES)
				return -ENOSPC;
			s->delta[st][p[i]] = (uint16_t)s->n_states++;
		}
		st = s->delta[st][p[i]];
	}
	s->match[st] = 1;
	return 0;
}

/* Breadth-first: failure links, inherited matches, and missing edges filled in as DFA moves. */
static void ids_compile(struct ids_state *s)
{
	uint32_t head = 0, tail = 0;
	for (uint32_t c = 0; c < 256; c++) {
		uint16_t t = s->delta[0][c];
		if (t != 0) {
			s->fail[t] = 0;
			s->queue[tail++] = t;
		}
	}
	while (head < tail) {
		uint16_t st = s->queue[head++];
		s->match[st] |= s->match[s->fail[st]];
		for (uint32_t c = 0; c < 256; c++) {
			uint16_t t = s->delta[st][c];
			if (t != 0) {
				s->fail[t] = s->delta[s->fail[st]][c];
				s->queue[tail++] = t;
			} else {
				s->delta[st][c] = s->delta[s->fail[st]][c];
			}
		}
	}
}

static int ids_init(nfp_ctx *ctx, void *state, const char *config, uint32_t len)
{
	struct ids_state *s = state;
	struct nfp_cfg c;
	int rc = nfp_cfg_parse(&c, ctx, "ids", config, len);
	if (rc < 0)
		return rc;
	s->n_states = 1;
	if ((rc = nfp_cfg_uint(&c, 0, "inspectBytes", 0, 65535, &s->inspect)) < 0)
		goto out;
	int arr = nfp_json_get(&c.json, 0, "patterns");
	if (arr < 0 || c.json.toks[arr].type != NFP_JSON_ARRAY) {
		rc = nfp_cfg_error(&c, "patterns", "expected an array of strings");
		goto out;
	}
	for (uint32_t i = 0; i < c.json.toks[arr].size; i++) {
		char buf[IDS_MAX_PATTERN + 1];
		int n = nfp_json_string(&c.json, nfp_json_at(&c.json, arr, i), buf, sizeof(buf));
		if (n <= 0) {
			rc = nfp_cfg_error(&c, "patterns[]", "expected a non-empty string of at most 256 bytes");
			goto out;
		}
		if (ids_add(s, (const uint8_t *)buf, (uint32_t)n) < 0) {
			rc = nfp_cfg_error(&c, "patterns", "too many pattern bytes (automaton limit 4096 states)");
			goto out;
		}
	}
	ids_compile(s);
out:
	nfp_cfg_free(&c);
	return rc;
}

static void ids_process(nfp_ctx *ctx, void *state, struct nfp_batch *b)
{
	const struct ids_state *s = state;
	uint64_t inspected = 0, alerts = 0;
	for (uint32_t i = 0; i < b->count; i++) {
		struct nfp_ipv4_view v;
		int f = nfp_ipv4_view(&b->pkts[i], &v);
		if (f != NFP_PKT_OK) {
			nfp_drop(b, i, (uint32_t)f);
			continue;
		}
		uint32_t n = v.payload_len < s->inspect ? v.payload_len : s->inspect;
		uint32_t st = 0;
		uint8_t hit = 0;
		for (uint32_t k = 0; k < n && !hit; k++) {
			st = s->delta[st][v.payload[k]];
			hit = s->match[st];
		}
		inspected += n;
		alerts += hit;
		b->verdicts[i] = hit ? NFP_VERDICT_BRANCH + 0 : NFP_VERDICT_PASS;
	}
	nfp_counter_add(ctx, 0, alerts);
	nfp_counter_add(ctx, 1, inspected);
}

NFP_BUILTIN_DESCRIPTOR(ids) = {
	.manifest = {
		.abi_version = NFP_NF_ABI_VERSION,
		.name = "ids",
		.version = "1.0.0",
		.reads = NFP_REGION_L2 | NFP_REGION_L3 | NFP_REGION_L4 | NFP_REGION_PAYLOAD,
		.writes = 0,
		.state_bytes = sizeof(struct ids_state),
		.n_verdicts = 1,
		.verdicts = {"alert"},
		.n_drop_reasons = 5,
		.drop_reasons = {NFP_COMMON_DROP_REASONS},
	},
	.init = ids_init,
	.process = ids_process,
	.fini = NULL,
};
