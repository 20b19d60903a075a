/* SPDX-License-Identifier: Apache-2.0 */
/* Small things an operator met (issue 19, item 10): an instruction for a
 * revoked module or with a body over 1000 bytes is refused with a message
 * that says why, through m2mctl and through m2m_instruct() as applications
 * call it (doc/applications.md); a suspended module's instructions are
 * accepted and wait; a wrong PIN is said once. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "tests/server/srvtest.h"

/* m2mctl ARGS with the world's environment; its exit status, output in out. */
static int
ctl(const char *args, char *out, size_t len)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), ". '%s' && '%s/m2mctl' %s 2>&1", st_path("env"),
	    TEST_BUILDDIR, args);
	return st_capture(cmd, out, len);
}

/* SELECT m2m_instruct(identity, body) as an application runs it: the
 * SQLSTATE (empty on success) and the message. */
static const char *
instruct_sql(const char *identity, const char *body, char *msg, size_t len)
{
	static char state[8];
	const char *p[2] = { identity, body };
	char out[64];
	struct db_admin *a;

	state[0] = '\0';
	cr_assert_eq(db_admin_open("", &a, msg, len), M2M_OK, "%s", msg);
	msg[0] = '\0';
	db_admin_exec(a, "SELECT m2m_instruct($1, convert_to($2, 'UTF8'))", 2, p, out,
	    sizeof(out), state, msg, len);
	db_admin_close(a);
	return state;
}

static size_t
count(const char *s, const char *needle)
{
	size_t n = 0;

	for (; (s = strstr(s, needle)) != NULL; s++)
		n++;
	return n;
}

Test(fixes, instructions_for_revoked_modules_and_long_bodies_are_refused_clearly)
{
	char out[8192], msg[1024], args[1200], big[1002];

	snprintf(args, sizeof(args), "enroll --count 3 --out '%s' --prefix fixes-",
	    st_path("fixes"));
	cr_assert_eq(st_m2mctl(args), 0);
	cr_assert_eq(st_m2mctl("revoke fixes-000001"), 0);
	cr_assert_eq(st_m2mctl("suspend fixes-000002"), 0);

	/* Revoked: refused, by m2mctl and by the SQL function. */
	cr_assert_eq(ctl("instruct fixes-000001 --text reboot", out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "module fixes-000001 is revoked"), "%s", out);
	cr_assert_str_eq(instruct_sql("fixes-000001", "reboot", msg, sizeof(msg)), "55000", "%s", msg);
	cr_assert_not_null(strstr(msg, "is revoked"), "%s", msg);

	/* Suspended: accepted, and m2mctl says when it leaves. */
	cr_assert_eq(ctl("instruct fixes-000002 --text reboot", out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "suspended"), "%s", out);
	cr_assert_str_eq(instruct_sql("fixes-000002", "reboot", msg, sizeof(msg)), "", "%s", msg);

	/* 1001 bytes: the length, not the failing row. */
	memset(big, 'x', 1001);
	big[1001] = '\0';
	cr_assert_str_eq(instruct_sql("fixes-000003", big, msg, sizeof(msg)), "22023", "%s", msg);
	cr_assert_not_null(strstr(msg, "1001 bytes; at most 1000"), "%s", msg);
	cr_assert_null(strstr(msg, "xxxxxxxx"), "the body is not echoed: %s", msg);
	snprintf(args, sizeof(args), "instruct fixes-000003 --text %s", big);
	cr_assert_eq(ctl(args, out, sizeof(out)), 1, "%s", out);
	cr_assert(strstr(out, "at most 1000") != NULL || strstr(out, "longer than 1000") != NULL,
	    "%s", out);
	cr_assert_null(strstr(out, "xxxxxxxx"), "the body is not echoed: %s", out);
	cr_assert_str_eq(instruct_sql("fixes-000003", "1000 is fine", msg, sizeof(msg)), "", "%s", msg);
}

/* A wrong PIN file: m2md -t, m2md itself and m2mctl hsm list each say it in
 * one sentence, "wrong PIN" once. */
Test(fixes, wrong_pin_is_said_once)
{
	char conf[1024], cmd[1024], out[4096];
	const char *bad = st_write("wrong-pin", "99999999\n"), *path;

	snprintf(cmd, sizeof(cmd), "chmod 600 '%s'", bad);
	cr_assert_eq(system(cmd), 0);
	snprintf(conf, sizeof(conf), "[server]\nlisten = 127.0.0.1:%d\nnode_id = 22\n"
	    "[hsm]\nmodule = %s\ntoken = m2m\nkey = server-1\npin_file = %s\n",
	    st_port() + 104, getenv("SOFTHSM2_MODULE"), bad);
	path = st_write("wrong-pin.conf", conf);
	cr_assert_eq(st_check(path, out, sizeof(out)), 1, "%s", out);
	cr_assert_eq(count(out, "wrong PIN"), 1, "m2md -t: %s", out);
	snprintf(cmd, sizeof(cmd), "timeout 20 '%s/m2md' -f -c '%s' 2>&1", TEST_BUILDDIR, path);
	cr_assert_eq(st_capture(cmd, out, sizeof(out)), 1, "%s", out);
	cr_assert_eq(count(out, "wrong PIN"), 1, "m2md: %s", out);
	cr_assert_eq(count(out, "retried"), 1, "m2md: %s", out);
	snprintf(cmd, sizeof(cmd), ". '%s' && M2M_PIN_FILE='%s' '%s/m2mctl' hsm list 2>&1",
	    st_path("env"), bad, TEST_BUILDDIR);
	cr_assert_eq(st_capture(cmd, out, sizeof(out)), 1, "%s", out);
	cr_assert_eq(count(out, "wrong PIN"), 1, "m2mctl hsm list: %s", out);
	cr_assert_eq(count(out, "retried"), 1, "m2mctl hsm list: %s", out);
}
