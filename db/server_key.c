/* SPDX-License-Identifier: Apache-2.0 */
/* The server_keys table: public halves of the HSM keys, registered by
 * `m2mctl hsm export --register`, read by enrollment and the server. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "db/db_int.h"

enum m2m_err
db_admin_server_key_add(const char *conninfo, const uint8_t key_id[4],
    const uint8_t pub[33], const char *label, char *err, size_t errlen)
{
	const char *sql = "INSERT INTO server_keys (key_id, pubkey, label) VALUES ($1, $2, $3)";
	const char *vals[3] = { (const char *)key_id, (const char *)pub, label != NULL ? label : "" };
	const int lens[3] = { 4, 33, 0 }, fmts[3] = { 1, 1, 0 };
	struct db_admin *a;
	PGresult *r;
	enum m2m_err e;

	if ((e = db_admin_open(conninfo, &a, err, errlen)) != M2M_OK)
		return e;
	r = db_query_bin(a, sql, 3, vals, lens, fmts);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		/* The CHECK on key_id = SHA-256(pubkey)[0..3] lands here too. */
		e = db_result_fail(r, "registering the server key", err, errlen);
		if (e == M2M_E_DB_DUPLICATE)
			db_detail(err, errlen, "server key", "this key is already registered");
	} else {
		PQclear(r);
	}
	db_admin_close(a);
	return e;
}

/* Decodes one (key_id, pubkey) row of text output. */
static enum m2m_err
key_row(PGresult *r, int i, uint8_t key_id[4], uint8_t pub[33], char *err, size_t errlen)
{
	size_t n1 = 0, n2 = 0;

	if (db_bytea_from_text(PQgetvalue(r, i, 0), key_id, 4, &n1) != 0 || n1 != 4 ||
	    db_bytea_from_text(PQgetvalue(r, i, 1), pub, 33, &n2) != 0 || n2 != 33) {
		db_detail(err, errlen, "server_keys", "malformed row");
		return M2M_E_DB_QUERY;
	}
	return M2M_OK;
}

static const char keys_sql[] = "SELECT key_id, pubkey FROM server_keys"
    " WHERE state = 'active' ORDER BY created_at DESC, key_id";

enum m2m_err
db_admin_server_key_latest(struct db_admin *a, uint8_t key_id[4], uint8_t pub[33],
    char *err, size_t errlen)
{
	PGresult *r = db_query(a, keys_sql, 0, NULL);
	enum m2m_err e;

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return db_result_fail(r, "server_keys", err, errlen);
	if (PQntuples(r) == 0) {
		PQclear(r);
		db_detail(err, errlen, "no active server key in the database",
		    "run 'm2mctl hsm export --register' first (or pass --server-key)");
		return M2M_E_DB_NO_SERVER_KEY;
	}
	e = key_row(r, 0, key_id, pub, err, errlen);
	PQclear(r);
	return e;
}

static const char all_sql[] = "SELECT key_id, pubkey, label, state = 'active'"
    " FROM server_keys ORDER BY state = 'active' DESC, created_at DESC, key_id";

enum m2m_err
db_admin_server_keys(struct db_admin *a, struct db_server_key *keys, size_t cap,
    size_t *n, int *more, char *err, size_t errlen)
{
	PGresult *r = db_query(a, all_sql, 0, NULL);
	enum m2m_err e = M2M_OK;
	int i;

	*n = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return db_result_fail(r, "server_keys", err, errlen);
	for (i = 0; i < PQntuples(r) && *n < cap && e == M2M_OK; i++) {
		struct db_server_key *k = &keys[*n];

		if ((e = key_row(r, i, k->key_id, k->pub, err, errlen)) != M2M_OK)
			break;
		snprintf(k->label, sizeof(k->label), "%s", PQgetvalue(r, i, 2));
		k->active = PQgetvalue(r, i, 3)[0] == 't';
		(*n)++;
	}
	*more = PQntuples(r) > i;
	PQclear(r);
	return e;
}
