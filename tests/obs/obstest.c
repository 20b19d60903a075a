/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers of the tests of tests/obs (obstest.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tests/obs/obstest.h"
#include "tests/server/srvtest.h"

struct json_object *
obs_json(const char *args, int *status)
{
	static char out[1 << 16];
	char cmd[2048];
	struct json_object *o;
	enum json_tokener_error je;

	snprintf(cmd, sizeof(cmd), ". '%s' && '%s/m2mctl' %s 2>/dev/null", st_path("env"),
	    TEST_BUILDDIR, args);
	*status = st_capture(cmd, out, sizeof(out));
	if (out[strspn(out, " \n")] == '\0')
		return NULL;
	o = json_tokener_parse_verbose(out, &je);
	cr_assert_not_null(o, "m2mctl %s: %s:\n%s", args, json_tokener_error_desc(je), out);
	return o;
}

struct json_object *
obs_get(struct json_object *o, const char *key)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(o, key, &v), "no \"%s\" in %s", key,
	    json_object_to_json_string(o));
	return v;
}

const char *
obs_str(struct json_object *o, const char *key)
{
	struct json_object *v = obs_get(o, key);

	cr_assert(json_object_is_type(v, json_type_string), "\"%s\" is no string", key);
	return json_object_get_string(v);
}

int64_t
obs_int(struct json_object *o, const char *key)
{
	struct json_object *v = obs_get(o, key);

	cr_assert(json_object_is_type(v, json_type_int), "\"%s\" is no integer", key);
	return json_object_get_int64(v);
}
