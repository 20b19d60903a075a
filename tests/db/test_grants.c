/* SPDX-License-Identifier: Apache-2.0 */
/* doc/operations.md section 4 as written: the superuser's roles and
 * database, the schema migrated and the roles granted by its owner with
 * m2mctl db grant; each role then has all its privileges, and one revoked
 * is named. (pg_virtualenv's cluster takes passwords over TCP: each role
 * gets the superuser's, which libpq finds in PGPASSWORD.) */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <criterion/criterion.h>

#include "tests/db/pgtest.h"

static char out[8192];

static int
run(const char *cmd)
{
	size_t n;
	FILE *p;
	int st;

	cr_assert_not_null(p = popen(cmd, "r"));
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
on_missing(void *arg, const char *what)
{
	char *list = arg;

	strncat(list, what, 1023 - strlen(list));
	strncat(list, "\n", 1023 - strlen(list));
}

/* The privileges role lacks, as `as` on database db, newline-separated. */
static size_t
lacking(const char *db, const char *as, enum db_role role, char *list)
{
	char ci[256], err[1024] = "";
	struct db_admin *a;
	size_t n = 0;

	list[0] = '\0';
	snprintf(ci, sizeof(ci), "dbname=%s user=%s", db, as);
	cr_assert_eq(db_admin_open(ci, &a, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(db_admin_check_privileges(a, role, on_missing, list, &n, err, sizeof(err)),
	    M2M_OK, "%s", err);
	db_admin_close(a);
	return n;
}

Test(grants, operations_md_roles_then_db_grant_give_each_role_all_it_needs)
{
	const char *pw = getenv("PGPASSWORD");
	char cmd[4096], list[1024];

	cr_assert_not_null(pw);
	/* As the superuser; LOGIN PASSWORD where the document has LOGIN. */
	snprintf(cmd, sizeof(cmd), "psql -X -q -v ON_ERROR_STOP=1 -d postgres 2>&1 <<'SQL'\n"
	    "CREATE ROLE m2m_owner LOGIN PASSWORD '%s';\n"
	    "CREATE ROLE m2m_admin LOGIN PASSWORD '%s';\n"
	    "CREATE ROLE m2md LOGIN PASSWORD '%s';\n"
	    "CREATE ROLE m2m_app LOGIN PASSWORD '%s';\n"
	    "CREATE DATABASE m2m OWNER m2m_owner;\n"
	    "\\c m2m\n"
	    "REVOKE ALL ON DATABASE m2m FROM PUBLIC;\n"
	    "GRANT CONNECT, TEMPORARY ON DATABASE m2m TO m2m_admin, m2md, m2m_app;\n"
	    "REVOKE CREATE ON SCHEMA public FROM PUBLIC;\n"
	    "ALTER SCHEMA public OWNER TO m2m_owner;\n"
	    "SQL", pw, pw, pw, pw);
	cr_assert_eq(run(cmd), 0, "%s", out);
	snprintf(cmd, sizeof(cmd), "M2M_CONFIG=/dev/null M2M_MIGRATIONS_DIR='%s' %s db migrate"
	    " --db 'dbname=m2m user=m2m_owner' 2>&1 && M2M_CONFIG=/dev/null %s db grant"
	    " --server m2md --admin m2m_admin --app m2m_app --db 'dbname=m2m user=m2m_owner' 2>&1",
	    PGT_MIGRATIONS, PGT_M2MCTL, PGT_M2MCTL);
	cr_assert_eq(run(cmd), 0, "%s", out);

	cr_expect_eq(lacking("m2m", "m2md", DB_ROLE_SERVER, list), 0, "m2md lacks:\n%s", list);
	cr_expect_eq(lacking("m2m", "m2m_admin", DB_ROLE_ADMIN, list), 0, "m2m_admin lacks:\n%s",
	    list);
	cr_expect_eq(lacking("m2m", "m2m_app", DB_ROLE_APP, list), 0, "m2m_app lacks:\n%s", list);
	/* The check tells roles apart: the applications' lacks most of the server's. */
	cr_expect_gt(lacking("m2m", "m2m_app", DB_ROLE_SERVER, list), 5, "%s", list);

	/* The owner takes one back: named, and only it. */
	cr_assert_eq(run("psql -X -q -v ON_ERROR_STOP=1 -d m2m -U m2m_owner"
	    " -c 'REVOKE USAGE ON SEQUENCE reports_id_seq FROM m2md' 2>&1"), 0, "%s", out);
	cr_expect_eq(lacking("m2m", "m2md", DB_ROLE_SERVER, list), 1, "%s", list);
	cr_expect_str_eq(list, "USAGE ON SEQUENCE reports_id_seq\n");
	cr_assert_eq(run("psql -X -q -v ON_ERROR_STOP=1 -d m2m -U m2m_owner"
	    " -c 'REVOKE EXECUTE ON FUNCTION m2m_rekey(bigint, bytea, bytea) FROM m2md, PUBLIC'"
	    " 2>&1"), 0, "%s", out);
	cr_expect_eq(lacking("m2m", "m2md", DB_ROLE_SERVER, list), 2, "%s", list);
	cr_expect_not_null(strstr(list, "EXECUTE ON FUNCTION m2m_rekey(bigint, bytea, bytea)"),
	    "%s", list);
}
