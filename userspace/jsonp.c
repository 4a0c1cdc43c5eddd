// SPDX-License-Identifier: GPL-2.0
/* JSON reader, see jsonp.h: jansson parses, this keeps its tree as ours. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "jsonp.h"

#define JV_MAX_FILE	(64u << 20)

/* jansson's tree as ours: keys in file order, numbers as doubles. */
static bool convert(const json_t *in, struct jv *v)
{
	switch (json_typeof(in)) {
	case JSON_NULL:
		v->type = JV_NULL;
		return true;
	case JSON_TRUE:
	case JSON_FALSE:
		v->type = JV_BOOL;
		v->b = json_is_true(in);
		return true;
	case JSON_INTEGER:
	case JSON_REAL:
		v->type = JV_NUM;
		v->num = json_number_value(in);
		return true;
	case JSON_STRING:
		v->type = JV_STR;
		v->str = strdup(json_string_value(in));
		return v->str != NULL;
	case JSON_ARRAY: {
		size_t i;
		const json_t *x;

		v->type = JV_ARR;
		v->items = calloc(json_array_size(in) + 1, sizeof(*v->items));
		if (!v->items)
			return false;
		json_array_foreach(in, i, x) {
			v->n++;
			if (!convert(x, &v->items[i]))
				return false;
		}
		return true;
	}
	case JSON_OBJECT: {
		size_t n = json_object_size(in);
		const char *key;
		json_t *x;

		v->type = JV_OBJ;
		v->items = calloc(n + 1, sizeof(*v->items));
		v->keys = calloc(n + 1, sizeof(*v->keys));
		if (!v->items || !v->keys)
			return false;
		/* jansson keeps insertion (file) order */
		json_object_foreach((json_t *)in, key, x) {
			v->keys[v->n] = strdup(key);
			if (!v->keys[v->n++] || !convert(x, &v->items[v->n - 1]))
				return false;
		}
		return true;
	}
	}
	return false;
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
	struct jv *v = calloc(1, sizeof(*v));
	json_error_t je;
	json_t *root;

	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (memchr(text, '\0', len)) {
		snprintf(err, errlen, "a NUL byte in the text: not JSON");
		free(v);
		return NULL;
	}
	root = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err, errlen, "line %d, column %d: %s", je.line, je.column,
			 je.text);
		free(v);
		return NULL;
	}
	if (!convert(root, v)) {
		snprintf(err, errlen, "out of memory");
		json_decref(root);
		jv_free(v);
		return NULL;
	}
	json_decref(root);
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
