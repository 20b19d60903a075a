/* SPDX-License-Identifier: Apache-2.0 */
/* The database as an operator sets it up: roles with the grants m2mctl db
 * grant gives (m2md serves with exactly those, m2md -t names one that is
 * missing, and a handshake that fails on it is in the log with its
 * SQLSTATE); schemas newer than this m2md (rolling upgrades); and m2mctl's
 * own connection setting, apart from the server's. */
#include "config.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/server/srvtest.h"

#define SRV_ROLE	"dbops_srv"
#define ADM_ROLE	"dbops_adm"
#define APP_ROLE	"dbops_app"

/* Roles log in like the test's superuser (pg_virtualenv: scram over TCP,
 * the password in PGPASSWORD), so conninfo strings need no password. */
static void
make_role(const char *name)
{
	char sql[512];
	const char *pw = getenv("PGPASSWORD");

	snprintf(sql, sizeof(sql), "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE"
	    " rolname = '%s') THEN CREATE ROLE %s LOGIN PASSWORD '%s'; END IF; END $$", name,
	    name, pw != NULL ? pw : "");
	st_sql(sql, 0, NULL);
}

/* The world's environment (token, migrations, PG*), then cmd; output in out. */
static int
shell(const char *cmd, char *out, size_t len)
{
	char full[4096];

	snprintf(full, sizeof(full), ". '%s' && export M2M_MIGRATIONS_DIR=\"$(cd"
	    " \"$M2M_MIGRATIONS_DIR\" && pwd)\" && cd '%s' && PATH='%s':$PATH && %s 2>&1",
	    st_path("env"), st_path(""), TEST_BUILDDIR, cmd);
	return st_capture(full, out, len);
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static void
read_log(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");

	out[0] = '\0';
	if (f != NULL) {
		out[fread(out, 1, len - 1, f)] = '\0';
		fclose(f);
	}
}

/* Sums N over the log's "N more database errors" and "(N more of class"
 * notes: the failures that did not get a line of their own. */
static unsigned
left_out(const char *log)
{
	unsigned n = 0, k;
	const char *p, *q;

	for (p = log; (p = strstr(p, " more ")) != NULL; p++) {
		for (q = p; q > log && q[-1] >= '0' && q[-1] <= '9'; q--)
			;
		if (q < p && sscanf(q, "%u more", &k) == 1 &&
		    (strncmp(p, " more database errors", 21) == 0 ||
		    strncmp(p, " more of class", 14) == 0))
			n += k;
	}
	return n;
}

Test(dbops, m2md_serves_with_the_granted_role_and_names_a_missing_grant)
{
	char conf[512], out[8192], log[65536], logpath[512];
	uint8_t status;
	uint64_t seq;
	struct cli c;
	pid_t pid;
	int port = st_port() + 150, tries = 6, failed = 0;
	time_t t0;

	make_role(SRV_ROLE);
	cr_assert_eq(shell("m2mctl db grant --server " SRV_ROLE, out, sizeof(out)), 0, "%s", out);
	snprintf(conf, sizeof(conf), "[database]\nconninfo = dbname=postgres user=" SRV_ROLE "\n");
	pid = st_start_m2md("dbops-role.conf", port, 40, conf);
	cr_assert_eq(st_check(st_path("dbops-role.conf"), out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "ok: database role " SRV_ROLE " has the privileges"), "%s",
	    out);

	/* Every statement on the packet path, as that role. */
	st_client(&c, 21, port);
	cr_assert_eq(cli_handshake(&c, (const uint8_t *)"first", 5), M2M_OK);
	cr_assert_eq(cli_data(&c, (const uint8_t *)"report", 6, &seq), M2M_OK);
	cr_assert_eq(cli_rekey(&c, &status), M2M_OK);
	cr_assert_eq(status, 0, "REKEY status %u", status);
	cr_assert_eq(cli_handshake(&c, NULL, 0), M2M_OK, "handshake with the new key");
	cli_close(&c);

	/* One grant less: m2md -t names it and the role. */
	st_sql("REVOKE UPDATE (last_seen) ON modules FROM " SRV_ROLE, 0, NULL);
	cr_expect_eq(st_check(st_path("dbops-role.conf"), out, sizeof(out)), 1, "%s", out);
	cr_expect_not_null(strstr(out, "UPDATE (last_seen) ON modules"), "%s", out);
	cr_expect_not_null(strstr(out, "database role " SRV_ROLE " lacks 1 privilege"), "%s", out);
	/* Even the first read of the check, the schema's history: named too. */
	st_sql("REVOKE SELECT ON m2m_schema_migrations FROM " SRV_ROLE, 0, NULL);
	cr_expect_eq(st_check(st_path("dbops-role.conf"), out, sizeof(out)), 1, "%s", out);
	cr_expect_not_null(strstr(out, "lacks 2 privilege(s) m2md needs: SELECT ON"
	    " m2m_schema_migrations; UPDATE (last_seen) ON modules"), "%s", out);
	st_sql("GRANT SELECT ON m2m_schema_migrations TO " SRV_ROLE, 0, NULL);

	/* The running m2md: each handshake now fails at its commit. The log
	 * says why at error level, not only a counter; at most a line a second
	 * per worker, and the count of those left out. */
	t0 = time(NULL);
	st_client(&c, 22, port);
	c.timeout_ms = 300;
	for (int i = 0; i < tries; i++)
		failed += cli_handshake(&c, NULL, 0) != M2M_OK;
	cli_close(&c);
	sleep(2);		/* the tick writes the count of the last second */
	snprintf(logpath, sizeof(logpath), "%s.log", st_path("dbops-role.conf"));
	read_log(logpath, log, sizeof(log));
	st_sql("GRANT UPDATE (last_seen) ON modules TO " SRV_ROLE, 0, NULL);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
	cr_assert_eq(failed, tries, "handshakes failed: %d of %d", failed, tries);
	cr_assert_not_null(strstr(log, "SQLSTATE 42501: permission denied for table modules"),
	    "%s", log);
	cr_assert_not_null(strstr(log, "m2md[error]: worker"), "at error level: %s", log);
	size_t lines = count(log, "SQLSTATE 42501: permission denied");
	unsigned more = left_out(log);
	cr_log_info("%d failed handshakes in %ld s: %zu lines, %u left out", tries,
	    (long)(time(NULL) - t0), lines, more);
	cr_assert_leq(lines, 2 * (size_t)(time(NULL) - t0 + 1), "%s", log);
	cr_assert_eq(lines + more, (size_t)tries, "each failure a line or counted: %s", log);
}

/* m2mctl's other roles, with what db grant gives them: the admin role runs
 * the day-to-day commands, applications read reports and queue
 * instructions. */
Test(dbops, admin_and_application_roles_work_with_their_grants)
{
	char out[8192];
	const char *adm = "M2M_DB='dbname=postgres user=" ADM_ROLE "' ";
	char cmd[1024];

	make_role(ADM_ROLE);
	make_role(APP_ROLE);
	cr_assert_eq(shell("m2mctl db grant --admin " ADM_ROLE " --app " APP_ROLE, out,
	    sizeof(out)), 0, "%s", out);
	cr_assert_eq(shell("openssl ecparam -name prime256v1 -genkey -noout | openssl ec -pubout"
	    " -out dbops-a.pub && openssl ecparam -name prime256v1 -genkey -noout |"
	    " openssl ec -pubout -out dbops-b.pub", out, sizeof(out)), 0, "%s", out);
	const char *steps[] = { "enroll --identity dbops-adm-1 --key dbops-a.pub",
	    "list", "show dbops-adm-1", "instruct dbops-adm-1 --hex 0102",
	    "suspend dbops-adm-1", "resume dbops-adm-1", "rotate-key dbops-adm-1 --key dbops-b.pub",
	    "reports --limit 1", "db status" };
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%sm2mctl %s", adm, steps[i]);
		cr_expect_eq(shell(cmd, out, sizeof(out)), 0, "%s: %s", cmd, out);
	}
	cr_expect_eq(shell("psql -X -q -d postgres -U " APP_ROLE " -v ON_ERROR_STOP=1"
	    " -c \"SELECT m2m_instruct('dbops-adm-1', '\\x0a')\" -c 'SELECT count(*) FROM reports'"
	    " -c 'SELECT identity, status, last_seen FROM modules LIMIT 1'", out, sizeof(out)), 0,
	    "%s", out);
	/* Never the pseudonyms, for applications. */
	cr_expect_neq(shell("psql -X -q -d postgres -U " APP_ROLE " -v ON_ERROR_STOP=1"
	    " -c 'SELECT pseudonym FROM modules LIMIT 1'", out, sizeof(out)), 0, "%s", out);
	cr_expect_not_null(strstr(out, "permission denied"), "%s", out);
}

static void
drop_future(void)
{
	st_sql("DELETE FROM m2m_schema_migrations WHERE version >= 900", 0, NULL);
	st_sql("DROP TABLE IF EXISTS dbops_future_a, dbops_future_b", 0, NULL);
}

/* The shipped migrations and one of a later release (compat: yes or no),
 * applied by m2mctl from DIR; this m2md then knows one migration less. */
static void
migrate_future(const char *name, const char *compat, const char *table)
{
	char cmd[2048], out[4096];

	snprintf(cmd, sizeof(cmd), "rm -rf mig-future && mkdir mig-future &&"
	    " cp \"$M2M_MIGRATIONS_DIR\"/*.sql mig-future/ &&"
	    " printf '%%s\\n' '-- m2md-compat: servers-before-keep-working %s'"
	    " 'CREATE TABLE %s (x integer);' > mig-future/%s &&"
	    " m2mctl db migrate --migrations mig-future", compat, table, name);
	cr_assert_eq(shell(cmd, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, name), "%s", out);
}

Test(dbops, newer_schema_of_compatible_migrations_is_accepted, .fini = drop_future)
{
	char out[4096];
	struct cli c;
	pid_t pid;

	migrate_future("900_dbops_future.sql", "yes", "dbops_future_a");
	cr_assert_eq(st_check(st_path("m2md.conf"), out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "newer than this m2md"), "%s", out);
	cr_assert_not_null(strstr(out, "900_dbops_future.sql"), "%s", out);
	cr_assert_eq(shell("m2mctl db status", out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "earlier servers keep working"), "%s", out);
	pid = st_start_m2md("dbops-newer.conf", st_port() + 160, 41, NULL);
	st_client(&c, 23, st_port() + 160);
	cr_assert_eq(cli_handshake(&c, NULL, 0), M2M_OK);
	cli_close(&c);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}

Test(dbops, newer_schema_with_an_incompatible_migration_is_refused, .fini = drop_future)
{
	char out[4096], cmd[1024];

	migrate_future("900_dbops_future.sql", "yes", "dbops_future_a");
	migrate_future("901_dbops_future.sql", "no", "dbops_future_b");
	cr_assert_eq(st_check(st_path("m2md.conf"), out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "901_dbops_future.sql"), "%s", out);
	cr_assert_not_null(strstr(out, "upgrade m2md"), "%s", out);
	cr_assert_null(strstr(out, "db migrate"), "migrating cannot help: %s", out);
	snprintf(cmd, sizeof(cmd), "timeout 20 m2md -f -c '%s'", st_path("m2md.conf"));
	cr_assert_eq(shell(cmd, out, sizeof(out)), 1, "start-up refuses: %s", out);
	cr_assert_not_null(strstr(out, "upgrade m2md"), "%s", out);

	/* Applied by an m2mctl that recorded nothing about it: refused too. */
	st_sql("DELETE FROM m2m_schema_migrations WHERE version = 901", 0, NULL);
	st_sql("UPDATE m2m_schema_migrations SET servers_before_ok = NULL WHERE version = 900",
	    0, NULL);
	cr_assert_eq(st_check(st_path("m2md.conf"), out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "900_dbops_future.sql (applied by an m2mctl that did not"
	    " record it)"), "%s", out);
}

/* m2mctl never connects with the server's conninfo: [database] is the
 * server's, [admin] m2mctl's (under M2M_DB and --db). */
Test(dbops, m2mctl_uses_its_own_connection_setting)
{
	const char *server = "[database]\nconninfo = host=/nonexistent/m2md-server"
	    " dbname=dbops_server_db user=dbops_server_role\n";
	char conf[1024], out[4096];

	st_write("dbops-server-only.conf", server);
	cr_assert_eq(shell("env -u M2M_DB m2mctl -c dbops-server-only.conf list --limit 1", out,
	    sizeof(out)), 0, "libpq's defaults, not the server's conninfo: %s", out);
	cr_assert_null(strstr(out, "dbops_server"), "%s", out);

	snprintf(conf, sizeof(conf), "%s[admin]\nconninfo = dbname=dbops_admin_db\n", server);
	st_write("dbops-admin.conf", conf);
	cr_assert_neq(shell("env -u M2M_DB m2mctl -c dbops-admin.conf list", out, sizeof(out)),
	    0, "%s", out);
	cr_assert_not_null(strstr(out, "dbops_admin_db"), "[admin] conninfo used: %s", out);
	cr_assert_eq(shell("M2M_DB=dbname=postgres m2mctl -c dbops-admin.conf list --limit 1", out,
	    sizeof(out)), 0, "M2M_DB over [admin]: %s", out);

	st_write("dbops-admin-pw.conf", "[admin]\nconninfo = dbname=postgres password=Sekr1t-pw\n");
	cr_assert_neq(shell("env -u M2M_DB m2mctl -c dbops-admin-pw.conf list", out, sizeof(out)),
	    0, "%s", out);
	cr_assert_not_null(strstr(out, "contains a password"), "%s", out);
	cr_assert_null(strstr(out, "Sekr1t-pw"), "%s", out);
	/* m2md takes the file, [admin] included, and ignores that section. */
	cr_assert_neq(st_check(st_path("dbops-admin-pw.conf"), out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "contains a password"), "m2md -t checks [admin] too: %s",
	    out);
}
