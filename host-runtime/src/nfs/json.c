/* A small recursive-descent JSON reader for NF configs (init time only). */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	struct nfp_json *j;
	uint32_t pos, len, depth;
};

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->j->text[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static int fail(struct parser *p, const char *what)
{
	snprintf(p->j->error, sizeof(p->j->error), "config JSON: %s at byte %u", what, p->pos);
	return -1;
}

static int new_tok(struct parser *p, uint8_t type)
{
	if (p->j->n >= p->j->cap)
		return fail(p, "too many values");
	int t = (int)p->j->n++;
	struct nfp_json_tok *k = &p->j->toks[t];
	k->type = type;
	k->start = p->pos;
	k->end = p->pos;
	k->size = 0;
	k->next = 0;
	return t;
}

static int parse_value(struct parser *p);

static int parse_string(struct parser *p)
{
	int t = new_tok(p, NFP_JSON_STRING);
	if (t < 0)
		return -1;
	p->pos++; /* opening quote */
	p->j->toks[t].start = p->pos;
	while (p->pos < p->len) {
		char c = p->j->text[p->pos];
		if (c == '"') {
			p->j->toks[t].end = p->pos++;
			p->j->toks[t].next = p->j->n;
			return t;
		}
		if ((unsigned char)c < 0x20)
			return fail(p, "control character in string");
		p->pos += c == '\\' ? 2 : 1;
	}
	return fail(p, "unterminated string");
}

static int parse_container(struct parser *p, int object)
{
	if (++p->depth > 32)
		return fail(p, "nested too deeply");
	int t = new_tok(p, object ? NFP_JSON_OBJECT : NFP_JSON_ARRAY);
	if (t < 0)
		return -1;
	char close = object ? '}' : ']';
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->j->text[p->pos] == close) {
		p->pos++;
	} else {
		for (;;) {
			skip_ws(p);
			if (object) {
				if (p->pos >= p->len || p->j->text[p->pos] != '"')
					return fail(p, "expected a member name");
				if (parse_string(p) < 0)
					return -1;
				skip_ws(p);
				if (p->pos >= p->len || p->j->text[p->pos] != ':')
					return fail(p, "expected ':'");
				p->pos++;
			}
			if (parse_value(p) < 0)
				return -1;
			p->j->toks[t].size++;
			skip_ws(p);
			if (p->pos < p->len && p->j->text[p->pos] == ',') {
				p->pos++;
				continue;
			}
			if (p->pos < p->len && p->j->text[p->pos] == close) {
				p->pos++;
				break;
			}
			return fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
		}
	}
	p->j->toks[t].end = p->pos;
	p->j->toks[t].next = p->j->n;
	p->depth--;
	return t;
}

static int parse_literal(struct parser *p, const char *word, uint8_t type)
{
	size_t n = strlen(word);
	if (p->len - p->pos < n || memcmp(p->j->text + p->pos, word, n) != 0)
		return fail(p, "unexpected character");
	int t = new_tok(p, type);
	if (t < 0)
		return -1;
	p->pos += (uint32_t)n;
	p->j->toks[t].end = p->pos;
	p->j->toks[t].next = p->j->n;
	return t;
}

static int parse_number(struct parser *p)
{
	int t = new_tok(p, NFP_JSON_NUMBER);
	if (t < 0)
		return -1;
	while (p->pos < p->len && strchr("+-0123456789.eE", p->j->text[p->pos]) != NULL)
		p->pos++;
	if (p->pos == p->j->toks[t].start)
		return fail(p, "unexpected character");
	p->j->toks[t].end = p->pos;
	p->j->toks[t].next = p->j->n;
	return t;
}

static int parse_value(struct parser *p)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, "unexpected end");
	char c = p->j->text[p->pos];
	switch (c) {
	case '{':
		return parse_container(p, 1);
	case '[':
		return parse_container(p, 0);
	case '"':
		return parse_string(p);
	case 't':
		return parse_literal(p, "true", NFP_JSON_BOOL);
	case 'f':
		return parse_literal(p, "false", NFP_JSON_BOOL);
	case 'n':
		return parse_literal(p, "null", NFP_JSON_NULL);
	default:
		return parse_number(p);
	}
}

int nfp_json_parse(struct nfp_json *j, const char *text, uint32_t len, struct nfp_json_tok *toks, uint32_t cap)
{
	j->text = text;
	j->toks = toks;
	j->n = 0;
	j->cap = cap;
	j->error[0] = '\0';
	struct parser p = {j, 0, len, 0};
	while (len > 0 && text[len - 1] == '\0')
		p.len = --len;
	if (parse_value(&p) < 0)
		return -1;
	skip_ws(&p);
	if (p.pos != p.len)
		return fail(&p, "trailing characters");
	return 0;
}

static int key_equals(const struct nfp_json *j, const struct nfp_json_tok *k, const char *key)
{
	size_t n = strlen(key);
	return k->end - k->start == n && memcmp(j->text + k->start, key, n) == 0;
}

int nfp_json_get(const struct nfp_json *j, int obj, const char *key)
{
	if (obj < 0 || (uint32_t)obj >= j->n || j->toks[obj].type != NFP_JSON_OBJECT)
		return -1;
	uint32_t t = (uint32_t)obj + 1;
	for (uint32_t m = 0; m < j->toks[obj].size; m++) {
		uint32_t value = t + 1;
		if (key_equals(j, &j->toks[t], key))
			return (int)value;
		t = j->toks[value].next;
	}
	return -1;
}

int nfp_json_at(const struct nfp_json *j, int arr, uint32_t i)
{
	if (arr < 0 || (uint32_t)arr >= j->n || j->toks[arr].type != NFP_JSON_ARRAY || i >= j->toks[arr].size)
		return -1;
	uint32_t t = (uint32_t)arr + 1;
	while (i-- > 0)
		t = j->toks[t].next;
	return (int)t;
}

int nfp_json_number(const struct nfp_json *j, int tok, double *out)
{
	if (tok < 0 || j->toks[tok].type != NFP_JSON_NUMBER)
		return -1;
	char buf[40];
	uint32_t n = j->toks[tok].end - j->toks[tok].start;
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, j->text + j->toks[tok].start, n);
	buf[n] = '\0';
	char *end = NULL;
	*out = strtod(buf, &end);
	return end == buf + n ? 0 : -1;
}

int nfp_json_bool(const struct nfp_json *j, int tok, int *out)
{
	if (tok < 0 || j->toks[tok].type != NFP_JSON_BOOL)
		return -1;
	*out = j->text[j->toks[tok].start] == 't';
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int nfp_json_string(const struct nfp_json *j, int tok, char *buf, uint32_t cap)
{
	if (tok < 0 || j->toks[tok].type != NFP_JSON_STRING || cap == 0)
		return -1;
	uint32_t o = 0;
	for (uint32_t i = j->toks[tok].start; i < j->toks[tok].end; i++) {
		char c = j->text[i];
		if (c == '\\') {
			char e = j->text[++i];
			switch (e) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u': {
				int v = 0;
				for (int k = 1; k <= 4; k++) {
					int d = i + k < j->toks[tok].end ? hex_digit(j->text[i + k]) : -1;
					if (d < 0)
						return -1;
					v = v * 16 + d;
				}
				if (v > 0xff)
					return -1; /* patterns and addresses are bytes */
				c = (char)v;
				i += 4;
				break;
			}
			default: c = e; break;
			}
		}
		if (o + 1 >= cap)
			return -1;
		buf[o++] = c;
	}
	buf[o] = '\0';
	return (int)o;
}

int nfp_parse_ipv4(const char *s, uint32_t *out)
{
	uint32_t addr = 0;
	for (int part = 0; part < 4; part++) {
		if (*s < '0' || *s > '9')
			return -1;
		uint32_t v = 0;
		int digits = 0;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (uint32_t)(*s++ - '0');
			digits++;
		}
		if (v > 255 || digits > 3)
			return -1;
		addr = addr << 8 | v;
		if (part < 3 && *s++ != '.')
			return -1;
	}
	if (*s != '\0')
		return -1;
	*out = addr;
	return 0;
}

int nfp_parse_mac(const char *s, uint8_t out[6])
{
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[0]), lo = hex_digit(s[1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i < 5 && *s++ != ':')
			return -1;
	}
	return *s == '\0' ? 0 : -1;
}
