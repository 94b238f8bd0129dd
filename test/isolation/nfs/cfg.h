/* Tiny config readers for the test NFs: `"key": <integer>` and `"key": "<word>"` in flat JSON. */
#ifndef NFP_TEST_CFG_H
#define NFP_TEST_CFG_H

#include <stdint.h>
#include <string.h>

static const char *cfg_find(const char *json, const char *key)
{
	char pat[40];
	size_t n = strlen(key);
	if (n + 3 > sizeof(pat))
		return NULL;
	pat[0] = '"';
	memcpy(pat + 1, key, n);
	pat[n + 1] = '"';
	pat[n + 2] = '\0';
	const char *p = strstr(json, pat);
	if (p == NULL)
		return NULL;
	p += n + 2;
	while (*p == ' ' || *p == ':')
		p++;
	return p;
}

static int64_t cfg_int(const char *json, const char *key, int64_t dflt)
{
	const char *p = cfg_find(json, key);
	if (p == NULL)
		return dflt;
	int neg = *p == '-';
	p += neg;
	int64_t v = 0;
	while (*p >= '0' && *p <= '9')
		v = v * 10 + (*p++ - '0');
	return neg ? -v : v;
}

static int cfg_word(const char *json, const char *key, char *out, size_t cap)
{
	const char *p = cfg_find(json, key);
	if (p == NULL || *p != '"' || cap == 0)
		return -1;
	p++;
	size_t i = 0;
	while (*p && *p != '"' && i + 1 < cap)
		out[i++] = *p++;
	out[i] = '\0';
	return 0;
}

#endif
