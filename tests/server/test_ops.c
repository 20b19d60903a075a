/* SPDX-License-Identifier: Apache-2.0 */
/* What an operator relies on when starting m2md: a second m2md on an
 * address that one already serves refuses to start, instead of silently
 * taking a share of its datagrams. */
#include "config.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/server/srvtest.h"

Test(ops, second_m2md_on_the_same_address_refuses_to_start)
{
	char conf[1024], cmd[1024], out[4096];
	struct cli c;

	/* The address the world's m2md (two workers, sharing it) serves; its
	 * own metrics address, so that only the UDP address is shared. */
	snprintf(conf, sizeof(conf), "[server]\nlisten = 127.0.0.1:%d\nworkers = 2\nnode_id = 12\n"
	    "metrics = 127.0.0.1:%d\n[hsm]\nmodule = %s\ntoken = m2m\nkey = server-1\n"
	    "pin_file = %s\n", st_port(), st_port() + 61, getenv("SOFTHSM2_MODULE"),
	    st_path("pin"));
	snprintf(cmd, sizeof(cmd), "timeout 20 '%s/m2md' -f -c '%s' 2>&1", TEST_BUILDDIR,
	    st_write("second.conf", conf));
	cr_assert_eq(st_capture(cmd, out, sizeof(out)), 1, "exit status 1; output:\n%s", out);
	cr_assert_not_null(strstr(out, "another process already serves"), "%s", out);
	st_client(&c, 26, st_port());
	cr_assert_eq(cli_handshake(&c, NULL, 0), M2M_OK, "the first m2md still serves");
	cli_close(&c);
}

/* One policy for passwords in a connection string, wherever it is given:
 * refused with a message that names the way (a password file), and never
 * echoed. */
Test(ops, password_in_a_connection_string_is_refused_everywhere)
{
	char conf[1024], cmd[1024], out[4096];

	snprintf(conf, sizeof(conf), "[hsm]\nmodule = %s\ntoken = m2m\nkey = server-1\n"
	    "pin_file = %s\n[database]\nconninfo = dbname=m2m password=Sekr1t-pw\n",
	    getenv("SOFTHSM2_MODULE"), st_path("pin"));
	cr_assert_eq(st_check(st_write("password.conf", conf), out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "contains a password"), "m2md -t: %s", out);
	cr_assert_null(strstr(out, "Sekr1t-pw"), "m2md -t echoes the password: %s", out);

	/* m2mctl: from $M2M_DB, --db and a configuration file. */
	const char *how[] = { "M2M_DB='dbname=m2m password=Sekr1t-pw' m2mctl list",
	    "m2mctl list --db postgresql://m2m:Sekr1t-pw@localhost/m2m",
	    "m2mctl -c password.conf list" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(cmd, sizeof(cmd), ". '%s' && cd '%s' && PATH='%s':$PATH %s 2>&1",
		    st_path("env"), st_path(""), TEST_BUILDDIR, how[i]);
		cr_assert_neq(st_capture(cmd, out, sizeof(out)), 0, "%s: %s", how[i], out);
		cr_assert_not_null(strstr(out, "password"), "%s: %s", how[i], out);
		cr_assert_null(strstr(out, "Sekr1t-pw"), "%s echoes the password: %s", how[i], out);
	}
}

/* A metrics address is checked like a listen address: by m2md -t, with a
 * port from 0 to 65535 and nothing else; a failure to listen says why. */
Test(ops, metrics_address_is_checked_and_its_failure_explained)
{
	const char *bad[] = { "127.0.0.1:abc", "127.0.0.1:70000", "127.0.0.1:" };
	char conf[1024], cmd[1024], out[4096];

	for (size_t i = 0; i < 3; i++) {
		snprintf(conf, sizeof(conf), "[server]\nmetrics = %s\n[hsm]\nmodule = %s\n"
		    "token = m2m\nkey = server-1\npin_file = %s\n", bad[i],
		    getenv("SOFTHSM2_MODULE"), st_path("pin"));
		cr_assert_eq(st_check(st_write("metrics.conf", conf), out, sizeof(out)), 1,
		    "%s: %s", bad[i], out);
		cr_assert_not_null(strstr(out, "metrics address"), "%s: %s", bad[i], out);
	}
	/* The world's metrics port is taken by its m2md. */
	snprintf(conf, sizeof(conf), "[server]\nlisten = 127.0.0.1:%d\nmetrics = 127.0.0.1:%d\n"
	    "node_id = 13\n[hsm]\nmodule = %s\ntoken = m2m\nkey = server-1\npin_file = %s\n",
	    st_port() + 62,
	    st_port() + 1, getenv("SOFTHSM2_MODULE"), st_path("pin"));
	snprintf(cmd, sizeof(cmd), ". '%s' && timeout 20 '%s/m2md' -f -c '%s' 2>&1",
	    st_path("env"), TEST_BUILDDIR, st_write("metrics-busy.conf", conf));
	cr_assert_eq(st_capture(cmd, out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "cannot listen: Address already in use"), "%s", out);
}

/* A bad value in the configuration names what would have been good. */
Test(ops, bad_configuration_value_names_the_valid_range)
{
	const char *conf[] = { "[server]\nworkers = 0\n", "[server]\nlog_level = loud\n",
	    "[limits]\nsource_rate = 2000000\n" };
	const char *want[] = { "'workers' in section [server]: a whole number from 1 to 64",
	    "error, warning, info or debug", "a whole number from 1 to 1048576" };
	char out[4096];

	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(st_check(st_write("range.conf", conf[i]), out, sizeof(out)), 1, "%s",
		    out);
		cr_assert_not_null(strstr(out, want[i]), "%s", out);
	}
}

/* --pin is not an abbreviation of --pin-file: the PIN is refused, and not
 * echoed back as a file name. */
Test(ops, pin_on_the_command_line_is_refused_unechoed)
{
	const char *how[] = { "m2mctl hsm list --pin 97531", "m2mctl hsm list --pin=97531",
	    "m2mctl bench hsm --pin 97531" };
	char cmd[1024], out[4096];

	for (size_t i = 0; i < 3; i++) {
		snprintf(cmd, sizeof(cmd), ". '%s' && PATH='%s':$PATH %s 2>&1", st_path("env"),
		    TEST_BUILDDIR, how[i]);
		cr_assert_eq(st_capture(cmd, out, sizeof(out)), 2, "%s: %s", how[i], out);
		cr_assert_not_null(strstr(out, "never taken on the command line"), "%s", out);
		cr_assert_null(strstr(out, "97531"), "%s echoes the PIN: %s", how[i], out);
	}
}

/* libpq's messages span lines (a hint after a newline and a tab); in the
 * log each stays one record. */
Test(ops, database_errors_stay_one_log_line)
{
	char conf[1024], cmd[1024], out[8192], *line, *save = NULL;
	int records = 0;

	snprintf(conf, sizeof(conf), "[server]\nlisten = 127.0.0.1:%d\nworkers = 1\n[hsm]\n"
	    "module = %s\ntoken = m2m\nkey = server-1\npin_file = %s\n[database]\n"
	    "conninfo = host=127.0.0.1 port=1 dbname=m2m connect_timeout=2\n", st_port() + 63,
	    getenv("SOFTHSM2_MODULE"), st_path("pin"));
	snprintf(cmd, sizeof(cmd), ". '%s' && timeout 3 '%s/m2md' -f -c '%s' 2>&1",
	    st_path("env"), TEST_BUILDDIR, st_write("nodb.conf", conf));
	st_capture(cmd, out, sizeof(out));
	cr_assert_not_null(strstr(out, "Is the server running"), "libpq's hint: %s", out);
	for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		cr_assert_eq(strncmp(line, "m2md[", 5), 0, "a line that is no record: '%s'", line);
		records++;
	}
	cr_assert_gt(records, 0);
}

/* SIGHUP reloads the log only, and says which changed settings wait for a
 * restart. */
Test(ops, sighup_names_the_settings_that_need_a_restart)
{
	int port = st_port() + 64;
	pid_t pid = st_start_m2md("hup.conf", port, 6, "[server]\nlog_level = info\n");
	char conf[1024], log[8192], cmd[1024];

	snprintf(conf, sizeof(conf), "[server]\nlisten = 127.0.0.1:%d\nworkers = 3\nnode_id = 6\n"
	    "metrics = 127.0.0.1:%d\nlog_level = debug\n[hsm]\nmodule = %s\ntoken = m2m\n"
	    "key = server-1\npin_file = %s\n[limits]\nsource_rate = 7\n", port, port + 1,
	    getenv("SOFTHSM2_MODULE"), st_path("pin"));
	st_write("hup.conf", conf);
	kill(pid, SIGHUP);
	snprintf(cmd, sizeof(cmd), "sleep 0.5; cat '%s.log'", st_path("hup.conf"));
	st_capture(cmd, log, sizeof(log));
	cr_assert_not_null(strstr(log, "only a restart applies them: [server] workers, "
	    "[limits] source_rate"), "%s", log);
	cr_assert_null(strstr(log, "log_level"), "the log level is applied, not listed: %s", log);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}

/* Two nodes with one node_id would hand out colliding tokens and session
 * ids: the second refuses to start; m2md -t beside a running node warns. */
Test(ops, duplicate_node_id_is_refused)
{
	char conf[1024], cmd[1024], out[8192];

	/* The world's m2md runs with node_id 0 (the default). */
	snprintf(conf, sizeof(conf), "[server]\nlisten = 127.0.0.1:%d\nmetrics = 127.0.0.1:%d\n"
	    "[hsm]\nmodule = %s\ntoken = m2m\nkey = server-1\npin_file = %s\n", st_port() + 65,
	    st_port() + 66, getenv("SOFTHSM2_MODULE"), st_path("pin"));
	snprintf(cmd, sizeof(cmd), ". '%s' && timeout 20 '%s/m2md' -f -c '%s' 2>&1",
	    st_path("env"), TEST_BUILDDIR, st_write("dup-node.conf", conf));
	cr_assert_eq(st_capture(cmd, out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "node_id 0 is in use by another m2md connected to this "
	    "database (from "), "%s", out);
	cr_assert_eq(st_check(st_path("m2md.conf"), out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "warning: node_id 0 is in use by a running m2md"), "%s",
	    out);
}
