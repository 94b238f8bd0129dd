/*
 * A small JSON reader for NF configs, used in `init` only (never per packet). Parsing fills a
 * caller-provided token array in document order; each token records where its subtree ends so
 * lookups skip whole values. Strings are decoded on demand.
 */
#ifndef NFP_NFS_JSON_H
#define NFP_NFS_JSON_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum nfp_json_type { NFP_JSON_NULL, NFP_JSON_BOOL, NFP_JSON_NUMBER, NFP_JSON_STRING, NFP_JSON_ARRAY, NFP_JSON_OBJECT };

struct nfp_json_tok {
	uint8_t type;
	uint32_t start, end; /* byte range in the text (strings: inside the quotes) */
	uint32_t size;       /* arrays: elements; objects: members */
	uint32_t next;       /* index of the token after this value's subtree */
};

struct nfp_json {
	const char *text;
	struct nfp_json_tok *toks;
	uint32_t n, cap;
	char error[96];
};

/* Parses `text` (len bytes). Returns 0, or -1 with `error` set. Token 0 is the root value. */
int nfp_json_parse(struct nfp_json *j, const char *text, uint32_t len, struct nfp_json_tok *toks, uint32_t cap);

/* Member `key` of object token `obj`; -1 when absent or `obj` is not an object. */
int nfp_json_get(const struct nfp_json *j, int obj, const char *key);

/* Element `i` of array token `arr`; -1 when out of range. */
int nfp_json_at(const struct nfp_json *j, int arr, uint32_t i);

/* Reads a number; returns 0, or -1 when `tok` is absent or not a number. */
int nfp_json_number(const struct nfp_json *j, int tok, double *out);

/* Reads a boolean; returns 0 or -1. */
int nfp_json_bool(const struct nfp_json *j, int tok, int *out);

/* Decodes a string into `buf` (NUL-terminated); returns its length or -1 (absent, not a string, too long). */
int nfp_json_string(const struct nfp_json *j, int tok, char *buf, uint32_t cap);

/* Parses dotted-quad IPv4 text into a host-order address; returns 0 or -1. */
int nfp_parse_ipv4(const char *s, uint32_t *out);

/* Parses "aa:bb:cc:dd:ee:ff"; returns 0 or -1. */
int nfp_parse_mac(const char *s, uint8_t out[6]);

#ifdef __cplusplus
}
#endif

#endif
