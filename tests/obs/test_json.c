/* SPDX-License-Identifier: Apache-2.0 */
/* m2mctl --json, every command that prints records, parsed with json-c on
 * the world run-observe made (two modules, one of which had a session with
 * two DATA): each shape as m2mctl(8) documents it, and the exit status of
 * db status with pending or modified migrations. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "tests/obs/obstest.h"
#include "tests/server/srvtest.h"

Test(json, list_has_every_module_with_its_fields)
{
	struct json_object *a, *seen = NULL;
	int st;

	a = obs_json("list --json", &st);
	cr_assert_eq(st, 0);
	cr_assert(json_object_is_type(a, json_type_array));
	cr_assert_geq(json_object_array_length(a), 2);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *m = json_object_array_get_idx(a, i);

		cr_expect_gt(obs_int(m, "id"), 0);
		cr_expect_eq(strlen(obs_str(m, "pseudonym")), 32);
		cr_expect_str_eq(obs_str(m, "status"), "active");
		if (strcmp(obs_str(m, "identity"), OBS_TALKER) == 0)
			seen = m;
	}
	cr_assert_not_null(seen, "%s listed", OBS_TALKER);
	cr_expect(json_object_is_type(obs_get(seen, "last_seen"), json_type_string),
	    "the module that had a session was seen");
	json_object_put(a);
	a = obs_json("list --json --status revoked", &st);
	cr_assert_eq(st, 0);
	cr_expect_eq(json_object_array_length(a), 0, "an empty list is []");
	json_object_put(a);
}

Test(json, show_has_keys_instructions_and_counts)
{
	struct json_object *m, *keys, *instr;
	int st;

	cr_assert_eq(st_m2mctl("instruct " OBS_TALKER " --text reboot"), 0);
	m = obs_json("show " OBS_TALKER " --json", &st);
	cr_assert_eq(st, 0);
	cr_expect_str_eq(obs_str(m, "identity"), OBS_TALKER);
	cr_expect_eq(obs_int(m, "reports"), 3, "the AUTH's data and two DATA");
	cr_expect_geq(obs_int(m, "open_instructions"), 1);
	cr_expect_not_null(obs_str(m, "last_handshake_at"), "it had a handshake");
	cr_expect_not_null(strstr(obs_str(m, "last_address"), "127.0.0.1"), "from loopback");
	keys = obs_get(m, "keys");
	cr_assert_eq(json_object_array_length(keys), 1);
	cr_expect_str_eq(obs_str(json_object_array_get_idx(keys, 0), "state"), "current");
	cr_expect_eq(strlen(obs_str(json_object_array_get_idx(keys, 0), "public_key")), 66);
	instr = obs_get(m, "instructions");
	cr_assert_geq(json_object_array_length(instr), 1);
	cr_expect_eq(obs_int(json_object_array_get_idx(instr, 0), "bytes"), 6);
	json_object_put(m);
	/* An unknown module: exit 1, nothing on stdout. */
	cr_expect_null(obs_json("show nobody --json", &st));
	cr_expect_eq(st, 1);
}

Test(json, enroll_one_and_many)
{
	struct json_object *o;
	char args[256];
	int st;

	o = obs_json("enroll --json --identity obs-json-1 --key-hex "
	    "036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296", &st);
	cr_assert_eq(st, 0);
	cr_expect_str_eq(obs_str(o, "identity"), "obs-json-1");
	cr_expect_gt(obs_int(o, "id"), 0);
	cr_expect_eq(strlen(obs_str(o, "pseudonym")), 32);
	cr_expect_eq(strlen(obs_str(o, "server_key_id")), 8);
	cr_expect_eq(strlen(obs_str(o, "server_key")), 66);
	json_object_put(o);
	snprintf(args, sizeof(args), "enroll --json --count 3 --prefix obs-bulk- --out '%s'",
	    st_path("bulk.creds"));
	o = obs_json(args, &st);
	cr_assert_eq(st, 0);
	cr_expect_eq(obs_int(o, "enrolled"), 3);
	cr_expect_str_eq(obs_str(o, "credentials"), st_path("bulk.creds"));
	json_object_put(o);
}

Test(json, reports_newest_first_payload_in_hex)
{
	struct json_object *a, *r;
	int st;

	/* The AUTH's first data ("hello"), then two DATA ("reading"). */
	a = obs_json("reports --json --module " OBS_TALKER, &st);
	cr_assert_eq(st, 0);
	cr_assert_eq(json_object_array_length(a), 3);
	for (int i = 0; i < 3; i++) {
		r = json_object_array_get_idx(a, (size_t)i);
		cr_expect_str_eq(obs_str(r, "identity"), OBS_TALKER);
		cr_expect_str_eq(obs_str(r, "payload"), i < 2 ? "72656164696e67" : "68656c6c6f");
		cr_expect_eq(strlen(obs_str(r, "session_id")), 16);
		cr_expect_gt(obs_int(r, "id"), 0);
		if (i > 0)
			cr_expect_lt(obs_int(r, "seq"), obs_int(json_object_array_get_idx(a,
			    (size_t)i - 1), "seq"), "newest first");
	}
	json_object_put(a);
	cr_expect_neq(st_m2mctl("reports --json --text"), 0, "--text and --json exclude each other");
}

Test(json, hsm_list_names_the_server_key)
{
	struct json_object *o, *k;
	int st;

	o = obs_json("hsm list --json", &st);
	cr_assert_eq(st, 0);
	cr_expect_eq(strncmp(obs_str(o, "token"), "'m2m' (serial ", 14), 0, "%s",
	    obs_str(o, "token"));
	cr_assert_eq(json_object_array_length(obs_get(o, "keys")), 1);
	k = json_object_array_get_idx(obs_get(o, "keys"), 0);
	cr_expect_str_eq(obs_str(k, "label"), "server-1");
	cr_expect(json_object_get_boolean(obs_get(k, "p256")));
	cr_expect(json_object_get_boolean(obs_get(k, "derive")));
	cr_expect(json_object_get_boolean(obs_get(k, "sensitive")));
	cr_expect_not(json_object_get_boolean(obs_get(k, "extractable")));
	cr_expect_eq(strlen(obs_str(k, "key_id")), 8);
	json_object_put(o);
}

static void
copy_migrations(const char *to)
{
	char cmd[1024], out[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -r \"$M2M_MIGRATIONS_DIR\" '%s' && "
	    "chmod -R u+w '%s'", to, to, to);
	cr_assert_eq(st_capture(cmd, out, sizeof(out)), 0, "%s", out);
}

/* Exit status 0 only while every migration is applied as its file says. */
Test(json, db_status_fails_with_pending_or_modified_migrations)
{
	const char *dir = st_path("migrations");
	struct json_object *o, *list;
	char args[512], cmd[1024], out[256];
	int st;

	copy_migrations(dir);
	snprintf(args, sizeof(args), "db status --json --migrations '%s'", dir);
	o = obs_json(args, &st);
	cr_assert_eq(st, 0);
	cr_expect_eq(obs_int(o, "pending"), 0);
	cr_expect_eq(obs_int(o, "modified"), 0);
	list = obs_get(o, "migrations");
	cr_assert_geq(json_object_array_length(list), 10);
	for (size_t i = 0; i < json_object_array_length(list); i++)
		cr_expect_str_eq(obs_str(json_object_array_get_idx(list, i), "state"), "applied");
	json_object_put(o);

	snprintf(cmd, sizeof(cmd), "echo 'SELECT 1;' > '%s/999_obs_test.sql'", dir);
	cr_assert_eq(st_capture(cmd, out, sizeof(out)), 0);
	o = obs_json(args, &st);
	cr_expect_eq(st, 1, "a pending migration");
	cr_expect_eq(obs_int(o, "pending"), 1);
	json_object_put(o);
	snprintf(args, sizeof(args), "db status --migrations '%s'", dir);
	cr_expect_eq(st_m2mctl(args), 1, "the same without --json");

	copy_migrations(dir);
	snprintf(cmd, sizeof(cmd), "echo '-- changed' >> \"$(ls '%s'/0*.sql | head -1)\"", dir);
	cr_assert_eq(st_capture(cmd, out, sizeof(out)), 0);
	snprintf(args, sizeof(args), "db status --json --migrations '%s'", dir);
	o = obs_json(args, &st);
	cr_expect_eq(st, 1, "a modified migration");
	cr_expect_eq(obs_int(o, "modified"), 1);
	cr_expect_str_eq(obs_str(json_object_array_get_idx(obs_get(o, "migrations"), 0), "state"),
	    "modified");
	json_object_put(o);
}
