/* SPDX-License-Identifier: Apache-2.0 */
/* The set-based half of a batch: all its DATA items as one m2m_data_batch()
 * call (arrays in PostgreSQL's binary format), and the per-item answers. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db/async_int.h"

/* Element types of the binary arrays; array_recv checks them. Fixed OIDs
 * of pg_type (the server headers are not a build dependency). */
#define OID_BYTEA	17
#define OID_INT8	20
#define OID_INT4	23
#define ARR_HEAD	20	/* ndim, flags, element type, length, lower bound */
#define NPARAMS		8

struct abuf {
	uint8_t *p;
	size_t off;
	const char *vals[NPARAMS];
	int lens[NPARAMS];
	int n;
};

static void
put32(struct abuf *a, uint32_t v)
{
	uint8_t *p = a->p + a->off;

	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	a->off += 4;
}

static void
put_bytes(struct abuf *a, const void *p, size_t len)
{
	put32(a, (uint32_t)len);
	if (len > 0)
		memcpy(a->p + a->off, p, len);
	a->off += len;
}

/* An int8 in binary form: the value's 64 bits, so that a sequence number
 * of 2^63 or more arrives as its two's complement (migration 013). */
static void
put_int8(struct abuf *a, uint64_t v)
{
	put32(a, 8);
	proto_put_u64(a->p + a->off, v);
	a->off += 8;
}

/* Starts parameter number a->n: a one-dimensional array of n elements
 * (an empty one has no dimension at all). */
static void
param_array(struct abuf *a, uint32_t oid, size_t n)
{
	a->vals[a->n] = (const char *)a->p + a->off;
	put32(a, n > 0);
	put32(a, 0);		/* no NULLs */
	put32(a, oid);
	if (n > 0) {
		put32(a, (uint32_t)n);
		put32(a, 1);
	}
}

static void
param_end(struct abuf *a)
{
	a->lens[a->n] = (int)(a->off - (size_t)((const uint8_t *)a->vals[a->n] - a->p));
	a->n++;
}

/* Acknowledged ids above INT64_MAX match nothing: left out, as by 004. */
static size_t
count_acks(const struct db_item *it)
{
	const uint8_t *acks = it->data + it->payload_len;
	size_t i, n = 0;

	for (i = 0; i < it->n_acks; i++)
		n += proto_get_u64(acks + i * PROTO_INSTR_ID_LEN) <= INT64_MAX;
	return n;
}

/* Parameters 1-4: module, session, seq, payload of every DATA item. */
static void
put_items(struct abuf *a, const struct db_batch *b)
{
	const struct db_item *it;
	int col;

	for (col = 0; col < 4; col++) {
		param_array(a, col == 0 || col == 2 ? OID_INT8 : OID_BYTEA, (size_t)b->ndata);
		for (it = b->items; it != NULL; it = it->next) {
			if (it->stmt != NULL)
				continue;
			if (col == 0)
				put_int8(a, (uint64_t)it->module_id);
			else if (col == 1)
				put_bytes(a, it->session, PROTO_SESSION_ID_LEN);
			else if (col == 2)
				put_int8(a, it->seq);
			else
				put_bytes(a, it->data, it->payload_len);
		}
		param_end(a);
	}
}

/* Parameters 5-6: the acks flattened, each with its item's number. */
static void
put_acks(struct abuf *a, const struct db_batch *b, size_t nacks)
{
	const struct db_item *it;
	uint64_t id;
	size_t i;
	int col, k;

	for (col = 0; col < 2; col++) {
		param_array(a, col == 0 ? OID_INT4 : OID_INT8, nacks);
		for (it = b->items, k = 0; it != NULL; it = it->next) {
			if (it->stmt != NULL)
				continue;
			k++;
			for (i = 0; i < it->n_acks; i++) {
				id = proto_get_u64(it->data + it->payload_len + i * PROTO_INSTR_ID_LEN);
				if (id > INT64_MAX)
					continue;
				if (col == 0)
					put32(a, 4), put32(a, (uint32_t)k);
				else
					put_int8(a, id);
			}
		}
		param_end(a);
	}
}

static void
put_int4(struct abuf *a, unsigned v)
{
	a->vals[a->n] = (const char *)a->p + a->off;
	put32(a, v);
	a->lens[a->n++] = 4;
}

int
db_batch_send_data(struct db_async *db, const struct db_batch *b)
{
	static const int fmts[NPARAMS] = { 1, 1, 1, 1, 1, 1, 1, 1 };
	const struct db_item *it;
	struct abuf a;
	size_t size = 6 * ARR_HEAD + 2 * 4, nacks = 0;
	int ok;

	for (it = b->items; it != NULL; it = it->next) {
		if (it->stmt != NULL)
			continue;
		nacks += count_acks(it);
		/* module, session, seq, payload: each a length word and the value */
		size += 12 + (4 + PROTO_SESSION_ID_LEN) + 12 + 4 + it->payload_len;
	}
	size += nacks * (8 + 12);	/* int4 item number, int8 id */
	memset(&a, 0, sizeof(a));
	if ((a.p = malloc(size)) == NULL)
		return 0;
	put_items(&a, b);
	put_acks(&a, b, nacks);
	put_int4(&a, db->s.instr_max);
	put_int4(&a, db->s.instr_bytes);
	/* libpq copies the parameters into its output buffer: a.p can go. */
	ok = PQsendQueryPrepared(db->conn, db_stmt_data_batch, NPARAMS, a.vals, a.lens, fmts, 1);
	free(a.p);
	return ok;
}

/* Column 0 of a row: the item number (int4, binary); -1 if malformed. */
static int
row_item(const PGresult *res, int row)
{
	const uint8_t *p = (const uint8_t *)PQgetvalue(res, row, 0);

	if (PQgetisnull(res, row, 0) || PQgetlength(res, row, 0) != 4)
		return -1;
	return (int)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

enum m2m_err
db_batch_data_answer(const struct db_async *db, const PGresult *res, int k, int *row,
    struct db_write_result *r)
{
	enum m2m_err e = M2M_OK;
	struct proto_instr *in;
	int n, item;

	if (res == NULL || PQnfields(res) != 3)
		return M2M_E_DB_QUERY;
	/* Rows are ordered by item: those before k were items already answered. */
	for (n = PQntuples(res); *row < n && (item = row_item(res, *row)) <= k; (*row)++) {
		if (item != k)
			continue;
		if (PQgetisnull(res, *row, 1)) {
			e = M2M_E_DB_REJECTED;
			continue;
		}
		if (r->n_instr >= db->s.instr_max || r->n_instr >= PROTO_INSTR_MAX ||
		    PQgetlength(res, *row, 1) != PROTO_INSTR_ID_LEN)
			continue;
		in = &r->instr[r->n_instr++];
		memcpy(in->id, PQgetvalue(res, *row, 1), PROTO_INSTR_ID_LEN);
		in->body = (const uint8_t *)PQgetvalue(res, *row, 2);
		in->body_len = (size_t)PQgetlength(res, *row, 2);
	}
	if (e == M2M_E_DB_REJECTED)
		r->n_instr = 0;
	return e;
}
