/* SPDX-License-Identifier: Apache-2.0 */
/* `m2mctl db status`: migrations on disk against those the database
 * recorded, flagging files changed after they were applied. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"
#include "src/common/hex.h"

/* Rows of m2m_schema_migrations, or none when the table does not exist. */
static enum m2m_err
applied_rows(struct db_admin *a, PGresult **out, char *err, size_t errlen)
{
	char exists[8];
	enum m2m_err e;

	*out = NULL;
	if ((e = db_admin_exec(a, "SELECT to_regclass('m2m_schema_migrations') IS NOT NULL",
	    0, NULL, exists, sizeof(exists), NULL, err, errlen)) != M2M_OK)
		return e;
	if (strcmp(exists, "t") != 0)
		return M2M_OK;
	/* Through to_jsonb: tables made before servers_before_ok have no such
	 * column, and their rows declare nothing. */
	*out = db_query(a, "SELECT version, name, encode(checksum, 'hex'),"
	    " date_trunc('second', applied_at)::text,"
	    " coalesce(to_jsonb(m) ->> 'servers_before_ok', 'unknown')"
	    " FROM m2m_schema_migrations m ORDER BY version", 0, NULL);
	if (PQresultStatus(*out) != PGRES_TUPLES_OK) {
		e = db_result_fail(*out, "m2m_schema_migrations", err, errlen);
		*out = NULL;
	}
	return e;
}

static int
find_row(PGresult *r, unsigned version)
{
	int i;

	for (i = 0; r != NULL && i < PQntuples(r); i++)
		if (strtoul(PQgetvalue(r, i, 0), NULL, 10) == version)
			return i;
	return -1;
}

/* Fills m for file f (may be NULL: applied, file missing) and row i (-1: pending). */
static void
describe(const char *dir, const struct db_mfile *f, PGresult *r, int i,
    struct db_migration *m)
{
	char *text = NULL, hex[65], err[8];
	const char *recorded;
	uint8_t sum[32];
	int compat = -1;

	memset(m, 0, sizeof(*m));
	m->version = f != NULL ? f->version : (unsigned)strtoul(PQgetvalue(r, i, 0), NULL, 10);
	db_strlcpy(m->name, f != NULL ? f->name : PQgetvalue(r, i, 1), sizeof(m->name));
	m->missing = f == NULL;
	m->compat = -1;
	if (f != NULL && db_migration_read(dir, f->name, &text, sum, &compat, err,
	    sizeof(err)) == M2M_OK)
		m->compat = compat;
	if (i >= 0) {
		m->applied = 1;
		db_strlcpy(m->applied_at, PQgetvalue(r, i, 3), sizeof(m->applied_at));
		if (text != NULL) {
			m2m_hex(sum, 32, hex);
			m->modified = strcmp(hex, PQgetvalue(r, i, 2)) != 0;
		}
		recorded = PQgetvalue(r, i, 4);
		if (f == NULL)
			m->compat = strcmp(recorded, "true") == 0 ? 1 :
			    strcmp(recorded, "false") == 0 ? 0 : -1;
	}
	free(text);
}

enum m2m_err
db_migration_status(struct db_admin *a, const char *dir, db_migration_cb cb,
    void *arg, char *err, size_t errlen)
{
	struct db_mfile *v = NULL;
	struct db_migration m;
	PGresult *r = NULL;
	size_t n = 0, i;
	enum m2m_err e;
	int row;

	if ((e = db_migration_scan(dir, &v, &n, err, errlen)) != M2M_OK ||
	    (e = applied_rows(a, &r, err, errlen)) != M2M_OK)
		goto out;
	for (i = 0; i < n; i++) {
		describe(dir, &v[i], r, find_row(r, v[i].version), &m);
		cb(arg, &m);
	}
	/* Applied by a newer m2mctl, or its file deleted. */
	for (row = 0; r != NULL && row < PQntuples(r); row++) {
		unsigned ver = (unsigned)strtoul(PQgetvalue(r, row, 0), NULL, 10);

		for (i = 0; i < n && v[i].version != ver; i++)
			;
		if (i == n) {
			describe(dir, NULL, r, row, &m);
			cb(arg, &m);
		}
	}
out:
	PQclear(r);
	free(v);
	return e;
}
