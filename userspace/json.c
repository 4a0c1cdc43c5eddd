// SPDX-License-Identifier: GPL-2.0
/*
 * Streaming JSON writer, see json.h.  Output is indented by two spaces per
 * level and the top-level value ends with a newline.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "json.h"

void json_init(struct json *j, FILE *out)
{
	j->out = out;
	j->depth = 0;
	j->has_items[0] = false;
}

static void indent(struct json *j)
{
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->out);
}

static void put_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

/* Shortest of %.15g and %.17g that reads back as the same double. */
static void put_double(FILE *out, double val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.15g", val);
	if (strtod(buf, NULL) != val)
		snprintf(buf, sizeof(buf), "%.17g", val);
	fputs(buf, out);
}

/* Separator, indentation and key before any value. */
static void begin_value(struct json *j, const char *key)
{
	if (j->depth > 0) {
		fputs(j->has_items[j->depth] ? ",\n" : "\n", j->out);
		indent(j);
	}
	j->has_items[j->depth] = true;
	if (key) {
		put_string(j->out, key);
		fputs(": ", j->out);
	}
}

static void end_value(struct json *j)
{
	if (j->depth == 0)
		fputc('\n', j->out);
}

static void open_container(struct json *j, const char *key, char c)
{
	begin_value(j, key);
	fputc(c, j->out);
	if (j->depth + 1 >= JSON_MAX_DEPTH)
		abort();	/* a programming error, not an input error */
	j->has_items[++j->depth] = false;
}

static void close_container(struct json *j, char c)
{
	bool had_items = j->has_items[j->depth];

	if (j->depth == 0)
		abort();
	j->depth--;
	if (had_items) {
		fputc('\n', j->out);
		indent(j);
	}
	fputc(c, j->out);
	end_value(j);
}

void json_object_begin(struct json *j, const char *key)
{
	open_container(j, key, '{');
}

void json_object_end(struct json *j)
{
	close_container(j, '}');
}

void json_array_begin(struct json *j, const char *key)
{
	open_container(j, key, '[');
}

void json_array_end(struct json *j)
{
	close_container(j, ']');
}

void json_string(struct json *j, const char *key, const char *val)
{
	begin_value(j, key);
	if (val)
		put_string(j->out, val);
	else
		fputs("null", j->out);
	end_value(j);
}

void json_u64(struct json *j, const char *key, uint64_t val)
{
	begin_value(j, key);
	fprintf(j->out, "%" PRIu64, val);
	end_value(j);
}

void json_i64(struct json *j, const char *key, int64_t val)
{
	begin_value(j, key);
	fprintf(j->out, "%" PRId64, val);
	end_value(j);
}

void json_double(struct json *j, const char *key, double val)
{
	begin_value(j, key);
	if (isfinite(val))
		put_double(j->out, val);
	else
		fputs("null", j->out);
	end_value(j);
}

void json_bool(struct json *j, const char *key, bool val)
{
	begin_value(j, key);
	fputs(val ? "true" : "false", j->out);
	end_value(j);
}

void json_null(struct json *j, const char *key)
{
	begin_value(j, key);
	fputs("null", j->out);
	end_value(j);
}
