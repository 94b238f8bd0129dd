// The backend registry and the built-in `none` backend: trusted NFs called directly, their state
// and tables in DPDK memory that the runtime allocates per domain.
#include "domain.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>

#include "services.h"

static const struct nfp_domain_ops *g_backends[NFP_DOMAIN_MAX_BACKENDS] = {&nfp_domain_none_ops};
static uint32_t g_n_backends = 1;
static const struct nfp_native_loader *g_native_loader = NULL;

void nfp_domain_set_native_loader(const struct nfp_native_loader *loader) { g_native_loader = loader; }

int nfp_domain_backend_register(const struct nfp_domain_ops *ops)
{
	for (uint32_t i = 0; i < g_n_backends; i++)
		if (strcmp(g_backends[i]->name, ops->name) == 0)
			return g_backends[i] == ops ? 0 : -EEXIST;
	if (g_n_backends >= NFP_DOMAIN_MAX_BACKENDS)
		return -ENOSPC;
	g_backends[g_n_backends++] = ops;
	return 0;
}

const struct nfp_domain_ops *nfp_domain_backend_find(const char *name)
{
	for (uint32_t i = 0; i < g_n_backends; i++)
		if (strcmp(g_backends[i]->name, name) == 0)
			return g_backends[i];
	return NULL;
}

uint32_t nfp_domain_backend_names(const char **out, uint32_t max)
{
	uint32_t n = 0;
	for (; n < g_n_backends && n < max; n++)
		out[n] = g_backends[n]->name;
	return n;
}

namespace {

struct none_slot {
	const struct nfp_nf_descriptor *desc; // NULL when the slot is free
	struct nfp_ctx ctx;
	void *state;
	void *module; // a native module's handle (nfp_native_loader), or NULL for a built-in
};

struct none_domain {
	struct nfp_domain base;
	uint32_t n_slots;
	struct none_slot slots[NFP_DOMAIN_MAX_NFS];
};

struct nfp_domain *none_create(const struct nfp_domain_params *params, char *err, size_t errlen)
{
	auto *d = (struct none_domain *)rte_zmalloc_socket("nfp_domain_none", sizeof(struct none_domain), 64,
							   params->socket_id);
	if (d == NULL) {
		snprintf(err, errlen, "cannot allocate a domain for tenant %u", params->tenant);
		return NULL;
	}
	d->base.ops = &nfp_domain_none_ops;
	d->base.params = *params;
	d->base.priv = d;
	return &d->base;
}

int none_load(struct nfp_domain *base, const struct nfp_nf_descriptor *desc, const char *artifact,
	      const char *config, uint32_t config_len, uint32_t *nf_slot, char *err, size_t errlen)
{
	auto *d = (struct none_domain *)base->priv;
	void *module = NULL;
	if (desc == NULL && artifact != NULL && g_native_loader != NULL &&
	    (desc = g_native_loader->open(artifact, &module, err, errlen)) == NULL)
		return -EINVAL;
	if (desc == NULL) {
		snprintf(err, errlen, "the `none` backend of this build runs built-in NFs only (artifact %s needs sfi/mpk/process)",
			 artifact != NULL ? artifact : "?");
		return -ENOTSUP;
	}
	auto fail = [&](int rc) {
		if (module != NULL)
			g_native_loader->close(module);
		return rc;
	};
	if (desc->manifest.abi_version != NFP_NF_ABI_VERSION) {
		snprintf(err, errlen, "%s: NF ABI version %u, runtime speaks %u", desc->manifest.name,
			 desc->manifest.abi_version, NFP_NF_ABI_VERSION);
		return fail(-EINVAL);
	}
	if (d->n_slots >= NFP_DOMAIN_MAX_NFS) {
		snprintf(err, errlen, "tenant %u has more than %u NFs on one worker", base->params.tenant,
			 NFP_DOMAIN_MAX_NFS);
		return fail(-ENOSPC);
	}
	struct none_slot *s = &d->slots[d->n_slots];
	char name[64];
	snprintf(name, sizeof(name), "t%u.%s", base->params.tenant, desc->manifest.name);
	int rc = nfp_ctx_init(&s->ctx, name, &desc->manifest, base->params.socket_id, NULL, err, errlen);
	if (rc < 0)
		return fail(rc);
	s->state = NULL;
	if (desc->manifest.state_bytes > 0) {
		s->state = rte_zmalloc_socket("nfp_nf_state", desc->manifest.state_bytes, 64,
					      base->params.socket_id);
		if (s->state == NULL) {
			nfp_ctx_fini(&s->ctx);
			snprintf(err, errlen, "%s: cannot allocate %u bytes of state", desc->manifest.name,
				 desc->manifest.state_bytes);
			return fail(-ENOMEM);
		}
	}
	rc = desc->init != NULL ? desc->init(&s->ctx, s->state, config, config_len) : 0;
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", desc->manifest.name,
			 s->ctx.last_error[0] ? s->ctx.last_error : "init failed");
		if (desc->fini != NULL)
			desc->fini(&s->ctx, s->state);
		rte_free(s->state);
		nfp_ctx_fini(&s->ctx);
		return fail(rc);
	}
	s->desc = desc;
	s->module = module;
	*nf_slot = d->n_slots++;
	return 0;
}

const struct nfp_nf_manifest *none_manifest(struct nfp_domain *base, uint32_t slot)
{
	auto *d = (struct none_domain *)base->priv;
	if (slot >= d->n_slots || d->slots[slot].desc == NULL)
		return NULL;
	return &d->slots[slot].desc->manifest;
}

int none_process(struct nfp_domain *base, uint32_t slot, struct nfp_batch *batch, uint64_t now_ns)
{
	struct none_slot *s = &((struct none_domain *)base->priv)->slots[slot];
	s->ctx.now_ns = now_ns;
	s->desc->process(&s->ctx, s->state, batch);
	return 0;
}

void none_counters(struct nfp_domain *base, uint32_t slot, uint64_t *out)
{
	auto *d = (struct none_domain *)base->priv;
	if (slot >= d->n_slots)
		return;
	memcpy(out, d->slots[slot].ctx.counters, sizeof(d->slots[slot].ctx.counters));
}

void none_unload(struct nfp_domain *base, uint32_t slot)
{
	auto *d = (struct none_domain *)base->priv;
	if (slot >= d->n_slots || d->slots[slot].desc == NULL)
		return;
	struct none_slot *s = &d->slots[slot];
	if (s->desc->fini != NULL)
		s->desc->fini(&s->ctx, s->state);
	rte_free(s->state);
	nfp_ctx_fini(&s->ctx);
	if (s->module != NULL)
		g_native_loader->close(s->module);
	s->desc = NULL;
	s->state = NULL;
	s->module = NULL;
}

void none_destroy(struct nfp_domain *base)
{
	auto *d = (struct none_domain *)base->priv;
	for (uint32_t i = 0; i < d->n_slots; i++)
		none_unload(base, i);
	rte_free(d);
}

} // namespace

extern "C" const struct nfp_domain_ops nfp_domain_none_ops = {
	"none", none_create, none_load, none_manifest, none_process, none_counters, none_unload, none_destroy, NULL, NULL, NULL, NULL,
};
