/* SPDX-License-Identifier: Apache-2.0 */
/* Module lookups for the server: by pseudonym (current or previous) or by
 * identity, one pipeline segment each, answered through a callback. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db/async_int.h"

struct lookup {
	struct db_job job;
	db_lookup_cb cb;
	void *arg;
	PGresult *res;
};

static void
lookup_result(struct db_async *db, struct db_job *j, int idx, PGresult *r)
{
	struct lookup *l = (struct lookup *)j;

	(void)db;
	(void)idx;
	PQclear(l->res);
	l->res = r;
}

/* Copies a binary bytea column of exactly len bytes; 0 if NULL or wrong. */
static int
get_fixed(PGresult *r, int col, uint8_t *out, size_t len)
{
	if (PQgetisnull(r, 0, col) || (size_t)PQgetlength(r, 0, col) != len)
		return 0;
	memcpy(out, PQgetvalue(r, 0, col), len);
	return 1;
}

/* Binary row: id int8, identity text, status text, current, pending, and
 * the current key uncompressed (NULL for keys older than migration 007). */
static enum m2m_err
parse(PGresult *r, struct db_module *m)
{
	const char *st;
	size_t idlen;

	memset(m, 0, sizeof(*m));
	if (PQntuples(r) == 0)
		return M2M_E_DB_NOT_FOUND;
	/* Two rows: one module's pseudonym is another's previous one (2^-128). */
	if (PQntuples(r) > 1 || PQnfields(r) != 6 || PQgetlength(r, 0, 0) != 8)
		return M2M_E_DB_NOT_FOUND;
	m->id = (int64_t)proto_get_u64((const uint8_t *)PQgetvalue(r, 0, 0));
	idlen = (size_t)PQgetlength(r, 0, 1);
	if (idlen > PROTO_IDENTITY_MAX)
		return M2M_E_DB_QUERY;
	memcpy(m->rec.identity, PQgetvalue(r, 0, 1), idlen);
	m->rec.identity_len = idlen;
	st = PQgetvalue(r, 0, 2);
	m->status = strcmp(st, "active") == 0 ? DB_ACTIVE :
	    strcmp(st, "suspended") == 0 ? DB_SUSPENDED : DB_REVOKED;
	/* Active for the handshake only with a current key to check against. */
	m->rec.active = get_fixed(r, 3, m->rec.key, PROTO_POINT_LEN) && m->status == DB_ACTIVE;
	m->rec.has_pending = get_fixed(r, 4, m->rec.pending_key, PROTO_POINT_LEN);
	m->rec.has_key_full = m->rec.active &&
	    get_fixed(r, 5, m->rec.key_full, PROTO_POINT_FULL_LEN);
	return M2M_OK;
}

static void
lookup_done(struct db_async *db, struct db_job *j, enum m2m_err err)
{
	struct lookup *l = (struct lookup *)j;
	struct db_module m;

	db->st.lookups++;
	if (err == M2M_OK && l->res != NULL)
		err = parse(l->res, &m);
	else if (err == M2M_OK)
		err = M2M_E_DB_QUERY;
	l->cb(l->arg, err, err == M2M_OK ? &m : NULL);
	PQclear(l->res);
	free(l);
}

static const struct db_job_ops lookup_ops = { lookup_result, lookup_done };

static enum m2m_err
lookup(struct db_async *db, const char *stmt, const void *key, size_t len, int binary,
    db_lookup_cb cb, void *arg)
{
	const char *vals[1] = { key };
	const int lens[1] = { (int)len }, fmts[1] = { binary };
	struct lookup *l;

	if (!db_async_up(db))
		return M2M_E_DB_UNAVAILABLE;
	if (db->inflight + db->npend >= db->s.queue_max)
		return M2M_E_FULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return M2M_E_NOMEM;
	l->job.ops = &lookup_ops;
	l->cb = cb;
	l->arg = arg;
	db_pipe_push(db, &l->job);
	/* Binary results: the id arrives as 8 bytes, keys as raw bytes. A
	 * failed send means a broken connection: the job fails from the loop. */
	if (!PQsendQueryPrepared(db->conn, stmt, 1, vals, lens, fmts, 1) ||
	    !PQpipelineSync(db->conn))
		db_link_lost(db, M2M_E_DB_UNAVAILABLE, PQerrorMessage(db->conn));
	else
		db_pipe_flush(db);
	return M2M_OK;
}

enum m2m_err
db_lookup_pseudonym(struct db_async *db, const uint8_t *pseudonym, size_t len,
    db_lookup_cb cb, void *arg)
{
	if (len < PROTO_PSEUDONYM_MIN || len > PROTO_PSEUDONYM_MAX)
		return M2M_E_INVALID_ARG;
	return lookup(db, db_stmt_lookup_ps, pseudonym, len, 1, cb, arg);
}

enum m2m_err
db_lookup_identity(struct db_async *db, const char *identity, size_t len,
    db_lookup_cb cb, void *arg)
{
	char text[PROTO_IDENTITY_MAX + 1];

	/* Text parameters are NUL-terminated strings. */
	if (len == 0 || len > PROTO_IDENTITY_MAX || memchr(identity, 0, len) != NULL)
		return M2M_E_INVALID_ARG;
	memcpy(text, identity, len);
	text[len] = '\0';
	return lookup(db, db_stmt_lookup_id, text, len, 0, cb, arg);
}
