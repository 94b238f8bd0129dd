/*
 * tagger: an example user NF (type `custom`, manifest tagger.manifest.yaml) for NF ABI v1.
 *
 * Packets whose payload starts with "SUSPICIOUS" get the dynamic verdict `suspicious` (a branch
 * the graph can route, e.g. to a quarantine); every other IPv4 packet is marked DSCP CS1 (8),
 * with the header checksum updated incrementally (RFC 1624), and passes.
 * No allocation, no state, one verdict per packet: the runtime forwards or frees every packet.
 */
#include <stdint.h>
#include <string.h>

#include "nfp/nf.h"

static const char MARK[] = "SUSPICIOUS";
#define MARK_LEN (sizeof(MARK) - 1)
#define DSCP_CS1 8u

static int tagger_init(nfp_ctx *ctx, void *state, const char *config, uint32_t config_len)
{
	(void)ctx;
	(void)state;
	(void)config;
	(void)config_len;
	return 0;
}

/* Sets the DSCP of an IPv4 header and patches its checksum for the changed 16-bit word. */
static void set_dscp_v4(uint8_t *ip, uint8_t dscp)
{
	uint16_t old_word = (uint16_t)((ip[0] << 8) | ip[1]);
	ip[1] = (uint8_t)((dscp << 2) | (ip[1] & 0x3u));
	uint16_t new_word = (uint16_t)((ip[0] << 8) | ip[1]);
	uint32_t sum = (uint16_t)~((ip[10] << 8) | ip[11]);
	sum += (uint16_t)~old_word;
	sum += new_word;
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	uint16_t check = (uint16_t)~sum;
	ip[10] = (uint8_t)(check >> 8);
	ip[11] = (uint8_t)(check & 0xffu);
}

static void tagger_process(nfp_ctx *ctx, void *state, struct nfp_batch *batch)
{
	(void)ctx;
	(void)state;
	for (uint32_t i = 0; i < batch->count; i++) {
		const struct nfp_pkt *p = &batch->pkts[i];
		batch->verdicts[i] = NFP_VERDICT_PASS;
		if (p->payload_off != NFP_OFF_NONE && p->len >= p->payload_off + MARK_LEN &&
		    memcmp(p->data + p->payload_off, MARK, MARK_LEN) == 0) {
			batch->verdicts[i] = NFP_VERDICT_BRANCH + 0; /* "suspicious" */
			continue;
		}
		/* IPv4 only: version nibble 4 and a full 20-byte header present. */
		if (p->l3_off != NFP_OFF_NONE && p->len >= p->l3_off + 20u && (p->data[p->l3_off] >> 4) == 4)
			set_dscp_v4(p->data + p->l3_off, DSCP_CS1);
	}
}

const struct nfp_nf_descriptor NFP_NF_SYMBOL = {
	.manifest = {
		.abi_version = NFP_NF_ABI_VERSION,
		.name = "tagger",
		.version = "1.0.0",
		.reads = NFP_REGION_L3 | NFP_REGION_PAYLOAD,
		.writes = NFP_REGION_L3,
		.state_bytes = 0,
		.n_tables = 0,
		.n_verdicts = 1,
		.verdicts = { "suspicious" },
		.n_drop_reasons = 0,
	},
	.init = tagger_init,
	.process = tagger_process,
	.fini = 0,
};
