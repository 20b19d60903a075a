/* SPDX-License-Identifier: Apache-2.0 */
/* Module administration: list, show, status changes, key rotation. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"

#define MODULE_COLS "m.id, m.identity, m.status, m.pseudonym, m.previous_pseudonym," \
	" date_trunc('second', m.created_at)::text, date_trunc('second', m.last_seen)::text," \
	" (SELECT k.pubkey FROM module_keys k WHERE k.module_id = m.id AND k.state = 'current')," \
	" (SELECT count(*) FROM instructions i WHERE i.module_id = m.id AND i.state <> 'acknowledged')"

static void
module_row(PGresult *r, int i, struct db_module_info *m)
{
	size_t n = 0;

	memset(m, 0, sizeof(*m));
	m->id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
	db_strlcpy(m->identity, PQgetvalue(r, i, 1), sizeof(m->identity));
	db_strlcpy(m->status, PQgetvalue(r, i, 2), sizeof(m->status));
	if (db_bytea_from_text(PQgetvalue(r, i, 3), m->pseudonym, sizeof(m->pseudonym), &n) == 0)
		m->pseudonym_len = n;
	if (!PQgetisnull(r, i, 4) &&
	    db_bytea_from_text(PQgetvalue(r, i, 4), m->previous, sizeof(m->previous), &n) == 0)
		m->previous_len = n;
	db_strlcpy(m->created_at, PQgetvalue(r, i, 5), sizeof(m->created_at));
	db_strlcpy(m->last_seen, PQgetvalue(r, i, 6), sizeof(m->last_seen));
	m->has_key = !PQgetisnull(r, i, 7) &&
	    db_bytea_from_text(PQgetvalue(r, i, 7), m->key, sizeof(m->key), &n) == 0 && n == 33;
	m->instr_open = strtoll(PQgetvalue(r, i, 8), NULL, 10);
	m->reports = -1;
}

enum m2m_err
db_admin_modules(struct db_admin *a, const char *status, long limit, db_module_cb cb,
    void *arg, char *err, size_t errlen)
{
	char lim[24];
	const char *p[2] = { status, lim };
	PGresult *r;
	struct db_module_info m;
	int i;

	snprintf(lim, sizeof(lim), "%ld", limit > 0 ? limit : 100);
	r = db_query(a, "SELECT " MODULE_COLS " FROM modules m"
	    " WHERE $1::text IS NULL OR m.status = $1 ORDER BY m.id DESC LIMIT $2::bigint", 2, p);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return db_result_fail(r, "modules", err, errlen);
	for (i = 0; i < PQntuples(r); i++) {
		module_row(r, i, &m);
		cb(arg, &m);
	}
	PQclear(r);
	return M2M_OK;
}

static void
not_found(const char *identity, char *err, size_t errlen)
{
	db_detail(err, errlen, identity, "no module has this identity");
}

enum m2m_err
db_admin_module(struct db_admin *a, const char *identity, struct db_module_info *m,
    char *err, size_t errlen)
{
	const char *p[1] = { identity };
	PGresult *r = db_query(a, "SELECT " MODULE_COLS ","
	    " (SELECT count(*) FROM reports x WHERE x.module_id = m.id),"
	    " date_trunc('second', m.last_handshake_at)::text, host(m.last_address)"
	    " FROM modules m WHERE m.identity = $1", 1, p);

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return db_result_fail(r, "modules", err, errlen);
	if (PQntuples(r) == 0) {
		PQclear(r);
		not_found(identity, err, errlen);
		return M2M_E_DB_NOT_FOUND;
	}
	module_row(r, 0, m);
	m->reports = strtoll(PQgetvalue(r, 0, 9), NULL, 10);
	db_strlcpy(m->last_handshake_at, PQgetvalue(r, 0, 10), sizeof(m->last_handshake_at));
	db_strlcpy(m->last_address, PQgetvalue(r, 0, 11), sizeof(m->last_address));
	PQclear(r);
	return M2M_OK;
}

enum m2m_err
db_admin_module_keys(struct db_admin *a, int64_t module_id, db_key_cb cb, void *arg,
    char *err, size_t errlen)
{
	char id[24];
	const char *p[1] = { id };
	struct db_key_info k;
	PGresult *r;
	size_t n;
	int i;

	snprintf(id, sizeof(id), "%lld", (long long)module_id);
	r = db_query(a, "SELECT pubkey, state, date_trunc('second', created_at)::text,"
	    " date_trunc('second', valid_from)::text, date_trunc('second', valid_until)::text"
	    " FROM module_keys WHERE module_id = $1 ORDER BY id", 1, p);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return db_result_fail(r, "module_keys", err, errlen);
	for (i = 0; i < PQntuples(r); i++) {
		memset(&k, 0, sizeof(k));
		db_bytea_from_text(PQgetvalue(r, i, 0), k.pub, sizeof(k.pub), &n);
		db_strlcpy(k.state, PQgetvalue(r, i, 1), sizeof(k.state));
		db_strlcpy(k.created_at, PQgetvalue(r, i, 2), sizeof(k.created_at));
		db_strlcpy(k.valid_from, PQgetvalue(r, i, 3), sizeof(k.valid_from));
		db_strlcpy(k.valid_until, PQgetvalue(r, i, 4), sizeof(k.valid_until));
		cb(arg, &k);
	}
	PQclear(r);
	return M2M_OK;
}

/* Locks the module row for the rest of the transaction; its status in st. */
static enum m2m_err
lock_module(struct db_admin *a, const char *identity, char *id, size_t idlen,
    char *st, size_t stlen, char *err, size_t errlen)
{
	const char *p[1] = { identity };
	PGresult *r = db_query(a, "SELECT id, status FROM modules WHERE identity = $1 FOR UPDATE",
	    1, p);

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return db_result_fail(r, "modules", err, errlen);
	if (PQntuples(r) == 0) {
		PQclear(r);
		not_found(identity, err, errlen);
		return M2M_E_DB_NOT_FOUND;
	}
	db_strlcpy(id, PQgetvalue(r, 0, 0), idlen);
	db_strlcpy(st, PQgetvalue(r, 0, 1), stlen);
	PQclear(r);
	return M2M_OK;
}

static enum m2m_err
set_status_tx(struct db_admin *a, const char *identity, const char *status, char *err,
    size_t errlen)
{
	char id[24], st[16];
	const char *p[2] = { id, status };
	enum m2m_err e;

	if ((e = lock_module(a, identity, id, sizeof(id), st, sizeof(st), err, errlen)) != M2M_OK)
		return e;
	if (strcmp(st, "revoked") == 0 || strcmp(st, status) == 0) {
		db_detail(err, errlen, identity, strcmp(st, "revoked") == 0 ?
		    "module is revoked; revocation is final" : "module already has this status");
		return M2M_E_DB_STATE;
	}
	if ((e = db_command(a, "UPDATE modules SET status = $2 WHERE id = $1", 2, p,
	    "modules", err, errlen)) != M2M_OK || strcmp(status, "revoked") != 0)
		return e;
	return db_command(a, "UPDATE module_keys SET state = 'revoked', valid_until = now()"
	    " WHERE module_id = $1 AND state IN ('current', 'pending')", 1, p,
	    "module_keys", err, errlen);
}

enum m2m_err
db_admin_set_status(struct db_admin *a, const char *identity, const char *status,
    char *err, size_t errlen)
{
	enum m2m_err e;

	if ((e = db_admin_begin(a, err, errlen)) != M2M_OK)
		return e;
	if ((e = set_status_tx(a, identity, status, err, errlen)) != M2M_OK) {
		db_admin_rollback(a);
		return e;
	}
	return db_admin_commit(a, err, errlen);
}

static enum m2m_err
rotate_tx(struct db_admin *a, const char *identity, const uint8_t pub[33], char *err,
    size_t errlen)
{
	char id[24], st[16];
	uint8_t full[PROTO_POINT_FULL_LEN];
	const char *p[3] = { id, (const char *)pub, (const char *)full };
	const int lens[3] = { 0, 33, PROTO_POINT_FULL_LEN }, fmts[3] = { 0, 1, 1 };
	PGresult *r;
	enum m2m_err e;

	if ((e = db_key_full(a, pub, full, err, errlen)) != M2M_OK)
		return e;
	if ((e = lock_module(a, identity, id, sizeof(id), st, sizeof(st), err, errlen)) != M2M_OK)
		return e;
	if (strcmp(st, "revoked") == 0) {
		db_detail(err, errlen, identity, "module is revoked; revocation is final");
		return M2M_E_DB_STATE;
	}
	if ((e = db_command(a, "UPDATE module_keys SET state = CASE state WHEN 'current'"
	    " THEN 'retired' ELSE 'revoked' END, valid_until = now()"
	    " WHERE module_id = $1 AND state IN ('current', 'pending')", 1, p,
	    "module_keys", err, errlen)) != M2M_OK)
		return e;
	r = db_query_bin(a, "INSERT INTO module_keys (module_id, pubkey, pubkey_full, state,"
	    " valid_from) VALUES ($1, $2, $3, 'current', now())", 3, p, lens, fmts);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		e = db_result_fail(r, "module_keys", err, errlen);
		if (e == M2M_E_DB_DUPLICATE)
			db_detail(err, errlen, "public key", "already used (by this or another module)");
		return e;
	}
	PQclear(r);
	return M2M_OK;
}

enum m2m_err
db_admin_rotate_key(struct db_admin *a, const char *identity, const uint8_t pub[33],
    char *err, size_t errlen)
{
	enum m2m_err e;

	if ((e = db_admin_begin(a, err, errlen)) != M2M_OK)
		return e;
	if ((e = rotate_tx(a, identity, pub, err, errlen)) != M2M_OK) {
		db_admin_rollback(a);
		return e;
	}
	return db_admin_commit(a, err, errlen);
}
