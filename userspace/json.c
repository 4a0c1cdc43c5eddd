// SPDX-License-Identifier: GPL-2.0
/*
 * JSON writer, see json.h: values go into a jansson tree, which jansson
 * serialises (two-space indent, keys in insertion order) when the
 * top-level value is complete, followed by a newline.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define DUMP_FLAGS	(JSON_INDENT(2) | JSON_PRESERVE_ORDER | \
			 JSON_REAL_PRECISION(17))

void json_init(struct json *j, FILE *out)
{
	j->out = out;
	j->depth = 0;
}

/* Put v (a new reference) under key in the open container, or dump it. */
static void put(struct json *j, const char *key, json_t *v)
{
	json_t *c;

	if (!v)
		abort();	/* out of memory */
	if (j->depth == 0) {
		json_dumpf(v, j->out, DUMP_FLAGS | JSON_ENCODE_ANY);
		fputc('\n', j->out);
		json_decref(v);
		return;
	}
	c = j->stack[j->depth - 1];
	if (json_is_object(c)) {
		if (!key || json_object_set_new(c, key, v))
			abort();	/* a programming error */
	} else if (key || json_array_append_new(c, v)) {
		abort();
	}
}

static void open_container(struct json *j, const char *key, json_t *c)
{
	if (!c || j->depth >= JSON_MAX_DEPTH)
		abort();
	if (j->depth > 0)
		put(j, key, json_incref(c));
	j->stack[j->depth++] = c;
}

static void close_container(struct json *j)
{
	json_t *c;

	if (j->depth == 0)
		abort();
	c = j->stack[--j->depth];
	if (j->depth == 0) {
		json_dumpf(c, j->out, DUMP_FLAGS);
		fputc('\n', j->out);
	}
	json_decref(c);
}

void json_object_begin(struct json *j, const char *key)
{
	open_container(j, key, json_object());
}

void json_object_end(struct json *j)
{
	close_container(j);
}

void json_array_begin(struct json *j, const char *key)
{
	open_container(j, key, json_array());
}

void json_array_end(struct json *j)
{
	close_container(j);
}

/* A string jansson takes: not UTF-8 (jansson refuses it), bytes >= 0x80 as '?'. */
static json_t *string_value(const char *val)
{
	json_t *v = (json_string)(val);
	char *copy;

	if (v)
		return v;
	copy = strdup(val);
	if (!copy)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = (json_string)(copy);
	free(copy);
	return v;
}

void xj_string(struct json *j, const char *key, const char *val)
{
	put(j, key, val ? string_value(val) : (json_null)());
}

void json_u64(struct json *j, const char *key, uint64_t val)
{
	/* jansson's integers are signed 64-bit: above that, a double */
	put(j, key, val > INT64_MAX ? json_real((double)val) :
		    json_integer((json_int_t)val));
}

void json_i64(struct json *j, const char *key, int64_t val)
{
	put(j, key, json_integer(val));
}

void json_double(struct json *j, const char *key, double val)
{
	/* integral values as integers, as a person would write them */
	if (!isfinite(val))
		put(j, key, (json_null)());
	else if (val == floor(val) && fabs(val) < 9007199254740992.0)
		put(j, key, json_integer((json_int_t)val));
	else
		put(j, key, json_real(val));
}

void json_bool(struct json *j, const char *key, bool val)
{
	put(j, key, json_boolean(val));
}

void xj_null(struct json *j, const char *key)
{
	put(j, key, (json_null)());
}
