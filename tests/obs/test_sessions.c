/* SPDX-License-Identifier: Apache-2.0 */
/* m2mctl sessions and session kill on the live m2md of run-observe,
 * through its control socket ([server] control = WORLD/control): a module's
 * session listed with its identity, address, times and counts each way;
 * ended by identity or by session id; the socket's mode. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "tests/obs/obstest.h"
#include "tests/server/srvtest.h"

/* The live session of identity in m2mctl sessions --json, or NULL. */
static struct json_object *
find(struct json_object *list, const char *identity)
{
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *s = json_object_array_get_idx(list, i), *v;

		if (json_object_object_get_ex(s, "identity", &v) && v != NULL &&
		    strcmp(json_object_get_string(v), identity) == 0)
			return s;
	}
	return NULL;
}

static struct json_object *
sessions(void)
{
	char args[512];
	struct json_object *list;
	int st;

	snprintf(args, sizeof(args), "sessions --json --control '%s'", st_path("control"));
	list = obs_json(args, &st);
	cr_assert_eq(st, 0);
	cr_assert(json_object_is_type(list, json_type_array));
	return list;
}

static int
kill_session(const char *what)
{
	char args[512];

	snprintf(args, sizeof(args), "session kill %s --control '%s'", what, st_path("control"));
	return st_m2mctl(args);
}

Test(sessions, listed_with_address_times_and_counts_then_killed_by_identity)
{
	struct cli c;
	struct json_object *list, *s;
	char addr[64];
	uint64_t seq;
	time_t t0 = time(NULL);

	st_client(&c, 1, st_port());
	cr_assert_eq(cli_handshake(&c, (const uint8_t *)"hi", 2), M2M_OK);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(cli_data(&c, (const uint8_t *)"reading", 7, &seq), M2M_OK);
	list = sessions();
	cr_assert_not_null(s = find(list, "sim-000002"), "%s", json_object_to_json_string(list));
	cr_expect_eq(strlen(obs_str(s, "session_id")), 16);
	cr_expect_gt(obs_int(s, "module_id"), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:");
	cr_expect_eq(strncmp(obs_str(s, "address"), addr, strlen(addr)), 0, "%s",
	    obs_str(s, "address"));
	cr_expect_eq(obs_int(s, "datagrams_in"), 3, "three DATA");
	cr_expect_eq(obs_int(s, "datagrams_out"), 3, "three DATA_ACK");
	cr_expect_gt(obs_int(s, "bytes_in"), 3 * 7);
	cr_expect_gt(obs_int(s, "bytes_out"), 0);
	cr_expect_eq(strlen(obs_str(s, "since")), 20, "%s", obs_str(s, "since"));
	cr_expect_eq(strlen(obs_str(s, "last_data")), 20);
	cr_expect_geq(strcmp(obs_str(s, "last_data"), obs_str(s, "since")), 0);
	{
		char since[32];
		struct tm tm;

		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t0, &tm));
		cr_expect_geq(strcmp(obs_str(s, "since"), since), 0, "since %s, test began %s",
		    obs_str(s, "since"), since);
	}
	json_object_put(list);

	cr_assert_eq(kill_session("sim-000002"), 0);
	list = sessions();
	cr_expect_null(find(list, "sim-000002"), "ended sessions are not listed");
	json_object_put(list);
	c.timeout_ms = 300;
	cr_expect_neq(cli_data(&c, (const uint8_t *)"after", 5, &seq), M2M_OK,
	    "a DATA on the ended session gets no DATA_ACK");
	cr_expect_eq(kill_session("sim-000002"), 1, "no live session left to end");
	cli_close(&c);
}

Test(sessions, killed_by_session_id_and_human_output)
{
	struct cli c;
	struct json_object *list, *s;
	char sid[17], cmd[1024], out[4096];
	uint64_t seq;

	st_client(&c, 1, st_port());
	cr_assert_eq(cli_handshake(&c, (const uint8_t *)"hi", 2), M2M_OK);
	cr_assert_eq(cli_data(&c, (const uint8_t *)"reading", 7, &seq), M2M_OK);
	list = sessions();
	cr_assert_not_null(s = find(list, "sim-000002"));
	snprintf(sid, sizeof(sid), "%s", obs_str(s, "session_id"));
	json_object_put(list);
	snprintf(cmd, sizeof(cmd), ". '%s' && '%s/m2mctl' sessions --control '%s'",
	    st_path("env"), TEST_BUILDDIR, st_path("control"));
	cr_assert_eq(st_capture(cmd, out, sizeof(out)), 0);
	cr_expect_not_null(strstr(out, sid), "%s", out);
	cr_expect_not_null(strstr(out, "sim-000002"), "%s", out);
	cr_assert_eq(kill_session(sid), 0);
	list = sessions();
	cr_expect_null(find(list, "sim-000002"));
	json_object_put(list);
	cr_expect_eq(kill_session("0000000000000000"), 1);
	cli_close(&c);
}

/* Owner and group only: no other local user reaches it. */
Test(sessions, control_socket_is_owner_and_group_only)
{
	struct stat st;

	cr_assert_eq(stat(st_path("control"), &st), 0);
	cr_expect(S_ISSOCK(st.st_mode));
	cr_expect_eq(st.st_mode & 0777, 0660, "mode %o", st.st_mode & 0777);
}
