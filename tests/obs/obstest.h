/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers of the tests of tests/obs: m2mctl's JSON output, parsed. */
#ifndef M2M_TEST_OBSTEST_H
#define M2M_TEST_OBSTEST_H

#include <stdint.h>

#include <json-c/json.h>

/* The module run-observe gave a session with two DATA. */
#define OBS_TALKER	"sim-000001"

/* Runs m2mctl ARGS with the world's environment; its stdout parsed (NULL
 * when empty), its exit status in *status. Fails the test on bad JSON. */
struct json_object *obs_json(const char *args, int *status);
/* A member that must be there. */
struct json_object *obs_get(struct json_object *o, const char *key);
const char *obs_str(struct json_object *o, const char *key);
int64_t obs_int(struct json_object *o, const char *key);

#endif
