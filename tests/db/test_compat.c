/* SPDX-License-Identifier: Apache-2.0 */
/* What each migration declares about servers of earlier releases (its
 * "-- m2md-compat:" line): every shipped file declares it, m2mctl records
 * it, and adding the line did not make applied files look modified. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tests/db/pgtest.h"

struct seen {
	unsigned n, modified, missing;
	int compat[1000];
};

static void
on_migration(void *arg, const struct db_migration *m)
{
	struct seen *s = arg;

	s->n++;
	s->modified += m->modified;
	s->missing += m->missing;
	if (m->version < 1000)
		s->compat[m->version] = m->compat;
}

Test(compat, every_shipped_migration_declares_what_earlier_servers_do)
{
	/* 001-004: the first release's schema, no m2md ran before it. */
	static const int want[] = { 0, 0, 0, 0, 0, 1, 1, 1, 1 };
	char ci[128], err[1024] = "";
	struct db_admin *a;
	struct seen s;

	memset(&s, 0, sizeof(s));
	pgt_fresh(ci, sizeof(ci), &a);
	cr_assert_eq(db_migration_status(a, PGT_MIGRATIONS, on_migration, &s, err, sizeof(err)),
	    M2M_OK, "%s", err);
	for (unsigned v = 1; v <= s.n; v++)
		cr_expect(s.compat[v] == 0 || s.compat[v] == 1, "migration %u declares nothing", v);
	for (unsigned v = 1; v < sizeof(want) / sizeof(want[0]); v++)
		cr_expect_eq(s.compat[v], want[v], "migration %u", v);
	db_admin_close(a);
}

/* Applied by an m2mctl that knew no declaration (the files without the
 * line, the table without its column): this one sees nothing modified. */
Test(compat, migrations_applied_before_the_declarations_are_not_modified)
{
	char ci[128], err[1024] = "", dir[] = "/tmp/m2mt_compatXXXXXX", cmd[1024];
	struct db_admin *a;
	struct seen s;
	unsigned n;

	memset(&s, 0, sizeof(s));
	pgt_fresh(ci, sizeof(ci), &a);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "for f in %s/*.sql; do sed '/^-- m2md-compat:/d' \"$f\""
	    " > %s/\"$(basename \"$f\")\"; done", PGT_MIGRATIONS, dir);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(db_migrate(a, dir, NULL, NULL, &n, err, sizeof(err)), M2M_OK, "%s", err);
	pgt_sql(a, "ALTER TABLE m2m_schema_migrations DROP COLUMN servers_before_ok", 0, NULL);
	cr_assert_eq(db_migration_status(a, PGT_MIGRATIONS, on_migration, &s, err, sizeof(err)),
	    M2M_OK, "%s", err);
	cr_expect_eq(s.modified, 0);
	cr_expect_eq(s.missing, 0);
	/* The next migrate adds the column and records declarations from now on. */
	cr_assert_eq(db_migrate(a, PGT_MIGRATIONS, NULL, NULL, &n, err, sizeof(err)), M2M_OK,
	    "%s", err);
	cr_expect_eq(n, 0);
	cr_expect_str_eq(pgt_sql(a, "SELECT count(*) FROM m2m_schema_migrations"
	    " WHERE servers_before_ok IS NULL", 0, NULL), pgt_sql(a, "SELECT count(*)"
	    " FROM m2m_schema_migrations", 0, NULL));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
	db_admin_close(a);
}

/* A later release's migration (a file this one lacks) is told with what
 * its m2mctl recorded. */
Test(compat, a_newer_migration_carries_its_declaration)
{
	char ci[128], err[1024] = "", dir[] = "/tmp/m2mt_compatXXXXXX", cmd[1024];
	struct db_admin *a;
	struct seen s;
	unsigned n;

	memset(&s, 0, sizeof(s));
	pgt_fresh(ci, sizeof(ci), &a);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cp %s/*.sql %s/ && printf '%%s\\n' '-- Later.'"
	    " '-- m2md-compat: servers-before-keep-working yes' 'CREATE TABLE later (x int);'"
	    " > %s/900_later.sql && printf '%%s\\n' '-- m2md-compat: servers-before-keep-working no'"
	    " 'DROP TABLE later;' > %s/901_drop.sql", PGT_MIGRATIONS, dir, dir, dir);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(db_migrate(a, dir, NULL, NULL, &n, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(db_migration_status(a, PGT_MIGRATIONS, on_migration, &s, err, sizeof(err)),
	    M2M_OK, "%s", err);
	cr_expect_eq(s.missing, 2);
	cr_expect_eq(s.compat[900], 1);
	cr_expect_eq(s.compat[901], 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
	db_admin_close(a);
}

Test(compat, a_malformed_declaration_is_refused)
{
	char ci[128], err[1024] = "", dir[] = "/tmp/m2mt_compatXXXXXX", cmd[1024];
	struct db_admin *a;
	unsigned n;

	pgt_fresh(ci, sizeof(ci), &a);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "printf '%%s\\n' '-- m2md-compat: servers-before-keep-working"
	    " maybe' 'CREATE TABLE t (x int);' > %s/001_t.sql", dir);
	cr_assert_eq(system(cmd), 0);
	cr_expect_eq(db_migrate(a, dir, NULL, NULL, &n, err, sizeof(err)), M2M_E_DB_MIGRATION);
	cr_expect_not_null(strstr(err, "001_t.sql"), "%s", err);
	cr_expect_not_null(strstr(err, "servers-before-keep-working yes"), "%s", err);
	cr_expect_str_eq(pgt_sql(a, "SELECT to_regclass('t') IS NULL", 0, NULL), "t");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
	db_admin_close(a);
}
