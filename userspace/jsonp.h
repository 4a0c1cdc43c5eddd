/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A JSON reader: the whole text into a tree of values, for the commands
 * that read results files (report, compare, merge, run-all). Parsing is
 * jansson's (Debian libjansson); this keeps the tree in a plain form.
 * Numbers are doubles (every count xptilab writes is below 2^53). Objects
 * keep their keys in file order; a duplicate key is an error.
 */
#ifndef XPTILAB_JSONP_H
#define XPTILAB_JSONP_H

#include <stdbool.h>
#include <stddef.h>

struct json;

enum jv_type { JV_NULL, JV_BOOL, JV_NUM, JV_STR, JV_ARR, JV_OBJ };

struct jv {
	enum jv_type type;
	bool b;
	double num;
	char *str;
	size_t n;		/* JV_ARR, JV_OBJ: items */
	struct jv *items;
	char **keys;		/* JV_OBJ: keys[i] names items[i] */
};

/*
 * Parse text[0..len). Returns the tree, or NULL with "line L, column C:
 * what" in err.
 */
struct jv *jv_parse(const char *text, size_t len, char *err, size_t errlen);

/* Read and parse a file; NULL with the reason (errno or syntax) in err. */
struct jv *jv_load(const char *path, char *err, size_t errlen);

void jv_free(struct jv *v);

/* The member key of an object, or NULL (also when v is not an object). */
const struct jv *jv_get(const struct jv *v, const char *key);

const char *jv_type_name(enum jv_type t);

/* Write v through the streaming writer (integral numbers as integers). */
void jv_write(struct json *j, const char *key, const struct jv *v);

#endif /* XPTILAB_JSONP_H */
