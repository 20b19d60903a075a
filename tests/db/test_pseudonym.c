/* SPDX-License-Identifier: Apache-2.0 */
/* No order of handshake commits may rewind a module's pseudonym
 * (doc/protocol.md, 12.1), at the database: the commit of migration 009
 * driven through the group-commit writer, in the orders two workers or two
 * nodes can produce: a commit race (two handshakes that presented the same
 * pseudonym), a delayed AUTH (released after the module completed a new
 * handshake), a retry after a lost WELCOME, both in one batch, and one
 * commit waiting on the row lock of another (READ COMMITTED). After each,
 * every pseudonym the module can hold (the one it presented, or the one a
 * WELCOME delivered) is accepted by the database, and every WELCOME
 * carries the current one. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "tests/db/pgtest.h"

struct env {
	struct event_base *base;
	struct db_async *db;
	struct db_admin *a;
	char ci[128];
	int up;
	int64_t id;
};

static void
state_cb(void *arg, enum m2m_err err, const char *detail)
{
	struct env *e = arg;

	(void)detail;
	if (err == M2M_OK)
		e->up = 1;
}

#define PS(b) { b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 }
static const uint8_t P[16] = PS(0x10), P2[16] = PS(0x20), P3[16] = PS(0x30), P4[16] = PS(0x40),
    PA[16] = PS(0xa0), PB[16] = PS(0xb0);

static void
env_up(struct env *e, unsigned batch_max)
{
	struct db_settings s;
	char err[1024] = "";
	uint8_t pub[33];

	memset(e, 0, sizeof(*e));
	pgt_migrated(e->ci, sizeof(e->ci), &e->a);
	cr_assert_not_null(e->base = event_base_new());
	db_settings_init(&s);
	strcpy(s.conninfo, e->ci);
	s.batch_max = batch_max;
	s.batch_delay_us = 2000;
	cr_assert_eq(db_async_new(e->base, &s, state_cb, e, &e->db, err, sizeof(err)), M2M_OK,
	    "%s", err);
	pgt_run_until(e->base, &e->up, 10000);
	e->id = pgt_module(e->a, "mod", P, pub);
}

static void
env_down(struct env *e)
{
	db_async_free(e->db);
	event_base_free(e->base);
	db_admin_close(e->a);
}

/* A handshake's commit: what its WELCOME carries. */
struct hs {
	int done;
	enum m2m_err err;
	uint8_t ps[PROTO_PSEUDONYM_MAX];
	size_t ps_len;
};

static void
hs_cb(void *arg, enum m2m_err err, const struct db_write_result *r)
{
	struct hs *w = arg;

	w->done = 1;
	w->err = err;
	memcpy(w->ps, r->pseudonym, r->pseudonym_len);
	w->ps_len = r->pseudonym_len;
}

/* Queues the commit of a handshake that presented used and offers next. */
static void
submit(struct env *e, const uint8_t used[16], const uint8_t next[16], struct hs *w)
{
	struct db_handshake h;

	memset(&h, 0, sizeof(h));
	memset(w, 0, sizeof(*w));
	h.module_id = e->id;
	h.used_pseudonym = used;
	h.used_len = 16;
	h.new_pseudonym = next;
	h.new_len = 16;
	memset(h.session_id, 0x5e, sizeof(h.session_id));
	cr_assert_eq(db_write_handshake(e->db, &h, hs_cb, w), M2M_OK);
}

static void
commit(struct env *e, const uint8_t used[16], const uint8_t next[16], struct hs *w)
{
	submit(e, used, next, w);
	pgt_run_until(e->base, &w->done, 5000);
	cr_assert_eq(w->err, M2M_OK, "%s", m2m_strerror(w->err));
}

static const char *
hex(const uint8_t *p, size_t n)
{
	static char buf[4][2 * PROTO_PSEUDONYM_MAX + 1];
	static int k;

	k = (k + 1) % 4;
	pgt_hex(p, n, buf[k]);
	return buf[k];
}

/* "current previous" of the module, in hex. */
static const char *
pair(struct env *e)
{
	return pgt_sql(e->a, "SELECT encode(pseudonym, 'hex') || ' ' ||"
	    " coalesce(encode(previous_pseudonym, 'hex'), '-') FROM modules", 0, NULL);
}

/* A module holding ps gets in: the lookup takes the current or previous. */
static void
expect_accepted(struct env *e, const uint8_t *ps, size_t n, const char *why)
{
	const char *p[1] = { hex(ps, n) };

	cr_expect_str_eq(pgt_sql(e->a, "SELECT count(*) FROM modules WHERE status = 'active' AND"
	    " (pseudonym = decode($1, 'hex') OR previous_pseudonym = decode($1, 'hex'))", 1, p),
	    "1", "a module holding %s (%s) is locked out; the database has %s", p[0], why,
	    pair(e));
}

static void
expect_welcome(struct env *e, const struct hs *w, const uint8_t want[16], const char *what)
{
	cr_expect_eq(w->ps_len, 16, "%s", what);
	cr_expect_str_eq(hex(w->ps, w->ps_len), hex(want, 16), "%s's WELCOME", what);
	expect_accepted(e, w->ps, w->ps_len, what);
}

static const char *
cur_prev(const uint8_t cur[16], const uint8_t prev[16])
{
	static char buf[80];

	snprintf(buf, sizeof(buf), "%s %s", hex(cur, 16), hex(prev, 16));
	return buf;
}

/* A and B presented P (a retry after a slow commit, on two workers or two
 * nodes). B commits first; A's late commit must not rotate again. */
Test(pseudonym, commit_race_rotates_once)
{
	struct env e;
	struct hs a, b;

	env_up(&e, 16);
	commit(&e, P, PB, &b);
	expect_welcome(&e, &b, PB, "B");
	commit(&e, P, PA, &a);
	expect_welcome(&e, &a, PB, "A, committed second");
	expect_welcome(&e, &b, PB, "B, after A committed");
	expect_accepted(&e, P, 16, "no WELCOME arrived");
	cr_expect_str_eq(pair(&e), cur_prev(PB, P));
	env_down(&e);
}

/* An AUTH for P held back; the module gives up, completes a handshake with
 * P (gets P3), then the held AUTH arrives and commits: P3 must stay. */
Test(pseudonym, delayed_auth_changes_nothing)
{
	struct env e;
	struct hs a, b, c;

	env_up(&e, 16);
	commit(&e, P, P3, &b);
	expect_welcome(&e, &b, P3, "B");
	commit(&e, P, PA, &a);
	expect_accepted(&e, P3, 16, "the module, which took B's WELCOME");
	expect_welcome(&e, &a, P3, "the delayed A");
	cr_expect_str_eq(pair(&e), cur_prev(P3, P));
	/* The module's next handshake, from P3, rotates as usual. */
	commit(&e, P3, P4, &c);
	expect_welcome(&e, &c, P4, "the next handshake");
	cr_expect_str_eq(pair(&e), cur_prev(P4, P3));
	/* Released later still, when P is no longer accepted at all. */
	commit(&e, P, PA, &a);
	expect_welcome(&e, &a, P4, "A, two generations late");
	cr_expect_str_eq(pair(&e), cur_prev(P4, P3));
	env_down(&e);
}

/* The WELCOME of P -> P2 lost: the retry presents P, now the previous
 * pseudonym. It changes nothing and delivers P2; if its WELCOME is lost
 * too, P still gets in. */
Test(pseudonym, retry_after_lost_welcome_delivers_the_current_one)
{
	struct env e;
	struct hs a, b;

	env_up(&e, 16);
	commit(&e, P, P2, &a);
	commit(&e, P, PA, &b);
	expect_welcome(&e, &b, P2, "the retry");
	expect_accepted(&e, P, 16, "both WELCOMEs lost");
	cr_expect_str_eq(pair(&e), cur_prev(P2, P));
	env_down(&e);
}

/* Both commits in one batch (one transaction): the second sees the first. */
Test(pseudonym, commit_race_in_one_batch)
{
	struct env e;
	struct hs a, b;

	env_up(&e, 2);
	submit(&e, P, PB, &b);
	submit(&e, P, PA, &a);
	pgt_run_until(e.base, &b.done, 5000);
	pgt_run_until(e.base, &a.done, 5000);
	cr_assert_eq(a.err, M2M_OK);
	cr_assert_eq(b.err, M2M_OK);
	expect_welcome(&e, &b, PB, "B");
	expect_welcome(&e, &a, PB, "A, same batch");
	cr_expect_str_eq(pair(&e), cur_prev(PB, P));
	env_down(&e);
}

/* 1 once the backend pid waits for a lock. */
static int
waits_for_lock(struct env *e, int pid)
{
	char p[16];
	const char *v[1] = { p };

	snprintf(p, sizeof(p), "%d", pid);
	return strcmp(pgt_sql(e->a, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1::integer"
	    " AND wait_event_type = 'Lock'", 1, v), "1") == 0;
}

/* Another node's transaction (B) rotated the row and has not committed; A
 * waits on the row lock and, once B commits, sees the row as B left it. */
Test(pseudonym, commit_waiting_on_the_row_lock_sees_the_winner)
{
	char err[1024] = "", id[24];
	const char *p[3] = { id, hex(P, 16), hex(PB, 16) };
	struct db_admin *other;
	struct env e;
	struct hs a;
	int i;

	env_up(&e, 16);
	snprintf(id, sizeof(id), "%lld", (long long)e.id);
	cr_assert_eq(db_admin_open(e.ci, &other, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(db_admin_begin(other, err, sizeof(err)), M2M_OK, "%s", err);
	cr_expect_str_eq(pgt_sql(other, "SELECT encode(pseudonym, 'hex') FROM m2m_commit_handshake("
	    "$1::bigint, decode($2, 'hex'), decode($3, 'hex'), NULL, '\\x5e5e5e5e5e5e5e5e', '', 8,"
	    " 1000) WHERE instr_id IS NULL", 3, p), hex(PB, 16));
	submit(&e, P, PA, &a);
	for (i = 0; i < 500 && !waits_for_lock(&e, db_async_backend_pid(e.db)); i++) {
		event_base_loop(e.base, EVLOOP_NONBLOCK);
		usleep(10000);
	}
	cr_assert(waits_for_lock(&e, db_async_backend_pid(e.db)), "A waits for B's row lock");
	cr_expect_eq(a.done, 0);
	cr_assert_eq(db_admin_commit(other, err, sizeof(err)), M2M_OK, "%s", err);
	pgt_run_until(e.base, &a.done, 5000);
	cr_assert_eq(a.err, M2M_OK);
	expect_welcome(&e, &a, PB, "A, after waiting for B");
	cr_expect_str_eq(pair(&e), cur_prev(PB, P));
	/* 006's m2m_handshake() is left for an m2md of the previous release
	 * during a rolling upgrade: it rotates whatever was presented. */
	p[1] = hex(PB, 16);
	p[2] = hex(P2, 16);
	cr_expect_str_eq(pgt_sql(e.a, "SELECT ok FROM m2m_handshake($1::bigint, decode($2, 'hex'),"
	    " decode($3, 'hex'), NULL, '\\x5e5e5e5e5e5e5e5e', '', 8, 1000)", 3, p), "t");
	cr_expect_str_eq(pair(&e), cur_prev(P2, PB));
	db_admin_close(other);
	env_down(&e);
}
