/* SPDX-License-Identifier: Apache-2.0 */
/* Fills module_keys.pubkey_full (migration 007) for keys written before it:
 * the uncompressed form spares m2md a square root per handshake. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"
#include "src/common/hex.h"

#define CHUNK "1000"

struct fill {
	long long last;			/* keyset pagination: the last row seen */
	size_t rows, filled, invalid;
};

/* Whether the column exists: before migration 007 there is nothing to do. */
static enum m2m_err
has_column(struct db_admin *a, int *yes, char *err, size_t errlen)
{
	char out[8];
	enum m2m_err e;

	e = db_admin_exec(a, "SELECT count(*) FROM pg_attribute WHERE attrelid ="
	    " to_regclass('module_keys') AND attname = 'pubkey_full' AND NOT attisdropped",
	    0, NULL, out, sizeof(out), NULL, err, errlen);
	*yes = e == M2M_OK && strcmp(out, "1") == 0;
	return e;
}

/* Appends row i's id and uncompressed key to the two array texts; a key
 * that is not a curve point (possible before 007) is counted and left. */
static enum m2m_err
add_row(struct db_admin *a, PGresult *r, int i, struct fill *f, char *ids, size_t *io,
    char *fulls, size_t *fo)
{
	const char *hex = PQgetvalue(r, i, 1);
	uint8_t pub[PROTO_POINT_LEN], full[PROTO_POINT_FULL_LEN];
	size_t len;
	enum m2m_err e;

	if (m2m_unhex(hex, strlen(hex), pub, sizeof(pub), &len) != 0 || len != PROTO_POINT_LEN) {
		f->invalid++;
		return M2M_OK;
	}
	if ((e = db_key_full(a, pub, full, NULL, 0)) == M2M_E_PROTO_POINT) {
		f->invalid++;
		return M2M_OK;
	}
	if (e != M2M_OK)
		return e;
	*io += (size_t)sprintf(ids + *io, "%s%s", *io > 1 ? "," : "", PQgetvalue(r, i, 0));
	if (*fo > 1)
		fulls[(*fo)++] = ',';
	m2m_hex(full, PROTO_POINT_FULL_LEN, fulls + *fo);
	*fo += 2 * PROTO_POINT_FULL_LEN;
	return M2M_OK;
}

/* One chunk after f->last: decoded here, written by one UPDATE (its own
 * transaction, so an interrupted run keeps what it did). */
static enum m2m_err
fill_chunk(struct db_admin *a, struct fill *f, char *err, size_t errlen)
{
	char lastv[24], *ids = NULL, *fulls = NULL;
	const char *p[2] = { lastv, NULL };
	size_t io = 1, fo = 1;
	PGresult *r, *u;
	enum m2m_err e = M2M_OK;

	snprintf(lastv, sizeof(lastv), "%lld", f->last);
	r = db_query(a, "SELECT id, encode(pubkey, 'hex') FROM module_keys WHERE id > $1::bigint"
	    " AND pubkey_full IS NULL AND state IN ('current', 'pending') ORDER BY id"
	    " LIMIT " CHUNK, 1, p);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return db_result_fail(r, "module_keys", err, errlen);
	if ((f->rows = (size_t)PQntuples(r)) == 0)
		goto out;
	ids = malloc(f->rows * 24 + 3);
	fulls = malloc(f->rows * (2 * PROTO_POINT_FULL_LEN + 1) + 3);
	if (ids == NULL || fulls == NULL) {
		e = M2M_E_NOMEM;
		goto out;
	}
	ids[0] = fulls[0] = '{';
	for (int i = 0; i < (int)f->rows && e == M2M_OK; i++)
		e = add_row(a, r, i, f, ids, &io, fulls, &fo);
	f->last = strtoll(PQgetvalue(r, (int)f->rows - 1, 0), NULL, 10);
	if (e != M2M_OK || io == 1)
		goto out;
	memcpy(ids + io, "}", 2);
	memcpy(fulls + fo, "}", 2);
	p[0] = ids;
	p[1] = fulls;
	u = db_query(a, "UPDATE module_keys k SET pubkey_full = decode(v.f, 'hex')"
	    " FROM unnest($1::bigint[], $2::text[]) AS v (id, f)"
	    " WHERE k.id = v.id AND k.pubkey_full IS NULL", 2, p);
	if (PQresultStatus(u) != PGRES_COMMAND_OK)
		e = db_result_fail(u, "module_keys", err, errlen);
	else {
		f->filled += strtoul(PQcmdTuples(u), NULL, 10);
		PQclear(u);
	}
out:
	PQclear(r);
	free(ids);
	free(fulls);
	return e;
}

enum m2m_err
db_admin_fill_full_keys(struct db_admin *a, size_t *filled, size_t *invalid, char *err,
    size_t errlen)
{
	struct fill f = { 0 };
	enum m2m_err e;
	int yes;

	*filled = *invalid = 0;
	if ((e = has_column(a, &yes, err, errlen)) != M2M_OK || !yes)
		return e;
	do {
		if ((e = fill_chunk(a, &f, err, errlen)) != M2M_OK)
			break;
	} while (f.rows == (size_t)atoi(CHUNK));
	*filled = f.filled;
	*invalid = f.invalid;
	return e;
}
