/* SPDX-License-Identifier: Apache-2.0 */
/* The database's server keys against the keys a node can use (issue 19):
 * an active key the node does not serve is an error of m2md -t and of the
 * start, naming the key and the cause, since `m2mctl enroll` hands it out;
 * a retired key still in the token is reported as retired; handshakes are
 * counted by server key id. The world's token holds server-1 only. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/server/srvtest.h"

/* A conf for the world's token, with [hsm] key as given (NULL: unset). */
static const char *
conf(const char *name, const char *key, int port)
{
	char text[1024];

	snprintf(text, sizeof(text), "[server]\nlisten = 127.0.0.1:%d\nworkers = 1\n"
	    "[hsm]\nmodule = %s\ntoken = m2m\n%s%s%spin_file = %s\n", port,
	    getenv("SOFTHSM2_MODULE"), key ? "key = " : "", key ? key : "", key ? "\n" : "",
	    st_path("pin"));
	return st_write(name, text);
}

static void
drop_elsewhere(void)
{
	st_sql("DELETE FROM server_keys WHERE label = 'server-elsewhere'", 0, NULL);
}

/* A key registered (as `m2mctl hsm export --register` would) that is in
 * no token this node reaches: enrollment would hand it out. */
Test(keys, an_active_key_the_node_cannot_use_fails_the_check_and_the_start,
    .fini = drop_elsewhere)
{
	char pub[80] = "", out[4096], cmd[512];
	const char *p[1] = { pub };
	int status;

	cr_assert_eq(st_capture("openssl ecparam -name prime256v1 -genkey -noout |"
	    " openssl ec -pubout -conv_form compressed -outform DER 2>/dev/null |"
	    " tail -c 33 | od -An -tx1 | tr -d ' \\n'", pub, sizeof(pub)), 0, "openssl: %s", pub);
	cr_assert_eq(strlen(pub), 66, "compressed point: %s", pub);
	st_sql("INSERT INTO server_keys (key_id, pubkey, label) SELECT"
	    " substring(sha256(k) FROM 1 FOR 4), k, 'server-elsewhere'"
	    " FROM decode($1, 'hex') AS k", 1, p);

	cr_assert_eq(st_check(conf("all.conf", NULL, st_port() + 71), out, sizeof(out)), 1,
	    "m2md -t must fail; output:\n%s", out);
	cr_assert_not_null(strstr(out, "(label server-elsewhere) is active in the database but "
	    "not usable from token m2m"), "%s", out);
	cr_assert_not_null(strstr(out, "check that the user m2md can read the key"), "%s", out);
	/* A node pinned to one key is told which setting is the cause. */
	cr_assert_eq(st_check(conf("one.conf", "server-1", st_port() + 71), out, sizeof(out)), 1,
	    "%s", out);
	cr_assert_not_null(strstr(out, "[hsm] key = server-1 selects one key only"), "%s", out);

	/* The start refuses too, with the same reason in the log. */
	snprintf(cmd, sizeof(cmd), "timeout 20 '%s/m2md' -f -c '%s' 2>&1", TEST_BUILDDIR,
	    st_path("all.conf"));
	status = st_capture(cmd, out, sizeof(out));
	cr_assert_eq(status, 1, "m2md started (status %d):\n%s", status, out);
	cr_assert_not_null(strstr(out, "(label server-elsewhere) is active in the database"),
	    "%s", out);
}

static void
reactivate(void)
{
	st_sql("UPDATE server_keys SET state = 'active' WHERE label = 'server-1'", 0, NULL);
}

Test(keys, a_retired_key_in_the_token_is_reported_as_retired, .fini = reactivate)
{
	char out[4096];

	st_sql("UPDATE server_keys SET state = 'retired' WHERE label = 'server-1'", 0, NULL);
	cr_assert_eq(st_check(conf("retired.conf", NULL, st_port() + 71), out, sizeof(out)), 0,
	    "%s", out);
	cr_assert_not_null(strstr(out, "(label server-1) is retired in the database but still in "
	    "token m2m"), "%s", out);
	cr_assert_null(strstr(out, "not registered"), "%s", out);
}

Test(keys, handshakes_are_counted_by_server_key_id)
{
	char label[64];
	struct cli c;
	double before, after = 0;

	snprintf(label, sizeof(label), "key_id=\"%s\"",
	    st_sql("SELECT encode(key_id, 'hex') FROM server_keys WHERE label = 'server-1'", 0,
	    NULL));
	before = st_metric(st_port() + 1, "m2md_server_key_handshakes_total", label);
	st_client(&c, 25, st_port());
	cr_assert_eq(cli_handshake(&c, NULL, 0), M2M_OK);
	cli_close(&c);
	/* The worker counts right after sending WELCOME: the page may lag. */
	for (int i = 0; i < 100 && (after = st_metric(st_port() + 1,
	    "m2md_server_key_handshakes_total", label)) != before + 1; i++)
		usleep(20000);
	cr_assert_eq(after, before + 1, "m2md_server_key_handshakes_total{%s}: %g, before %g",
	    label, after, before);
}
