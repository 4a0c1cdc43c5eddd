/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small streaming JSON writer: callers emit values in order and it adds
 * the commas, the indentation and the string escaping.  Every value takes
 * a key, which must be NULL inside an array and non-NULL inside an object.
 */
#ifndef XPTILAB_JSON_H
#define XPTILAB_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *out;
	int depth;
	bool has_items[JSON_MAX_DEPTH];	/* a comma is due at this depth */
};

void json_init(struct json *j, FILE *out);

void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);

/* val == NULL writes null. */
void json_string(struct json *j, const char *key, const char *val);
void json_u64(struct json *j, const char *key, uint64_t val);
void json_i64(struct json *j, const char *key, int64_t val);
/* NaN and infinities (not representable in JSON) are written as null. */
void json_double(struct json *j, const char *key, double val);
void json_bool(struct json *j, const char *key, bool val);
void json_null(struct json *j, const char *key);

#endif /* XPTILAB_JSON_H */
