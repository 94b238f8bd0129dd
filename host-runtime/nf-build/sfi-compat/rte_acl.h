/*
 * rte_acl for NFs built by nf-build (sfi sandboxes and native modules), which never reach DPDK
 * memory: the same types and calls (the subset the built-in firewall uses), classifying by a
 * first-match scan over the rules in priority order. Same semantics as DPDK's: rule values in host order, input bytes in network
 * order, field types BITMASK, MASK (prefix length) and RANGE. Slower than DPDK's trie for large
 * rule sets; nf-build puts this folder on the include path of every module it builds.
 */
#ifndef NFP_SFI_COMPAT_RTE_ACL_H
#define NFP_SFI_COMPAT_RTE_ACL_H

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SOCKET_ID_ANY -1
#define RTE_ACL_NAMESIZE 32
#define RTE_ACL_MAX_FIELDS 64
#define RTE_ACL_MAX_CATEGORIES 16

enum { RTE_ACL_FIELD_TYPE_MASK = 0, RTE_ACL_FIELD_TYPE_RANGE, RTE_ACL_FIELD_TYPE_BITMASK };

union rte_acl_field_types {
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
};

struct rte_acl_field {
	union rte_acl_field_types value;
	union rte_acl_field_types mask_range;
};

struct rte_acl_field_def {
	uint8_t type, size, field_index, input_index;
	uint32_t offset;
};

struct rte_acl_rule_data {
	uint32_t category_mask;
	int32_t priority;
	uint32_t userdata;
};

#define RTE_ACL_RULE_DEF(name, fld_num)                                                                     \
	struct name {                                                                                        \
		struct rte_acl_rule_data data;                                                               \
		struct rte_acl_field field[fld_num];                                                         \
	}

RTE_ACL_RULE_DEF(rte_acl_rule, );

#define RTE_ACL_RULE_SZ(fld_num) (sizeof(struct rte_acl_rule) + sizeof(struct rte_acl_field) * (fld_num))

struct rte_acl_param {
	const char *name;
	int socket_id;
	uint32_t rule_size;
	uint32_t max_rule_num;
};

struct rte_acl_config {
	uint32_t num_categories;
	uint32_t num_fields;
	struct rte_acl_field_def defs[RTE_ACL_MAX_FIELDS];
	size_t max_size;
};

struct rte_acl_ctx {
	uint32_t rule_size, max_rules, n_rules, n_fields;
	struct rte_acl_field_def defs[RTE_ACL_MAX_FIELDS];
	uint8_t *rules;
};

static inline struct rte_acl_ctx *rte_acl_create(const struct rte_acl_param *p)
{
	struct rte_acl_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->rule_size = p->rule_size;
	c->max_rules = p->max_rule_num;
	c->rules = calloc(p->max_rule_num ? p->max_rule_num : 1, p->rule_size);
	if (c->rules == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

static inline void rte_acl_free(struct rte_acl_ctx *c)
{
	if (c != NULL)
		free(c->rules);
	free(c);
}

static inline int rte_acl_add_rules(struct rte_acl_ctx *c, const struct rte_acl_rule *rules, uint32_t num)
{
	if (c->n_rules + num > c->max_rules)
		return -ENOMEM;
	memcpy(c->rules + (size_t)c->n_rules * c->rule_size, rules, (size_t)num * c->rule_size);
	c->n_rules += num;
	return 0;
}

/* Sorts by descending priority (stable), so the scan's first match is the best one. */
static inline int rte_acl_build(struct rte_acl_ctx *c, const struct rte_acl_config *cfg)
{
	if (cfg->num_fields > RTE_ACL_MAX_FIELDS)
		return -EINVAL;
	c->n_fields = cfg->num_fields;
	memcpy(c->defs, cfg->defs, sizeof(c->defs[0]) * cfg->num_fields);
	uint8_t tmp[1024];
	if (c->rule_size > sizeof(tmp))
		return -EINVAL;
	for (uint32_t i = 1; i < c->n_rules; i++)
		for (uint32_t j = i; j > 0; j--) {
			struct rte_acl_rule *a = (struct rte_acl_rule *)(c->rules + (size_t)(j - 1) * c->rule_size);
			struct rte_acl_rule *b = (struct rte_acl_rule *)(c->rules + (size_t)j * c->rule_size);
			if (a->data.priority >= b->data.priority)
				break;
			memcpy(tmp, a, c->rule_size);
			memcpy(a, b, c->rule_size);
			memcpy(b, tmp, c->rule_size);
		}
	return 0;
}

static inline uint64_t rte_acl_compat_input(const uint8_t *p, uint32_t size)
{
	uint64_t v = 0;
	for (uint32_t i = 0; i < size; i++)
		v = v << 8 | p[i];
	return v;
}

static inline int rte_acl_compat_match(const struct rte_acl_ctx *c, const struct rte_acl_rule *r, const uint8_t *in)
{
	for (uint32_t f = 0; f < c->n_fields; f++) {
		const struct rte_acl_field_def *d = &c->defs[f];
		const struct rte_acl_field *rf = &r->field[d->field_index];
		uint64_t x = rte_acl_compat_input(in + d->offset, d->size);
		uint64_t v = d->size == 1 ? rf->value.u8 : d->size == 2 ? rf->value.u16 : d->size == 4 ? rf->value.u32 : rf->value.u64;
		uint64_t m = d->size == 1 ? rf->mask_range.u8 : d->size == 2 ? rf->mask_range.u16 : d->size == 4 ? rf->mask_range.u32 : rf->mask_range.u64;
		if (d->type == RTE_ACL_FIELD_TYPE_BITMASK) {
			if ((x & m) != (v & m))
				return 0;
		} else if (d->type == RTE_ACL_FIELD_TYPE_RANGE) {
			if (x < v || x > m)
				return 0;
		} else if (m != 0) {
			uint32_t bits = d->size * 8u;
			uint64_t mask = m >= bits ? (bits == 64 ? ~0ull : ((1ull << bits) - 1)) : (((1ull << m) - 1) << (bits - m));
			if ((x & mask) != (v & mask))
				return 0;
		}
	}
	return 1;
}

static inline int rte_acl_classify(const struct rte_acl_ctx *c, const uint8_t **data, uint32_t *results, uint32_t num,
				   uint32_t categories)
{
	for (uint32_t i = 0; i < num; i++) {
		results[i] = 0;
		for (uint32_t k = 0; k < c->n_rules; k++) {
			const struct rte_acl_rule *r = (const struct rte_acl_rule *)(c->rules + (size_t)k * c->rule_size);
			if ((r->data.category_mask & 1u) && rte_acl_compat_match(c, r, data[i])) {
				results[i] = r->data.userdata;
				break;
			}
		}
	}
	return 0;
}

#endif
