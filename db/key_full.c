/* Fills module_keys.pubkey_full (migration 007) for keys written before it:
 * the uncompressed form spares m2md a square root per handshake. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"
#include "src/common/hex.h"

#define CHUNK 1000

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

/* One chunk after key row *last: decodes, then writes them in one UPDATE
 * (its own transaction, so an interrupted run keeps what it did). */
static enum m2m_err
fill_chunk(struct db_admin *a, long long *last, size_t *n, char *err, size_t errlen)
{
	char lastv[24], *ids = NULL, *fulls = NULL;
	const char *p[2];
	uint8_t pub[PROTO_POINT_LEN], full[PROTO_POINT_FULL_LEN];
	size_t i, rows, io = 0, fo = 0, len;
	PGresult *r;
	enum m2m_err e = M2M_OK;

	snprintf(lastv, sizeof(lastv), "%lld", *last);
	p[0] = lastv;
	r = db_query(a, "SELECT id, encode(pubkey, 'hex') FROM module_keys WHERE id > $1::bigint"
	    " AND pubkey_full IS NULL AND state IN ('current', 'pending') ORDER BY id LIMIT 1000",
	    1, p);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return db_result_fail(r, "module_keys", err, errlen);
	rows = (size_t)PQntuples(r);
	*n = rows;
	if (rows == 0)
		goto out;
	ids = malloc(rows * 24 + 3);
	fulls = malloc(rows * (2 * PROTO_POINT_FULL_LEN + 1) + 3);
	if (ids == NULL || fulls == NULL) {
		e = M2M_E_NOMEM;
		goto out;
	}
	ids[io++] = '{';
	fulls[fo++] = '{';
	for (i = 0; i < rows; i++) {
		const char *hex = PQgetvalue(r, (int)i, 1);

		if (m2m_unhex(hex, strlen(hex), pub, sizeof(pub), &len) != 0 ||
		    len != PROTO_POINT_LEN || db_key_full(a, pub, full, err, errlen) != M2M_OK) {
			snprintf(err, errlen, "module key row %s: not a P-256 point",
			    PQgetvalue(r, (int)i, 0));
			e = M2M_E_DB_QUERY;
			goto out;
		}
		io += (size_t)sprintf(ids + io, "%s%s", i ? "," : "", PQgetvalue(r, (int)i, 0));
		if (i)
			fulls[fo++] = ',';
		m2m_hex(full, PROTO_POINT_FULL_LEN, fulls + fo);
		fo += 2 * PROTO_POINT_FULL_LEN;
	}
	*last = strtoll(PQgetvalue(r, (int)rows - 1, 0), NULL, 10);
	memcpy(ids + io, "}", 2);
	memcpy(fulls + fo, "}", 2);
	p[0] = ids;
	p[1] = fulls;
	e = db_command(a, "UPDATE module_keys k SET pubkey_full = decode(v.f, 'hex')"
	    " FROM unnest($1::bigint[], $2::text[]) AS v (id, f)"
	    " WHERE k.id = v.id AND k.pubkey_full IS NULL", 2, p, "module_keys", err, errlen);
out:
	PQclear(r);
	free(ids);
	free(fulls);
	return e;
}

enum m2m_err
db_admin_fill_full_keys(struct db_admin *a, size_t *filled, char *err, size_t errlen)
{
	long long last = 0;
	size_t n;
	enum m2m_err e;
	int yes;

	*filled = 0;
	if ((e = has_column(a, &yes, err, errlen)) != M2M_OK || !yes)
		return e;
	do {
		if ((e = fill_chunk(a, &last, &n, err, errlen)) != M2M_OK)
			return e;
		*filled += n;
	} while (n == CHUNK);
	return M2M_OK;
}
