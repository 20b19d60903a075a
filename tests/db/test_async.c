/* SPDX-License-Identifier: Apache-2.0 */
/* The non-blocking half driven from a libevent loop: lookups, the
 * group-commit writer (statement items and the set-based DATA of a batch),
 * and a connection killed in the middle of a batch. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "db/db_int.h"		/* the admin connection's notifications */
#include "tests/db/pgtest.h"

struct env {
	struct event_base *base;
	struct db_async *db;
	struct db_admin *a;
	char ci[128];
	int ups, downs, reup;		/* reup: up again after going down */
	enum m2m_err last_down;
};

static void
state_cb(void *arg, enum m2m_err err, const char *detail)
{
	struct env *e = arg;

	if (getenv("PGT_VERBOSE") != NULL)
		fprintf(stderr, "state: %s (%s)\n", m2m_errname(err), detail);
	if (err == M2M_OK)
		e->reup = ++e->ups > 1;
	else
		e->downs++, e->last_down = err;
}

static void
env_up(struct env *e, unsigned batch_max)
{
	struct db_settings s;
	char err[1024] = "";

	memset(e, 0, sizeof(*e));
	pgt_migrated(e->ci, sizeof(e->ci), &e->a);
	cr_assert_not_null(e->base = event_base_new());
	db_settings_init(&s);
	strcpy(s.conninfo, e->ci);
	s.batch_max = batch_max;
	s.batch_delay_us = 2000;
	s.backoff_min_ms = 20;
	s.backoff_max_ms = 200;
	cr_assert_eq(db_async_new(e->base, &s, state_cb, e, &e->db, err, sizeof(err)), M2M_OK,
	    "%s", err);
	pgt_run_until(e->base, &e->ups, 10000);
}

static void
env_down(struct env *e)
{
	db_async_free(e->db);
	event_base_free(e->base);
	db_admin_close(e->a);
}

struct lk {
	int done;
	enum m2m_err err;
	struct db_module m;
};

static void
lookup_cb(void *arg, enum m2m_err err, const struct db_module *m)
{
	struct lk *l = arg;

	l->done = 1;
	l->err = err;
	if (m != NULL)
		l->m = *m;
}

static struct lk
lookup_ps(struct env *e, const uint8_t ps[16])
{
	struct lk l;

	memset(&l, 0, sizeof(l));
	cr_assert_eq(db_lookup_pseudonym(e->db, ps, 16, lookup_cb, &l), M2M_OK);
	cr_assert_eq(l.done, 0, "callback must not run inside the request");
	pgt_run_until(e->base, &l.done, 5000);
	return l;
}

struct wr {
	int done;
	enum m2m_err err;
	size_t n_instr;
	uint8_t ids[PROTO_INSTR_MAX][8];
	char bodies[PROTO_INSTR_MAX][32];
};

static void
write_cb(void *arg, enum m2m_err err, const struct db_write_result *r)
{
	struct wr *w = arg;
	size_t i;

	cr_assert_not_null(r);
	w->done = 1;
	w->err = err;
	w->n_instr = r->n_instr;
	for (i = 0; i < r->n_instr; i++) {
		memcpy(w->ids[i], r->instr[i].id, 8);
		snprintf(w->bodies[i], sizeof(w->bodies[i]), "%.*s", (int)r->instr[i].body_len,
		    (const char *)r->instr[i].body);
	}
}

static const uint8_t PS_A[16] = { 0xa1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t PS_A2[16] = { 0xa2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t PS_A3[16] = { 0xa3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t PS_B[16] = { 0xb1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t PS_C[16] = { 0xc1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t PS_C2[16] = { 0xc2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t PS_D[16] = { 0xd1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t PS_E[16] = { 0xe1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

static void
handshake(struct env *e, int64_t id, const uint8_t *used, const uint8_t *next,
    const uint8_t *promote, const char *data, struct wr *w)
{
	struct db_handshake h;

	memset(&h, 0, sizeof(h));
	memset(w, 0, sizeof(*w));
	h.module_id = id;
	h.used_pseudonym = used;
	h.used_len = 16;
	h.new_pseudonym = next;
	h.new_len = 16;
	h.promote_key = promote;
	memset(h.session_id, 0x5e, 8);
	h.data = (const uint8_t *)data;
	h.data_len = strlen(data);
	h.instr_bytes = 1024;
	cr_assert_eq(db_write_handshake(e->db, &h, write_cb, w), M2M_OK);
	cr_assert_eq(w->done, 0);
}

Test(async, lookups_by_pseudonym_previous_and_identity)
{
	struct env e;
	uint8_t pub[33], pend[33];
	char hex[67];
	struct lk l;
	struct wr w;
	int64_t id;

	env_up(&e, 16);
	id = pgt_module(e.a, "mod-a", PS_A, pub);
	pgt_module(e.a, "mod-b", PS_B, pend);	/* only to get a valid point */
	pgt_sql(e.a, "DELETE FROM module_keys WHERE module_id = (SELECT id FROM modules"
	    " WHERE identity = 'mod-b')", 0, NULL);
	pgt_hex(pend, 33, hex);
	pgt_sql(e.a, "INSERT INTO module_keys (module_id, pubkey, state) SELECT id,"
	    " decode($1, 'hex'), 'pending' FROM modules WHERE identity = 'mod-a'", 1,
	    (const char *[]){ hex });

	l = lookup_ps(&e, PS_A);
	cr_assert_eq(l.err, M2M_OK, "%s", m2m_strerror(l.err));
	cr_expect_eq(l.m.id, id);
	cr_expect_eq(l.m.status, DB_ACTIVE);
	cr_expect(l.m.rec.active);
	cr_expect_eq(l.m.rec.identity_len, 5);
	cr_expect_arr_eq(l.m.rec.identity, "mod-a", 5);
	cr_expect_arr_eq(l.m.rec.key, pub, 33);
	cr_expect(l.m.rec.has_pending);
	cr_expect_arr_eq(l.m.rec.pending_key, pend, 33);

	l = lookup_ps(&e, PS_A2);
	cr_expect_eq(l.err, M2M_E_DB_NOT_FOUND);

	/* After a handshake the old pseudonym still finds the module (lost WELCOME). */
	handshake(&e, id, PS_A, PS_A2, NULL, "", &w);
	pgt_run_until(e.base, &w.done, 5000);
	cr_assert_eq(w.err, M2M_OK);
	cr_expect_eq(lookup_ps(&e, PS_A2).m.id, id);
	cr_expect_eq(lookup_ps(&e, PS_A).m.id, id);
	handshake(&e, id, PS_A2, PS_A3, NULL, "", &w);
	pgt_run_until(e.base, &w.done, 5000);
	cr_expect_eq(lookup_ps(&e, PS_A).err, M2M_E_DB_NOT_FOUND, "two generations back");

	memset(&l, 0, sizeof(l));
	cr_assert_eq(db_lookup_identity(e.db, "mod-a", 5, lookup_cb, &l), M2M_OK);
	pgt_run_until(e.base, &l.done, 5000);
	cr_expect_eq(l.m.id, id);
	pgt_sql(e.a, "UPDATE modules SET status = 'suspended' WHERE identity = 'mod-a'", 0, NULL);
	l = lookup_ps(&e, PS_A3);
	cr_expect_eq(l.m.status, DB_SUSPENDED);
	cr_expect(!l.m.rec.active);
	env_down(&e);
}

Test(async, handshake_data_rekey_and_instructions)
{
	struct env e;
	uint8_t pub[33], pub2[33], full2[65], ack[8];
	char hex[67];
	struct db_data d;
	struct wr w;
	int64_t id;

	env_up(&e, 16);
	id = pgt_module(e.a, "mod-a", PS_A, pub);
	pgt_sql(e.a, "SELECT m2m_instruct('mod-a', 'open valve')", 0, NULL);
	pgt_sql(e.a, "SELECT m2m_instruct('mod-a', 'close valve')", 0, NULL);

	handshake(&e, id, PS_A, PS_A2, NULL, "first data", &w);
	pgt_run_until(e.base, &w.done, 5000);
	cr_assert_eq(w.err, M2M_OK);
	cr_assert_eq(w.n_instr, 2, "queued instructions come back in the WELCOME");
	cr_expect_str_eq(w.bodies[0], "open valve");
	cr_expect_str_eq(w.bodies[1], "close valve");
	cr_expect_str_eq(pgt_sql(e.a, "SELECT string_agg(state, ',' ORDER BY id) FROM instructions",
	    0, NULL), "sent,sent");
	cr_expect_str_eq(pgt_sql(e.a, "SELECT encode(pseudonym, 'hex') || encode(previous_pseudonym,"
	    " 'hex') FROM modules", 0, NULL),
	    "a20102030405060708090a0b0c0d0e0fa10102030405060708090a0b0c0d0e0f");
	cr_expect_str_eq(pgt_sql(e.a, "SELECT convert_from(payload, 'UTF8') || ' ' || seq"
	    " FROM reports", 0, NULL), "first data 0");

	/* DATA acknowledges the first instruction; a new one leaves in the DATA_ACK. */
	pgt_sql(e.a, "SELECT m2m_instruct('mod-a', 'reboot')", 0, NULL);
	memcpy(ack, w.ids[0], 8);
	memset(&d, 0, sizeof(d));
	memset(&w, 0, sizeof(w));
	d.module_id = id;
	memset(d.session_id, 0x5e, 8);
	d.seq = 7;
	d.acks = ack;
	d.n_acks = 1;
	d.payload = (const uint8_t *)"temp=21";
	d.payload_len = 7;
	cr_assert_eq(db_write_data(e.db, &d, write_cb, &w), M2M_OK);
	pgt_run_until(e.base, &w.done, 5000);
	cr_assert_eq(w.err, M2M_OK);
	cr_expect_eq(w.n_instr, 1);
	cr_expect_str_eq(w.bodies[0], "reboot");
	cr_expect_str_eq(pgt_sql(e.a, "SELECT string_agg(state, ',' ORDER BY id) FROM instructions",
	    0, NULL), "acknowledged,sent,sent");
	cr_expect_str_eq(pgt_sql(e.a, "SELECT count(*) FROM reports WHERE seq = 7", 0, NULL), "1");

	/* REKEY, then a handshake that proved the pending key promotes it. */
	{
		struct proto_ctx *ctx;
		uint8_t priv[32];

		cr_assert_eq(proto_ctx_new(&ctx, NULL), M2M_OK);
		cr_assert_eq(proto_p256_keygen(ctx, priv, pub2), M2M_OK);
		cr_assert_eq(proto_p256_decompress(ctx, pub2, 33, full2), M2M_OK);
		proto_ctx_free(ctx);
	}
	/* Enrolled with its uncompressed form; without it, the lookup says so. */
	cr_expect_eq(lookup_ps(&e, PS_A2).m.rec.has_key_full, 1);
	pgt_sql(e.a, "UPDATE module_keys SET pubkey_full = NULL", 0, NULL);
	cr_expect_eq(lookup_ps(&e, PS_A2).m.rec.has_key_full, 0);
	memset(&w, 0, sizeof(w));
	cr_assert_eq(db_write_rekey(e.db, id, pub2, full2, write_cb, &w), M2M_OK);
	pgt_run_until(e.base, &w.done, 5000);
	cr_assert_eq(w.err, M2M_OK);
	cr_expect_eq(lookup_ps(&e, PS_A2).m.rec.has_pending, 1);
	memset(&w, 0, sizeof(w));
	cr_assert_eq(db_write_rekey(e.db, id, pub, NULL, write_cb, &w), M2M_OK);
	pgt_run_until(e.base, &w.done, 5000);
	cr_expect_eq(w.err, M2M_E_DB_REJECTED, "the current key cannot come back as pending");
	handshake(&e, id, PS_A2, PS_A3, pub2, "", &w);
	pgt_run_until(e.base, &w.done, 5000);
	cr_assert_eq(w.err, M2M_OK);
	cr_expect_eq(w.n_instr, 2, "sent but unacknowledged ones again in a new WELCOME");
	pgt_hex(pub2, 33, hex);
	cr_expect_str_eq(pgt_sql(e.a, "SELECT string_agg(state, ',' ORDER BY id) FROM module_keys",
	    0, NULL), "retired,current");
	cr_expect_str_eq(pgt_sql(e.a, "SELECT encode(pubkey, 'hex') FROM module_keys WHERE"
	    " state = 'current'", 0, NULL), hex);
	{
		struct lk l = lookup_ps(&e, PS_A3);

		cr_expect_eq(l.m.rec.has_key_full, 1, "REKEY stored the uncompressed form");
		cr_expect_arr_eq(l.m.rec.key_full, full2, 65);
	}

	/* A suspended module's writes commit as rejected and change nothing. */
	pgt_sql(e.a, "UPDATE modules SET status = 'suspended'", 0, NULL);
	handshake(&e, id, PS_A3, PS_B, NULL, "x", &w);
	pgt_run_until(e.base, &w.done, 5000);
	cr_expect_eq(w.err, M2M_E_DB_REJECTED);
	cr_expect_str_eq(pgt_sql(e.a, "SELECT count(*) FROM reports", 0, NULL), "2");
	env_down(&e);
}

struct many {
	int done, ok, failed, target;
};

static void
many_cb(void *arg, enum m2m_err err, const struct db_write_result *r)
{
	struct many *m = arg;

	(void)r;
	if (err == M2M_OK)
		m->ok++;
	else
		m->failed++;
	m->done = m->ok + m->failed >= m->target;
}

static void
submit_data(struct env *e, int64_t id, int n, struct many *m)
{
	struct db_data d;
	int i;

	memset(&d, 0, sizeof(d));
	d.module_id = id;
	d.payload = (const uint8_t *)"r";
	d.payload_len = 1;
	for (i = 0; i < n; i++) {
		d.seq = (uint64_t)i;
		cr_assert_eq(db_write_data(e->db, &d, many_cb, m), M2M_OK);
	}
}

Test(async, many_items_are_grouped_into_batches)
{
	struct db_async_stats st;
	struct many m = { 0, 0, 0, 300 };
	struct env e;
	uint8_t pub[33];
	int64_t id;

	env_up(&e, 128);
	id = pgt_module(e.a, "mod-a", PS_A, pub);
	submit_data(&e, id, 300, &m);
	pgt_run_until(e.base, &m.done, 10000);
	cr_expect_eq(m.ok, 300);
	cr_expect_str_eq(pgt_sql(e.a, "SELECT count(*) FROM reports", 0, NULL), "300");
	db_async_get_stats(e.db, &st);
	cr_expect_eq(st.batches, 3, "300 items, batches of at most 128");
	cr_expect_eq(st.items_committed, 300);
	env_down(&e);
}

Test(async, a_failing_statement_rolls_back_its_whole_batch)
{
	struct many m = { 0, 0, 0, 3 }, m2 = { 0, 0, 0, 1 };
	struct env e;
	uint8_t pub[33];
	struct wr w1, w2;
	int64_t a, b;

	env_up(&e, 3);
	a = pgt_module(e.a, "mod-a", PS_A, pub);
	b = pgt_module(e.a, "mod-b", PS_B, pub);
	/* Same batch: a report, then b takes a's pseudonym (unique violation). */
	submit_data(&e, a, 1, &m);
	handshake(&e, a, PS_A, PS_A2, NULL, "", &w1);
	handshake(&e, b, PS_B, PS_A2, NULL, "", &w2);
	while (!(w1.done && w2.done))
		pgt_run_until(e.base, &w2.done, 5000), pgt_run_until(e.base, &w1.done, 5000);
	cr_expect_eq(m.failed, 1);
	cr_expect_eq(w1.err, M2M_E_DB_BATCH);
	cr_expect_eq(w2.err, M2M_E_DB_BATCH);
	cr_expect_str_eq(pgt_sql(e.a, "SELECT count(*) FROM reports", 0, NULL), "0");
	cr_expect_str_eq(pgt_sql(e.a, "SELECT count(*) FROM modules WHERE previous_pseudonym"
	    " IS NOT NULL", 0, NULL), "0");
	/* The next batch starts clean. */
	submit_data(&e, a, 1, &m2);
	pgt_run_until(e.base, &m2.done, 5000);
	cr_expect_eq(m2.ok, 1);
	env_down(&e);
}

/* One DATA item, its acks given as instruction ids. */
static void
data_item(struct env *e, int64_t id, uint64_t seq, const char *payload,
    const uint64_t *acks, size_t n_acks, uint8_t ackbuf[][8], struct wr *w)
{
	struct db_data d;
	size_t i;
	int b;

	for (i = 0; i < n_acks; i++)
		for (b = 0; b < 8; b++)
			ackbuf[i][b] = (uint8_t)(acks[i] >> (56 - 8 * b));
	memset(&d, 0, sizeof(d));
	memset(w, 0, sizeof(*w));
	d.module_id = id;
	memset(d.session_id, 0x5e, 8);
	d.seq = seq;
	d.acks = ackbuf[0];
	d.n_acks = n_acks;
	d.payload = (const uint8_t *)payload;
	d.payload_len = strlen(payload);
	cr_assert_eq(db_write_data(e->db, &d, write_cb, w), M2M_OK);
}

static uint64_t
instr_id(struct db_admin *a, const char *body)
{
	const char *p[1] = { body };

	return strtoull(pgt_sql(a, "SELECT id FROM instructions WHERE body = convert_to($1,"
	    " 'UTF8')", 1, p), NULL, 10);
}

static int
notifications(struct db_admin *a, const char *channel)
{
	PGnotify *n;
	int count = 0;

	cr_assert(PQconsumeInput(a->conn));
	while ((n = PQnotifies(a->conn)) != NULL) {
		count += strcmp(n->relname, channel) == 0;
		PQfreemem(n);
	}
	return count;
}

/* Instructions: a-old sent (A acknowledges it), a1 a2 queued; b-sent sent and
 * b1 queued for the suspended B; c-sent sent; d0..d9 queued (more than one
 * answer holds); e0..e4, 300 bytes each (more than the byte budget). */
static void
mixed_setup(struct env *e, int64_t id[5])
{
	static const char *const names[5] = { "mod-a", "mod-b", "mod-c", "mod-d", "mod-e" };
	const uint8_t *ps[5] = { PS_A, PS_B, PS_C, PS_D, PS_E };
	uint8_t pub[33];
	int i;

	for (i = 0; i < 5; i++)
		id[i] = pgt_module(e->a, names[i], ps[i], pub);
	pgt_sql(e->a, "SELECT m2m_instruct(m, convert_to(b, 'UTF8')) FROM (VALUES"
	    " ('mod-a', 'a-old'), ('mod-a', 'a1'), ('mod-a', 'a2'), ('mod-b', 'b-sent'),"
	    " ('mod-b', 'b1'), ('mod-c', 'c-sent')) v (m, b)", 0, NULL);
	pgt_sql(e->a, "SELECT m2m_instruct('mod-d', convert_to('d' || g, 'UTF8'))"
	    " FROM generate_series(0, 9) g", 0, NULL);
	pgt_sql(e->a, "SELECT m2m_instruct('mod-e', convert_to('e' || g || repeat('x', 298),"
	    " 'UTF8')) FROM generate_series(0, 4) g", 0, NULL);
	pgt_sql(e->a, "UPDATE instructions SET state = 'sent', sent_at = now(), sent_count = 1"
	    " WHERE convert_from(body, 'UTF8') IN ('a-old', 'b-sent', 'c-sent')", 0, NULL);
	pgt_sql(e->a, "UPDATE modules SET status = 'suspended' WHERE identity = 'mod-b'", 0, NULL);
	pgt_sql(e->a, "LISTEN m2m_reports", 0, NULL);
}

static const char *
states(struct db_admin *a, const char *identity)
{
	const char *p[1] = { identity };

	return pgt_sql(a, "SELECT string_agg(i.state, ',' ORDER BY i.id) FROM instructions i"
	    " JOIN modules m ON m.id = i.module_id WHERE m.identity = $1", 1, p);
}

Test(async, a_mixed_batch_is_one_transaction_with_per_item_answers)
{
	struct db_async_stats st;
	struct env e;
	struct wr w[7];
	uint8_t ackbuf[3][3][8];
	uint64_t acks[3];
	int64_t id[5];
	int i;

	env_up(&e, 16);
	mixed_setup(&e, id);
	acks[0] = instr_id(e.a, "a-old");
	acks[1] = instr_id(e.a, "c-sent");	/* another module's: not A's to confirm */
	acks[2] = UINT64_MAX;			/* beyond bigint: matches nothing */
	data_item(&e, id[0], 1, "a-one", acks, 3, ackbuf[0], &w[0]);
	acks[0] = instr_id(e.a, "b-sent");
	data_item(&e, id[1], 1, "b-one", acks, 1, ackbuf[1], &w[1]);
	handshake(&e, id[2], PS_C, PS_C2, NULL, "c-hello", &w[2]);
	data_item(&e, id[0], 2, "a-two", NULL, 0, ackbuf[2], &w[3]);
	data_item(&e, id[2], 5, "", NULL, 0, ackbuf[2], &w[4]);
	data_item(&e, id[3], 1, "d-one", NULL, 0, ackbuf[2], &w[5]);
	data_item(&e, id[4], 1, "e-one", NULL, 0, ackbuf[2], &w[6]);
	for (i = 0; i < 7; i++)
		pgt_run_until(e.base, &w[i].done, 5000);

	db_async_get_stats(e.db, &st);
	cr_expect_eq(st.batches, 1, "seven items, one transaction");
	cr_expect_eq(st.items_committed, 7);
	cr_expect_eq(w[0].err, M2M_OK);
	cr_expect_eq(w[0].n_instr, 2, "A's queued instructions go to its first item");
	cr_expect_str_eq(w[0].bodies[0], "a1");
	cr_expect_str_eq(w[0].bodies[1], "a2");
	cr_expect_eq(w[1].err, M2M_E_DB_REJECTED);
	cr_expect_eq(w[1].n_instr, 0);
	cr_expect_eq(w[2].err, M2M_OK);
	cr_expect_eq(w[2].n_instr, 1, "a WELCOME resends what was sent");
	cr_expect_str_eq(w[2].bodies[0], "c-sent");
	cr_expect_eq(w[3].err, M2M_OK);
	cr_expect_eq(w[3].n_instr, 0);
	cr_expect_eq(w[4].err, M2M_OK);
	cr_expect_eq(w[5].err, M2M_OK);
	cr_expect_eq(w[5].n_instr, PROTO_INSTR_MAX, "at most one answer's worth");
	cr_expect_str_eq(w[5].bodies[7], "d7");
	cr_expect_eq(w[6].err, M2M_OK);
	cr_expect_eq(w[6].n_instr, 3, "3 x 310 bytes fit 1024, 4 do not");

	cr_expect_str_eq(pgt_sql(e.a, "SELECT string_agg(m.identity || ':' || r.seq || ':' ||"
	    " convert_from(r.payload, 'UTF8'), ' ' ORDER BY r.id) FROM reports r"
	    " JOIN modules m ON m.id = r.module_id", 0, NULL),
	    "mod-c:0:c-hello mod-a:1:a-one mod-a:2:a-two mod-d:1:d-one mod-e:1:e-one");
	cr_expect_str_eq(states(e.a, "mod-a"), "acknowledged,sent,sent");
	cr_expect_str_eq(states(e.a, "mod-b"), "sent,queued", "a rejected item changes nothing");
	cr_expect_str_eq(states(e.a, "mod-c"), "sent");
	cr_expect_str_eq(pgt_sql(e.a, "SELECT sent_count FROM instructions WHERE body ="
	    " convert_to('c-sent', 'UTF8')", 0, NULL), "2");
	cr_expect_str_eq(states(e.a, "mod-d"), "sent,sent,sent,sent,sent,sent,sent,sent,queued,queued");
	cr_expect_str_eq(states(e.a, "mod-e"), "sent,sent,sent,queued,queued");
	cr_expect_str_eq(pgt_sql(e.a, "SELECT string_agg(identity, ',' ORDER BY identity)"
	    " FROM modules WHERE last_seen IS NULL", 0, NULL), "mod-b");
	cr_expect_eq(notifications(e.a, "m2m_reports"), 1, "one notification per batch");
	env_down(&e);
}

struct killer {
	struct env *e;
	struct db_admin *locker;
	int pid, fired;
};

static void
kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct killer *k = arg;
	char pid[16];
	const char *p[1] = { pid };

	(void)fd;
	(void)what;
	snprintf(pid, sizeof(pid), "%d", k->pid);
	/* The batch is blocked on the row lock: it is in flight, uncommitted. */
	cr_expect_str_eq(pgt_sql(k->e->a, "SELECT wait_event_type FROM pg_stat_activity"
	    " WHERE pid = $1", 1, p), "Lock");
	cr_expect_str_eq(pgt_sql(k->e->a, "SELECT pg_terminate_backend($1::integer)", 1, p), "t");
	db_admin_rollback(k->locker);
	k->fired = 1;
}

Test(async, connection_killed_mid_batch_fails_that_batch_then_reconnects)
{
	struct many m = { 0, 0, 0, 3 }, m2 = { 0, 0, 0, 2 };
	struct killer k;
	struct env e;
	struct event *ev;
	struct timeval tv = { 0, 300000 };
	char err[1024] = "";
	uint8_t pub[33];
	struct wr w;
	int64_t id, idb;

	env_up(&e, 4);
	id = pgt_module(e.a, "mod-a", PS_A, pub);
	idb = pgt_module(e.a, "mod-b", PS_B, pub);
	memset(&k, 0, sizeof(k));
	k.e = &e;
	k.pid = db_async_backend_pid(e.db);
	cr_assert_gt(k.pid, 0);
	/* Another session holds A's row: B's handshake goes through, then the
	 * batch's DATA statement waits inside, uncommitted. */
	cr_assert_eq(db_admin_open(e.ci, &k.locker, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(db_admin_begin(k.locker, err, sizeof(err)), M2M_OK);
	pgt_sql(e.a, "SELECT m2m_instruct('mod-a', 'x')", 0, NULL);
	pgt_sql(k.locker, "SELECT id FROM modules WHERE identity = 'mod-a' FOR UPDATE", 0, NULL);

	submit_data(&e, id, 3, &m);
	handshake(&e, idb, PS_B, PS_C, NULL, "b-hello", &w);
	ev = evtimer_new(e.base, kill_cb, &k);
	evtimer_add(ev, &tv);
	pgt_run_until(e.base, &m.done, 10000);
	pgt_run_until(e.base, &w.done, 5000);
	cr_expect(k.fired);
	cr_expect_eq(m.ok, 0, "nothing of the killed batch is acknowledged");
	cr_expect_eq(m.failed, 3);
	cr_expect_eq(w.err, M2M_E_DB_UNAVAILABLE, "the handshake that ran is rolled back too");
	cr_expect_str_eq(pgt_sql(e.a, "SELECT count(*) FROM modules WHERE previous_pseudonym"
	    " IS NOT NULL", 0, NULL), "0");
	cr_expect_eq(e.downs, 1);
	cr_expect_eq(e.last_down, M2M_E_DB_UNAVAILABLE);
	cr_expect_str_eq(pgt_sql(e.a, "SELECT count(*) FROM reports", 0, NULL), "0");
	cr_expect_str_eq(pgt_sql(e.a, "SELECT state FROM instructions", 0, NULL), "queued");

	/* Requests while down are refused at once; after the backoff it is back. */
	cr_expect_eq(db_write_rekey(e.db, id, pub, NULL, many_cb, &m2), M2M_E_DB_UNAVAILABLE);
	pgt_run_until(e.base, &e.reup, 5000);
	cr_expect_neq(db_async_backend_pid(e.db), k.pid);
	submit_data(&e, id, 2, &m2);
	pgt_run_until(e.base, &m2.done, 5000);
	cr_expect_eq(m2.ok, 2);
	cr_expect_str_eq(pgt_sql(e.a, "SELECT count(*) FROM reports", 0, NULL), "2");
	event_free(ev);
	db_admin_close(k.locker);
	env_down(&e);
}
