/* SPDX-License-Identifier: Apache-2.0 */
/* Migrations and the constraints of the schema, on a real PostgreSQL. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/db/pgtest.h"

static void
count_applied(void *arg, const struct db_migration *m)
{
	int *n = arg;

	cr_expect(!m->modified && !m->missing, "%s", m->name);
	*n += m->applied ? 1 : 1000;
}

Test(schema, migrations_apply_from_empty_and_then_are_a_noop)
{
	char ci[128], err[1024] = "";
	struct db_admin *a;
	unsigned n = 0;
	int st = 0;

	pgt_fresh(ci, sizeof(ci), &a);
	cr_assert_eq(db_migration_status(a, PGT_MIGRATIONS, count_applied, &st, err,
	    sizeof(err)), M2M_OK, "%s", err);
	cr_expect_eq(st, 13000, "all thirteen pending before");
	cr_assert_eq(db_migrate(a, PGT_MIGRATIONS, NULL, NULL, &n, err, sizeof(err)), M2M_OK,
	    "%s", err);
	cr_expect_eq(n, 13);
	cr_assert_eq(db_migrate(a, PGT_MIGRATIONS, NULL, NULL, &n, err, sizeof(err)), M2M_OK,
	    "%s", err);
	cr_expect_eq(n, 0, "second run applies nothing");
	cr_expect_str_eq(pgt_sql(a, "SELECT count(*) FROM m2m_schema_migrations", 0, NULL), "13");
	st = 0;
	cr_assert_eq(db_migration_status(a, PGT_MIGRATIONS, count_applied, &st, err,
	    sizeof(err)), M2M_OK, "%s", err);
	cr_expect_eq(st, 13, "all thirteen applied, none modified");
	/* This month and three ahead, plus the default partition. */
	cr_expect_geq(atoi(pgt_sql(a, "SELECT count(*) FROM pg_inherits"
	    " WHERE inhparent = 'reports'::regclass", 0, NULL)), 5);
	db_admin_close(a);
}

/* A module left with a pseudonym shorter than 16 bytes by 001's rules gets
 * a new one from 008, so that its row can still be changed (revoked). */
Test(schema, migration_008_replaces_pseudonyms_too_short)
{
	char ci[128], err[1024] = "", dir[] = "/tmp/m2mt_migXXXXXX", cmd[512];
	struct db_admin *a;
	unsigned n = 0;

	pgt_fresh(ci, sizeof(ci), &a);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cp %s/00[1-7]_*.sql %s/", PGT_MIGRATIONS, dir);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(db_migrate(a, dir, NULL, NULL, &n, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(n, 7);
	pgt_sql(a, "INSERT INTO modules (identity, pseudonym, previous_pseudonym) VALUES"
	    " ('old', '\\x0101010101010101', '\\x0202020202020202'),"
	    " ('new', '\\x03030303030303030303030303030303', NULL)", 0, NULL);
	cr_assert_eq(db_migrate(a, PGT_MIGRATIONS, NULL, NULL, &n, err, sizeof(err)), M2M_OK,
	    "%s", err);
	cr_expect_eq(n, 6, "008 to 013");
	cr_expect_str_eq(pgt_sql(a, "SELECT octet_length(pseudonym) || ' ' ||"
	    " coalesce(encode(previous_pseudonym, 'hex'), 'none') FROM modules WHERE identity = 'old'",
	    0, NULL), "16 none");
	cr_expect_str_eq(pgt_sql(a, "SELECT encode(pseudonym, 'hex') FROM modules WHERE"
	    " identity = 'new'", 0, NULL), "03030303030303030303030303030303", "left alone");
	pgt_sql(a, "UPDATE modules SET status = 'revoked' WHERE identity = 'old'", 0, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
	db_admin_close(a);
}

Test(schema, a_failing_migration_changes_nothing)
{
	char ci[128], err[1024] = "", dir[] = "/tmp/m2mt_migXXXXXX", path[128];
	struct db_admin *a;
	unsigned n = 9;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/001_bad.sql", dir);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("CREATE TABLE t1 (x int);\nSELECT no_such_function();\n", f);
	fclose(f);
	pgt_fresh(ci, sizeof(ci), &a);
	cr_expect_eq(db_migrate(a, dir, NULL, NULL, &n, err, sizeof(err)), M2M_E_DB_MIGRATION);
	cr_expect(strstr(err, "001_bad.sql") != NULL, "%s", err);
	cr_expect_str_eq(pgt_sql(a, "SELECT to_regclass('t1') IS NULL", 0, NULL), "t");
	cr_expect_str_eq(pgt_sql(a, "SELECT count(*) FROM m2m_schema_migrations", 0, NULL), "0");
	unlink(path);
	rmdir(dir);
	db_admin_close(a);
}

static const char mod_sql[] = "INSERT INTO modules (identity, pseudonym) VALUES ($1, decode($2, 'hex'))";
#define PS1 "01010101010101010101010101010101"
#define PS2 "02020202020202020202020202020202"
#define KEY(b) "0" b "1111111111111111111111111111111111111111111111111111111111111111"

Test(schema, duplicate_identity_and_pseudonym_rejected)
{
	const char *p1[2] = { "m1", PS1 }, *p2[2] = { "m1", PS2 }, *p3[2] = { "m2", PS1 };
	const char *bad[2] = { "with space", PS2 };
	struct db_admin *a;
	char ci[128];

	pgt_migrated(ci, sizeof(ci), &a);
	pgt_sql(a, mod_sql, 2, p1);
	cr_expect_str_eq(pgt_sqlstate(a, mod_sql, 2, p2), "23505", "same identity");
	cr_expect_str_eq(pgt_sqlstate(a, mod_sql, 2, p3), "23505", "same pseudonym");
	cr_expect_str_eq(pgt_sqlstate(a, mod_sql, 2, bad), "23514", "identity with a space");
	cr_expect_str_eq(pgt_sqlstate(a, mod_sql, 2, (const char *[]){ "m3", "0303030303030303" }),
	    "23514", "an 8-byte pseudonym (the protocol takes 16 to 32)");
	cr_expect_str_eq(pgt_sqlstate(a, mod_sql, 2, (const char *[]){ "m3", PS2 PS2 "03" }),
	    "23514", "a 33-byte pseudonym");
	db_admin_close(a);
}

Test(schema, second_current_key_rejected)
{
	const char *p1[2] = { "m1", PS1 };
	const char *sql = "INSERT INTO module_keys (module_id, pubkey, state, valid_from)"
	    " SELECT id, decode($1, 'hex'), $2, now() FROM modules WHERE identity = 'm1'";
	const char *k1[2] = { KEY("2"), "current" }, *k2[2] = { KEY("3"), "current" };
	const char *short_key[2] = { "0211", "retired" };
	struct db_admin *a;
	char ci[128];

	pgt_migrated(ci, sizeof(ci), &a);
	pgt_sql(a, mod_sql, 2, p1);
	pgt_sql(a, sql, 2, k1);
	cr_expect_str_eq(pgt_sqlstate(a, sql, 2, k2), "23505", "second current key");
	cr_expect_str_eq(pgt_sqlstate(a, sql, 2, k1), "23505", "same key twice");
	cr_expect_str_eq(pgt_sqlstate(a, sql, 2, short_key), "23514", "2-byte key");
	/* A pending key has no valid_from: the CHECK on states and dates. */
	cr_expect_str_eq(pgt_sqlstate(a, sql, 2, (const char *[]){ KEY("3"), "pending" }), "23514");
	db_admin_close(a);
}

Test(schema, unknown_status_rejected_and_revocation_final)
{
	const char *p1[2] = { "m1", PS1 };
	struct db_admin *a;
	char ci[128];

	pgt_migrated(ci, sizeof(ci), &a);
	pgt_sql(a, mod_sql, 2, p1);
	cr_expect_str_eq(pgt_sqlstate(a, "UPDATE modules SET status = 'deleted'", 0, NULL), "23514");
	cr_expect_str_eq(pgt_sqlstate(a, "UPDATE modules SET status = NULL", 0, NULL), "23502");
	pgt_sql(a, "UPDATE modules SET status = 'revoked'", 0, NULL);
	cr_expect_str_eq(pgt_sqlstate(a, "UPDATE modules SET status = 'active'", 0, NULL), "23514");
	cr_expect_str_eq(pgt_sqlstate(a, "INSERT INTO instructions (module_id, body, state)"
	    " SELECT id, '\\x00', 'lost' FROM modules", 0, NULL), "23514");
	db_admin_close(a);
}

Test(schema, foreign_keys_and_server_key_id)
{
	struct db_admin *a;
	char ci[128];

	pgt_migrated(ci, sizeof(ci), &a);
	cr_expect_str_eq(pgt_sqlstate(a, "INSERT INTO reports (module_id, session_id, seq, payload)"
	    " VALUES (999, '\\x0000000000000000', 1, '\\x')", 0, NULL), "23503");
	cr_expect_str_eq(pgt_sqlstate(a, "INSERT INTO instructions (module_id, body)"
	    " VALUES (999, '\\x00')", 0, NULL), "23503");
	cr_expect_str_eq(pgt_sqlstate(a, "INSERT INTO server_keys (key_id, pubkey)"
	    " VALUES ('\\x00000000', decode('" KEY("2") "', 'hex'))", 0, NULL), "23514",
	    "key id must be SHA-256(pubkey)[0..3]");
	pgt_sql(a, "INSERT INTO server_keys (key_id, pubkey) SELECT substring(sha256(k) FROM 1 FOR 4), k"
	    " FROM (SELECT decode('" KEY("2") "', 'hex') AS k) x", 0, NULL);
	db_admin_close(a);
}
