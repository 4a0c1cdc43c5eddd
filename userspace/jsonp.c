// SPDX-License-Identifier: GPL-2.0
/* JSON reader, see jsonp.h. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "jsonp.h"

#define JV_MAX_DEPTH	64
#define JV_MAX_FILE	(64u << 20)

struct parser {
	const char *s, *end, *p;
	char *err;
	size_t errlen;
	bool failed;
	int depth;
};

static void fail(struct parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct parser *ps, const char *fmt, ...)
{
	int line = 1, col = 1;
	size_t off;
	va_list ap;

	if (ps->failed)
		return;
	ps->failed = true;
	for (const char *q = ps->s; q < ps->p; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	off = snprintf(ps->err, ps->errlen, "line %d, column %d: ", line, col);
	if (off >= ps->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(ps->err + off, ps->errlen - off, fmt, ap);
	va_end(ap);
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
				   *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static bool oom(struct parser *ps)
{
	fail(ps, "out of memory");
	return false;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool read_hex4(struct parser *ps, unsigned int *out)
{
	unsigned int v = 0;

	if (ps->end - ps->p < 4) {
		fail(ps, "truncated \\u escape");
		return false;
	}
	for (int i = 0; i < 4; i++) {
		int h = hexval(ps->p[i]);

		if (h < 0) {
			fail(ps, "bad \\u escape");
			return false;
		}
		v = v << 4 | h;
	}
	ps->p += 4;
	*out = v;
	return true;
}

static size_t put_utf8(char *d, unsigned int cp)
{
	if (cp < 0x80) {
		d[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = 0xc0 | cp >> 6;
		d[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = 0xe0 | cp >> 12;
		d[1] = 0x80 | ((cp >> 6) & 0x3f);
		d[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	d[0] = 0xf0 | cp >> 18;
	d[1] = 0x80 | ((cp >> 12) & 0x3f);
	d[2] = 0x80 | ((cp >> 6) & 0x3f);
	d[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* At the opening quote; the string (NUL-terminated, no NUL inside) in *out. */
static bool parse_string(struct parser *ps, char **out)
{
	const char *q;
	char *buf, *d;

	ps->p++;
	/* the decoded string is never longer than the raw one */
	for (q = ps->p; q < ps->end && *q != '"'; q++)
		if (*q == '\\' && q + 1 < ps->end)
			q++;
	if (q >= ps->end) {
		fail(ps, "unterminated string");
		return false;
	}
	buf = malloc(q - ps->p + 1);
	if (!buf)
		return oom(ps);
	d = buf;
	while (*ps->p != '"') {
		unsigned char c = *ps->p;

		if (c < 0x20) {
			fail(ps, "control character in a string");
			goto bad;
		}
		if (c != '\\') {
			*d++ = c;
			ps->p++;
			continue;
		}
		ps->p++;
		switch (*ps->p++) {
		case '"': *d++ = '"'; break;
		case '\\': *d++ = '\\'; break;
		case '/': *d++ = '/'; break;
		case 'b': *d++ = '\b'; break;
		case 'f': *d++ = '\f'; break;
		case 'n': *d++ = '\n'; break;
		case 'r': *d++ = '\r'; break;
		case 't': *d++ = '\t'; break;
		case 'u': {
			unsigned int cp, lo;

			if (!read_hex4(ps, &cp))
				goto bad;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (ps->end - ps->p < 6 || ps->p[0] != '\\' ||
				    ps->p[1] != 'u') {
					fail(ps, "unpaired surrogate in \\u escape");
					goto bad;
				}
				ps->p += 2;
				if (!read_hex4(ps, &lo))
					goto bad;
				if (lo < 0xdc00 || lo >= 0xe000) {
					fail(ps, "unpaired surrogate in \\u escape");
					goto bad;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				fail(ps, "unpaired surrogate in \\u escape");
				goto bad;
			}
			if (cp == 0) {
				fail(ps, "\\u0000 in a string");
				goto bad;
			}
			d += put_utf8(d, cp);
			break;
		}
		default:
			ps->p--;
			fail(ps, "bad escape in a string");
			goto bad;
		}
	}
	ps->p++;
	*d = '\0';
	*out = buf;
	return true;
bad:
	free(buf);
	return false;
}

static bool parse_number(struct parser *ps, struct jv *v)
{
	const char *q = ps->p;
	char buf[64];

	if (q < ps->end && *q == '-')
		q++;
	if (q < ps->end && *q == '0') {
		q++;
	} else if (q < ps->end && *q >= '1' && *q <= '9') {
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	} else {
		fail(ps, "bad number");
		return false;
	}
	if (q < ps->end && *q == '.') {
		q++;
		if (q >= ps->end || *q < '0' || *q > '9') {
			fail(ps, "bad number");
			return false;
		}
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < ps->end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < ps->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= ps->end || *q < '0' || *q > '9') {
			fail(ps, "bad number");
			return false;
		}
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	if ((size_t)(q - ps->p) >= sizeof(buf)) {
		fail(ps, "number too long");
		return false;
	}
	memcpy(buf, ps->p, q - ps->p);
	buf[q - ps->p] = '\0';
	v->type = JV_NUM;
	v->num = strtod(buf, NULL);
	if (!isfinite(v->num)) {
		fail(ps, "number out of range");
		return false;
	}
	ps->p = q;
	return true;
}

static bool parse_value(struct parser *ps, struct jv *v);

static bool grow(struct parser *ps, struct jv *v, size_t *cap, bool keys)
{
	size_t ncap;
	struct jv *items;

	if (v->n < *cap)
		return true;
	ncap = *cap ? 2 * *cap : 8;
	items = realloc(v->items, ncap * sizeof(*items));
	if (!items)
		return oom(ps);
	v->items = items;
	if (keys) {
		char **k = realloc(v->keys, ncap * sizeof(*k));

		if (!k)
			return oom(ps);
		v->keys = k;
	}
	*cap = ncap;
	return true;
}

static bool parse_container(struct parser *ps, struct jv *v, bool obj)
{
	char close = obj ? '}' : ']';
	size_t cap = 0;

	if (++ps->depth > JV_MAX_DEPTH) {
		fail(ps, "nested deeper than %d", JV_MAX_DEPTH);
		return false;
	}
	v->type = obj ? JV_OBJ : JV_ARR;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		ps->depth--;
		return true;
	}
	for (;;) {
		char *key = NULL;

		skip_ws(ps);
		if (obj) {
			if (ps->p >= ps->end || *ps->p != '"') {
				fail(ps, "expected a key (a string)");
				return false;
			}
			if (!parse_string(ps, &key))
				return false;
			for (size_t i = 0; i < v->n; i++)
				if (!strcmp(v->keys[i], key)) {
					fail(ps, "duplicate key \"%s\"", key);
					free(key);
					return false;
				}
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				fail(ps, "expected ':' after a key");
				free(key);
				return false;
			}
			ps->p++;
		}
		if (!grow(ps, v, &cap, obj)) {
			free(key);
			return false;
		}
		memset(&v->items[v->n], 0, sizeof(v->items[0]));
		if (obj)
			v->keys[v->n] = key;
		v->n++;
		if (!parse_value(ps, &v->items[v->n - 1]))
			return false;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			ps->depth--;
			return true;
		}
		fail(ps, "expected ',' or '%c'", close);
		return false;
	}
}

static bool literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n)) {
		fail(ps, "unexpected character '%c'", *ps->p);
		return false;
	}
	ps->p += n;
	return true;
}

static bool parse_value(struct parser *ps, struct jv *v)
{
	skip_ws(ps);
	if (ps->p >= ps->end) {
		fail(ps, "unexpected end of the text");
		return false;
	}
	switch (*ps->p) {
	case '{':
		return parse_container(ps, v, true);
	case '[':
		return parse_container(ps, v, false);
	case '"':
		v->type = JV_STR;
		return parse_string(ps, &v->str);
	case 't':
		v->type = JV_BOOL;
		v->b = true;
		return literal(ps, "true");
	case 'f':
		v->type = JV_BOOL;
		return literal(ps, "false");
	case 'n':
		v->type = JV_NULL;
		return literal(ps, "null");
	default:
		return parse_number(ps, v);
	}
}

static void jv_free_inner(struct jv *v)
{
	for (size_t i = 0; i < v->n; i++) {
		jv_free_inner(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
}

void jv_free(struct jv *v)
{
	if (!v)
		return;
	jv_free_inner(v);
	free(v);
}

struct jv *jv_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct parser ps = {
		.s = text, .end = text + len, .p = text, .err = err,
		.errlen = errlen,
	};
	struct jv *v = calloc(1, sizeof(*v));

	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (memchr(text, '\0', len)) {
		snprintf(err, errlen, "a NUL byte in the text: not JSON");
		free(v);
		return NULL;
	}
	if (parse_value(&ps, v)) {
		skip_ws(&ps);
		if (ps.p < ps.end)
			fail(&ps, "text after the JSON value");
	}
	if (ps.failed) {
		jv_free(v);
		return NULL;
	}
	return v;
}

struct jv *jv_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	struct jv *v;

	if (!f) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t got;

		if (cap - len < 4096) {
			char *nb;

			cap = cap ? 2 * cap : 65536;
			if (cap > JV_MAX_FILE) {
				snprintf(err, errlen, "larger than %u MiB", JV_MAX_FILE >> 20);
				goto bad;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				snprintf(err, errlen, "out of memory");
				goto bad;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "read error");
		goto bad;
	}
	fclose(f);
	if (len == 0) {
		snprintf(err, errlen, "empty file");
		free(buf);
		return NULL;
	}
	v = jv_parse(buf, len, err, errlen);
	free(buf);
	return v;
bad:
	fclose(f);
	free(buf);
	return NULL;
}

const struct jv *jv_get(const struct jv *v, const char *key)
{
	if (!v || v->type != JV_OBJ)
		return NULL;
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->keys[i], key))
			return &v->items[i];
	return NULL;
}

const char *jv_type_name(enum jv_type t)
{
	static const char *const names[] = {
		[JV_NULL] = "null", [JV_BOOL] = "a boolean", [JV_NUM] = "a number",
		[JV_STR] = "a string", [JV_ARR] = "an array", [JV_OBJ] = "an object",
	};

	return names[t];
}

void jv_write(struct json *j, const char *key, const struct jv *v)
{
	switch (v->type) {
	case JV_NULL:
		json_null(j, key);
		break;
	case JV_BOOL:
		json_bool(j, key, v->b);
		break;
	case JV_NUM:
		if (v->num == floor(v->num) && fabs(v->num) < 9007199254740992.0)
			json_i64(j, key, (int64_t)v->num);
		else
			json_double(j, key, v->num);
		break;
	case JV_STR:
		json_string(j, key, v->str);
		break;
	case JV_ARR:
		json_array_begin(j, key);
		for (size_t i = 0; i < v->n; i++)
			jv_write(j, NULL, &v->items[i]);
		json_array_end(j);
		break;
	case JV_OBJ:
		json_object_begin(j, key);
		for (size_t i = 0; i < v->n; i++)
			jv_write(j, v->keys[i], &v->items[i]);
		json_object_end(j);
		break;
	}
}
