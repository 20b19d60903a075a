/* SPDX-License-Identifier: Apache-2.0 */
/* json-exprs FILE: prints every PromQL expression of a Grafana dashboard
 * (the strings under "expr", and the variables' "query" and "definition"),
 * one a line, so that a script can check the metrics they name. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

static int
is_query_key(const char *k)
{
	return strcmp(k, "expr") == 0 || strcmp(k, "query") == 0 ||
	    strcmp(k, "definition") == 0;
}

static void
walk(struct json_object *o)
{
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			walk(json_object_array_get_idx(o, i));
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	json_object_object_foreach(o, k, v) {
		if (is_query_key(k) && json_object_is_type(v, json_type_string))
			puts(json_object_get_string(v));
		else
			walk(v);
	}
}

int
main(int argc, char **argv)
{
	struct json_object *o;

	if (argc != 2) {
		fprintf(stderr, "usage: json-exprs FILE\n");
		return 2;
	}
	if ((o = json_object_from_file(argv[1])) == NULL) {
		fprintf(stderr, "json-exprs: %s: %s\n", argv[1], json_util_get_last_err());
		return 1;
	}
	walk(o);
	json_object_put(o);
	return 0;
}
