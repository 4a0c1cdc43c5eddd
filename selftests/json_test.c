// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of the tool's JSON writer (userspace/json.c, on jansson); needs
 * no module and runs on the host too.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "json.h"

FIXTURE(json) {
	char *buf;
	size_t len;
	FILE *out;
	struct json j;
};

FIXTURE_SETUP(json)
{
	self->out = open_memstream(&self->buf, &self->len);
	ASSERT_NE(NULL, self->out);
	json_init(&self->j, self->out);
}

FIXTURE_TEARDOWN(json)
{
	if (self->out)
		fclose(self->out);
	free(self->buf);
}

/* Everything written so far. */
static const char *text(FIXTURE_DATA(json) *self)
{
	fflush(self->out);
	return self->buf;
}

TEST_F(json, scalars_at_top_level_end_with_newline)
{
	json_u64(&self->j, NULL, INT64_MAX);
	EXPECT_STREQ("9223372036854775807\n", text(self));
}

TEST_F(json, empty_containers)
{
	json_object_begin(&self->j, NULL);
	json_array_begin(&self->j, "a");
	json_array_end(&self->j);
	json_object_begin(&self->j, "o");
	json_object_end(&self->j);
	json_object_end(&self->j);
	EXPECT_STREQ("{\n  \"a\": [],\n  \"o\": {}\n}\n", text(self));
}

TEST_F(json, nesting_and_every_type)
{
	json_object_begin(&self->j, NULL);
	json_string(&self->j, "s", "x");
	json_string(&self->j, "none", NULL);
	json_bool(&self->j, "t", true);
	json_bool(&self->j, "f", false);
	json_null(&self->j, "n");
	json_i64(&self->j, "neg", INT64_MIN);
	json_array_begin(&self->j, "arr");
	json_u64(&self->j, NULL, 1);
	json_object_begin(&self->j, NULL);
	json_u64(&self->j, "k", 2);
	json_object_end(&self->j);
	json_array_end(&self->j);
	json_object_end(&self->j);
	EXPECT_STREQ("{\n"
		     "  \"s\": \"x\",\n"
		     "  \"none\": null,\n"
		     "  \"t\": true,\n"
		     "  \"f\": false,\n"
		     "  \"n\": null,\n"
		     "  \"neg\": -9223372036854775808,\n"
		     "  \"arr\": [\n"
		     "    1,\n"
		     "    {\n"
		     "      \"k\": 2\n"
		     "    }\n"
		     "  ]\n"
		     "}\n", text(self));
}

TEST_F(json, strings_are_escaped)
{
	json_string(&self->j, NULL, "q\"b\\n\nt\tc\001d\x7f" "é");
	EXPECT_STREQ("\"q\\\"b\\\\n\\nt\\tc\\u0001d\x7fé\"\n", text(self));
}

TEST_F(json, keys_are_escaped)
{
	json_object_begin(&self->j, NULL);
	json_u64(&self->j, "a\"b", 1);
	json_object_end(&self->j);
	EXPECT_STREQ("{\n  \"a\\\"b\": 1\n}\n", text(self));
}

TEST_F(json, doubles_round_trip_and_nonfinite_is_null)
{
	json_array_begin(&self->j, NULL);
	json_double(&self->j, NULL, 0.1);
	json_double(&self->j, NULL, 5.5);
	json_double(&self->j, NULL, 1.0 / 3);
	json_double(&self->j, NULL, -2e300);
	json_double(&self->j, NULL, NAN);
	json_double(&self->j, NULL, INFINITY);
	json_array_end(&self->j);
	/* jansson writes 17 significant digits: every double reads back */
	EXPECT_STREQ("[\n  0.10000000000000001,\n  5.5,\n  0.33333333333333331,\n"
		     "  -2.0000000000000001e300,\n  null,\n  null\n]\n", text(self));
	EXPECT_EQ(0.1, strtod("0.10000000000000001", NULL));
	EXPECT_EQ(1.0 / 3, strtod("0.33333333333333331", NULL));
	EXPECT_EQ(-2e300, strtod("-2.0000000000000001e300", NULL));
}

TEST_HARNESS_MAIN
