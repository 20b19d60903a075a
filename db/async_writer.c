/* SPDX-License-Identifier: Apache-2.0 */
/* The group-commit writer: the server's writes queue up, leave as one
 * pipeline segment (one implicit transaction) per batch, and each item's
 * callback runs once the Sync confirmed the commit, or the batch failed.
 * A segment: one statement per handshake or REKEY, then one for all DATA. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "db/async_int.h"

#define TEXT_ROOM	64	/* a statement item's numbers, as text */

static struct db_item *
item_new(const char *stmt, size_t bytes, db_write_cb cb, void *arg, int64_t module_id)
{
	struct db_item *it = calloc(1, sizeof(*it) + bytes + (stmt != NULL ? TEXT_ROOM : 0));

	if (it != NULL) {
		it->stmt = stmt;
		it->cb = cb;
		it->arg = arg;
		it->module_id = module_id;
	}
	return it;
}

/* Appends a binary (bytea) parameter, copied; NULL p gives SQL NULL. */
static void
put_bin(struct db_item *it, size_t *off, const void *p, size_t len)
{
	int i = it->nparams++;

	it->fmts[i] = 1;
	it->lens[i] = (int)len;
	if (p == NULL)
		return;
	if (len > 0)
		memcpy(it->data + *off, p, len);
	it->vals[i] = (const char *)it->data + *off;
	*off += len;
}

static void
put_int(struct db_item *it, size_t *off, long long v)
{
	int i = it->nparams++;
	int n = snprintf((char *)it->data + *off, 24, "%lld", v);

	it->vals[i] = (const char *)it->data + *off;
	*off += (size_t)n + 1;
}

/* The IP address of a source as text for an inet parameter; NULL gives
 * SQL NULL. Room: INET6_ADDRSTRLEN. */
static void
put_addr(struct db_item *it, size_t *off, const struct sockaddr_storage *ss)
{
	int i = it->nparams++;
	char *text = (char *)it->data + *off;
	const void *ip = NULL;

	if (ss != NULL && ss->ss_family == AF_INET)
		ip = &((const struct sockaddr_in *)ss)->sin_addr;
	else if (ss != NULL && ss->ss_family == AF_INET6)
		ip = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	if (ip == NULL || inet_ntop(ss->ss_family, ip, text, INET6_ADDRSTRLEN) == NULL)
		return;
	it->vals[i] = text;
	*off += strlen(text) + 1;
}

static void
item_free(struct db_item *it)
{
	PQclear(it->res);
	free(it);
}

static void
item_finish(struct db_item *it, enum m2m_err err, struct db_write_result *r)
{
	r->module_id = it->module_id;
	it->cb(it->arg, err, r);
	item_free(it);
}

/* A handshake's row 0 also has the pseudonym for the WELCOME (4th column). */
static enum m2m_err
parse_pseudonym(PGresult *res, struct db_write_result *r)
{
	size_t len;

	if (PQnfields(res) != 4)
		return M2M_OK;
	len = PQgetisnull(res, 0, 3) ? 0 : (size_t)PQgetlength(res, 0, 3);
	if (len < PROTO_PSEUDONYM_MIN || len > PROTO_PSEUDONYM_MAX)
		return M2M_E_DB_QUERY;
	memcpy(r->pseudonym, PQgetvalue(res, 0, 3), len);
	r->pseudonym_len = len;
	return M2M_OK;
}

/* Row 0: ok (and the handshake's pseudonym); rows 1..: (ok, instr_id, body)
 * of instructions handed out. */
static enum m2m_err
parse_item(const struct db_async *db, PGresult *res, struct db_write_result *r)
{
	int i, n = res != NULL ? PQntuples(res) : 0;

	if (n < 1 || PQnfields(res) < 3 || PQnfields(res) > 4 || PQgetlength(res, 0, 0) != 1)
		return M2M_E_DB_QUERY;
	if (PQgetvalue(res, 0, 0)[0] == 0)
		return M2M_E_DB_REJECTED;
	if (parse_pseudonym(res, r) != M2M_OK)
		return M2M_E_DB_QUERY;
	for (i = 1; i < n && r->n_instr < db->s.instr_max; i++) {
		struct proto_instr *in = &r->instr[r->n_instr];

		if (PQgetisnull(res, i, 1) || PQgetlength(res, i, 1) != 8)
			continue;
		memcpy(in->id, PQgetvalue(res, i, 1), PROTO_INSTR_ID_LEN);
		in->body = (const uint8_t *)PQgetvalue(res, i, 2);
		in->body_len = (size_t)PQgetlength(res, i, 2);
		r->n_instr++;
	}
	return M2M_OK;
}

/* The statement item after it (it included), or NULL. */
static struct db_item *
next_stmt(struct db_item *it)
{
	while (it != NULL && it->stmt == NULL)
		it = it->next;
	return it;
}

/* Results come in order; a cursor keeps this linear in the batch size. */
static void
batch_result(struct db_async *db, struct db_job *j, int idx, PGresult *r)
{
	struct db_batch *b = (struct db_batch *)j;
	struct db_item *it;

	(void)db;
	if (idx >= b->nstmt) {
		PQclear(b->data_res);
		b->data_res = idx == b->nstmt && b->ndata > 0 ? r : NULL;
		if (b->data_res == NULL)
			PQclear(r);
		return;
	}
	if (b->ridx > idx) {
		b->rcur = next_stmt(b->items);
		b->ridx = 0;
	}
	for (it = b->rcur; it != NULL && b->ridx < idx; b->ridx++)
		it = next_stmt(it->next);
	b->rcur = it;
	if (it == NULL) {
		PQclear(r);
		return;
	}
	PQclear(it->res);
	it->res = r;
}

static void
batch_done(struct db_async *db, struct db_job *j, enum m2m_err err)
{
	struct db_batch *b = (struct db_batch *)j;
	struct db_item *it;
	struct db_write_result r;
	enum m2m_err e;
	int k = 0, row = 0;

	db->batches--;
	db->nflight -= (unsigned)b->n;
	db->st.batches++;
	if (err == M2M_E_DB_QUERY)
		err = M2M_E_DB_BATCH;	/* the whole implicit transaction rolled back */
	while ((it = b->items) != NULL) {
		b->items = it->next;
		memset(&r, 0, sizeof(r));
		r.detail = err == M2M_OK ? "" : j->detail[0] ? j->detail : m2m_strerror(err);
		if (err != M2M_OK)
			e = err;
		else if (it->stmt != NULL)
			e = parse_item(db, it->res, &r);
		else
			e = db_batch_data_answer(db, b->data_res, ++k, &row, &r);
		if (e == M2M_OK || e == M2M_E_DB_REJECTED)
			db->st.items_committed++;
		else
			db->st.items_failed++;
		item_finish(it, e, &r);
	}
	PQclear(b->data_res);
	free(b);
	if (db_async_up(db))
		db_writer_kick(db);
}

static const struct db_job_ops batch_ops = { batch_result, batch_done };

/* Cuts up to batch_max waiting items into one segment and sends it. */
static void
send_batch(struct db_async *db)
{
	struct db_batch *b = calloc(1, sizeof(*b));
	struct db_item *it, **tailp;
	int ok = 1;

	if (b == NULL)
		return;
	b->job.ops = &batch_ops;
	tailp = &b->items;
	while (db->pend != NULL && b->n < db->s.batch_max) {
		it = db->pend;
		db->pend = it->next;
		it->next = NULL;
		*tailp = it;
		tailp = &it->next;
		b->n++;
		if (it->stmt != NULL)
			b->nstmt++;
		else
			b->ndata++;
		db->npend--;
	}
	b->rcur = next_stmt(b->items);
	if (db->pend == NULL)
		db->pend_tail = NULL;
	db->batches++;
	db->nflight += (unsigned)b->n;
	db_pipe_push(db, &b->job);
	/* No BEGIN/COMMIT: the statements up to the Sync form one implicit
	 * transaction, committed before the Sync is answered and rolled back
	 * whole on any error, and the next segment starts clean. */
	for (it = next_stmt(b->items); it != NULL && ok; it = next_stmt(it->next))
		ok = PQsendQueryPrepared(db->conn, it->stmt, it->nparams, it->vals, it->lens,
		    it->fmts, 1);
	/* DATA last: a handshake of the same batch hands a module's queued
	 * instructions to the new session's WELCOME, not to the old one. */
	if (ok && b->ndata > 0)
		ok = db_batch_send_data(db, b);
	if (!ok || !PQpipelineSync(db->conn))
		db_link_lost(db, M2M_E_DB_UNAVAILABLE, PQerrorMessage(db->conn));
	else
		db_pipe_flush(db);
}

void
db_writer_kick(struct db_async *db)
{
	struct timeval tv;

	while (db->npend > 0 && db_async_up(db) && db->batches < db->s.inflight_max &&
	    (db->npend >= db->s.batch_max || db->due))
		send_batch(db);
	if (db->npend == 0) {
		db->due = 0;
	} else if (!db->due && !evtimer_pending(db->ev_delay, NULL)) {
		tv.tv_sec = db->s.batch_delay_us / 1000000;
		tv.tv_usec = db->s.batch_delay_us % 1000000;
		evtimer_add(db->ev_delay, &tv);
	}
}

void
db_writer_delay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_async *db = arg;

	(void)fd;
	(void)what;
	db->due = 1;
	db_writer_kick(db);
}

void
db_writer_fail_pending(struct db_async *db, enum m2m_err err)
{
	struct db_item *it;
	struct db_write_result r;

	if (db->ev_delay != NULL)
		evtimer_del(db->ev_delay);
	while ((it = db->pend) != NULL) {
		db->pend = it->next;
		db->npend--;
		db->st.items_failed++;
		memset(&r, 0, sizeof(r));
		r.detail = m2m_strerror(err);
		item_finish(it, err, &r);
	}
	db->pend_tail = NULL;
	db->due = 0;
}

static enum m2m_err
enqueue(struct db_async *db, struct db_item *it)
{
	if (it == NULL)
		return M2M_E_NOMEM;
	if (!db_async_up(db) || db->npend + db->nflight >= db->s.queue_max) {
		enum m2m_err e = db_async_up(db) ? M2M_E_FULL : M2M_E_DB_UNAVAILABLE;

		item_free(it);
		return e;
	}
	if (db->pend_tail != NULL)
		db->pend_tail->next = it;
	else
		db->pend = it;
	db->pend_tail = it;
	db->npend++;
	db_writer_kick(db);
	return M2M_OK;
}

enum m2m_err
db_write_handshake(struct db_async *db, const struct db_handshake *h, db_write_cb cb,
    void *arg)
{
	struct db_item *it;
	size_t off = 0;

	if (h->new_len < PROTO_PSEUDONYM_MIN || h->new_len > PROTO_PSEUDONYM_MAX ||
	    (h->used_pseudonym != NULL && (h->used_len < PROTO_PSEUDONYM_MIN ||
	    h->used_len > PROTO_PSEUDONYM_MAX)) || h->data_len > PROTO_DATAGRAM_MAX)
		return M2M_E_INVALID_ARG;
	it = item_new(db_stmt_handshake, h->used_len + h->new_len + PROTO_POINT_LEN +
	    PROTO_SESSION_ID_LEN + h->data_len + INET6_ADDRSTRLEN, cb, arg, h->module_id);
	if (it == NULL)
		return M2M_E_NOMEM;
	put_int(it, &off, h->module_id);
	put_bin(it, &off, h->used_pseudonym, h->used_len);
	put_bin(it, &off, h->new_pseudonym, h->new_len);
	put_bin(it, &off, h->promote_key, PROTO_POINT_LEN);
	put_bin(it, &off, h->session_id, PROTO_SESSION_ID_LEN);
	put_bin(it, &off, h->data != NULL ? h->data : (const uint8_t *)"", h->data_len);
	put_int(it, &off, db->s.instr_max);
	put_int(it, &off, h->instr_bytes < db->s.instr_bytes ? h->instr_bytes : db->s.instr_bytes);
	put_addr(it, &off, h->from);
	return enqueue(db, it);
}

enum m2m_err
db_write_data(struct db_async *db, const struct db_data *d, db_write_cb cb, void *arg)
{
	struct db_item *it;
	size_t acks_len = d->n_acks * PROTO_INSTR_ID_LEN;

	if (d->n_acks > PROTO_ACKS_MAX ||
	    d->payload_len > PROTO_DATAGRAM_MAX)
		return M2M_E_INVALID_ARG;
	/* No statement of its own: async_batch.c encodes it with its batch. */
	it = item_new(NULL, d->payload_len + acks_len, cb, arg, d->module_id);
	if (it == NULL)
		return M2M_E_NOMEM;
	memcpy(it->session, d->session_id, PROTO_SESSION_ID_LEN);
	it->seq = d->seq;		/* its 64 bits, as migration 013 stores them */
	it->payload_len = d->payload_len;
	it->n_acks = d->n_acks;
	if (d->payload_len > 0)
		memcpy(it->data, d->payload, d->payload_len);
	if (acks_len > 0)
		memcpy(it->data + d->payload_len, d->acks, acks_len);
	return enqueue(db, it);
}

enum m2m_err
db_write_rekey(struct db_async *db, int64_t module_id, const uint8_t pub[PROTO_POINT_LEN],
    const uint8_t full[PROTO_POINT_FULL_LEN], db_write_cb cb, void *arg)
{
	struct db_item *it = item_new(db_stmt_rekey, PROTO_POINT_LEN + PROTO_POINT_FULL_LEN,
	    cb, arg, module_id);
	size_t off = 0;

	if (it == NULL)
		return M2M_E_NOMEM;
	put_int(it, &off, module_id);
	put_bin(it, &off, pub, PROTO_POINT_LEN);
	put_bin(it, &off, full, PROTO_POINT_FULL_LEN);
	return enqueue(db, it);
}
