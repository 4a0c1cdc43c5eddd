/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A JSON writer: callers emit values in order; jansson (Debian libjansson)
 * builds the tree and writes it, escaped and indented, when the top-level
 * value is complete. Every value takes a key, which must be NULL inside an
 * array and non-NULL inside an object.
 */
#ifndef XPTILAB_JSON_H
#define XPTILAB_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json_t;

struct json {
	FILE *out;
	int depth;
	struct json_t *stack[JSON_MAX_DEPTH];	/* the open containers */
};

void json_init(struct json *j, FILE *out);

void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);

/*
 * json_string() and json_null() are also jansson's names: the functions
 * are xj_string() and xj_null(), these macros keep the short names for
 * callers (jansson's own are reached as (json_string)(value) in json.c).
 */
#define json_string(j, key, val)	xj_string(j, key, val)
#define json_null(j, key)		xj_null(j, key)

/* val == NULL writes null. */
void xj_string(struct json *j, const char *key, const char *val);
void json_u64(struct json *j, const char *key, uint64_t val);
void json_i64(struct json *j, const char *key, int64_t val);
/*
 * Doubles with 17 significant digits (they read back exactly); integral
 * ones as integers. NaN and infinities (not representable in JSON) are
 * written as null. jansson's integers are signed: a u64 above INT64_MAX
 * is written as a double. A string that is not UTF-8 has its bytes >= 0x80
 * written as '?'.
 */
void json_double(struct json *j, const char *key, double val);
void json_bool(struct json *j, const char *key, bool val);
void xj_null(struct json *j, const char *key);

#endif /* XPTILAB_JSON_H */
