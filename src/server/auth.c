/* SPDX-License-Identifier: Apache-2.0 */
/* AUTH, the expensive half of the handshake, as a chain of callbacks:
 * token check -> rate limits -> database lookup by pseudonym -> HSM ECDH
 * -> the rest of the crypto -> group commit -> WELCOME. Every step that can
 * reject runs before the HSM is asked, and a token asks it at most once:
 * its first AUTH to get there keeps PRK1 in the half-open entry, and later
 * AUTHs on it go token check -> C1 -> lookup -> the rest, no HSM, no rate
 * limit; one whose C1 does not open is dropped there and costs the token
 * nothing. */
#include "config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/server/log.h"
#include "src/server/srv.h"

struct srv_auth {
	struct worker *w;
	struct sockaddr_storage from;
	socklen_t fromlen;
	int fd;
	int64_t module_id;
	struct sess_entry *sess;	/* reserved before the commit */
	uint64_t t_read, t0;		/* the AUTH read; the current stage's start */
	uint8_t tag[8];			/* of the AUTH datagram */
	char identity[PROTO_IDENTITY_MAX + 1];	/* once the lookup found it, for the log */
	struct proto_srv_auth a;
};

static void
finish(struct srv_auth *x)
{
	struct worker *w = x->w;

	if (x->sess != NULL && !x->sess->in_use)
		sess_release(&w->sess, x->sess);
	proto_srv_auth_wipe(&x->a);
	free(x);
	w->inflight--;
}

static void
fail(struct srv_auth *x, enum m2m_err err)
{
	struct worker *w = x->w;
	struct ho_entry *e = ho_find(&w->ho, x->a.hs.token);

	if (e != NULL && proto_srv_hs_settle(&e->hs, &x->a, err))
		ho_remove(&w->ho, e);
	atomic_fetch_add_explicit(&w->m.hs_failed[err], 1, memory_order_relaxed);
	srv_drop_as(w, &x->from, err, x->identity);
	finish(x);
}

static void
tag_of(const struct srv_pkt *p, uint8_t tag[8])
{
	uint8_t h[PROTO_HASH_LEN];

	proto_sha256(p->buf, p->len, NULL, 0, NULL, 0, h);
	memcpy(tag, h, 8);
}

static int within_rates(struct srv_auth *x);
static void on_lookup(void *arg, enum m2m_err err, const struct db_module *m);
static void on_dh1(void *arg, enum m2m_err err, const uint8_t *secret, const char *detail);
static void on_commit(void *arg, enum m2m_err err, const struct db_write_result *r);

/* A retransmitted AUTH of a completed handshake gets the same WELCOME,
 * from whatever address (the module's may have changed), at most
 * SRV_ANSWERS_AGAIN times per token: the WELCOME is never longer than the
 * AUTH (welcome_budget), so a replay from any address gets no more bytes
 * than it sent, and the count bounds what a captured AUTH is worth. */
static void
completed(struct worker *w, const struct srv_pkt *p, struct ho_entry *e)
{
	uint8_t tag[8];

	tag_of(p, tag);
	if (ho_welcome(e) == NULL || !proto_ct_equal(tag, e->auth_tag, sizeof(tag))) {
		srv_drop(w, &p->from, M2M_E_SRV_AUTH_REPLAY);
		return;
	}
	if (e->answers_again >= SRV_ANSWERS_AGAIN || e->welcome_len > p->len) {
		srv_drop(w, &p->from, M2M_E_SRV_RESENDS);
		return;
	}
	e->answers_again++;
	worker_send(w, p->fd, (const struct sockaddr *)&p->from, p->fromlen, ho_welcome(e),
	    e->welcome_len);
	srv_count(&w->m, SRV_C_welcome_resent, 1);
}

/* Finds the half-open entry, or hands the datagram to its worker. */
static struct ho_entry *
entry_of(struct worker *w, const struct srv_pkt *p)
{
	struct proto_auth m;
	struct ho_entry *e;
	enum m2m_err err;
	int route;

	if ((err = proto_auth_decode(p->buf, p->len, &m)) != M2M_OK) {
		srv_drop(w, &p->from, err);
		return NULL;
	}
	if ((route = srv_route(w, m.token)) < 0) {
		srv_drop(w, &p->from, M2M_E_SRV_NOT_OURS);
		return NULL;
	}
	if ((unsigned)route != w->idx) {
		worker_handoff(w, (unsigned)route, p);
		return NULL;
	}
	if ((e = ho_find(&w->ho, m.token)) == NULL)
		srv_drop(w, &p->from, M2M_E_SRV_UNKNOWN_TOKEN);
	return e;
}

/* The AUTH passed the entry's checks: on to the lookup, through the HSM
 * rate limits first if it will need the HSM. */
static void
begin(struct worker *w, struct srv_auth *x, const struct srv_pkt *p, uint64_t t_read)
{
	enum m2m_err err;

	w->inflight++;
	x->w = w;
	x->from = p->from;
	x->fromlen = p->fromlen;
	x->fd = p->fd;
	tag_of(p, x->tag);
	x->t_read = t_read;
	srv_count(&w->m, SRV_C_handshakes_started, 1);
	if (!x->a.hs.keyed && !within_rates(x)) {
		fail(x, M2M_E_SRV_RATE_LIMITED);
		return;
	}
	x->t0 = worker_now_ns();
	err = db_lookup_pseudonym(w->db_rd, x->a.hs.pseudonym, x->a.hs.pseudonym_len, on_lookup, x);
	if (err != M2M_OK)
		fail(x, err);
}

void
srv_on_auth(struct worker *w, const struct srv_pkt *p)
{
	struct ho_entry *e = entry_of(w, p);
	struct srv_auth *x;
	uint64_t t = worker_now_ns();
	enum m2m_err err;

	if (e == NULL)
		return;
	if (e->hs.state == PROTO_SRV_HS_DONE) {
		completed(w, p, e);
		return;
	}
	if (w->inflight >= w->srv->cfg->inflight_max || (x = calloc(1, sizeof(*x))) == NULL) {
		srv_drop(w, &p->from, M2M_E_SRV_BUSY);
		return;
	}
	/* A C1 that does not open with the token's kept key is dropped here
	 * (M2M_E_PROTO_DECRYPT): no lookup, no attempt used. */
	if ((err = proto_srv_auth_start(w->ctx, &x->a, &e->hs, p->buf, p->len)) != M2M_OK) {
		if (err == M2M_E_PROTO_ATTEMPTS)
			ho_remove(&w->ho, e);
		srv_drop(w, &p->from, err);
		free(x);
		return;
	}
	begin(w, x, p, t);
}

/* The HSM is the scarce resource: an AUTH that will need it spends only
 * within the rates, which all workers share (a lock held for two hash
 * lookups, once per HSM operation at most). The pseudonym travels in
 * clear, so its budget is per source too: another address spends its own
 * and cannot drain the module's. */
static int
within_rates(struct srv_auth *x)
{
	struct srv *s = x->w->srv;
	uint8_t addr[18], key[1 + PROTO_PSEUDONYM_MAX + sizeof(addr)];
	/* Without the port: the IPv4 address or the IPv6 /64. */
	size_t alen = net_addr_bytes(&x->from, addr, 0), plen = x->a.hs.pseudonym_len;
	uint32_t now;
	int ok;

	/* The length first: no pseudonym and address can spell another pair. */
	key[0] = (uint8_t)plen;
	memcpy(key + 1, x->a.hs.pseudonym, plen);
	memcpy(key + 1 + plen, addr, alen);
	/* The clock inside the lock: a bucket never sees time go backwards,
	 * which its unsigned arithmetic would take for a long pause. */
	pthread_mutex_lock(&s->rl_lock);
	now = worker_now_ms();
	ok = rl_take(&s->pseudo_rl, key, 1 + plen + alen, now) &&
	    rl_take(&s->hsm_src_rl, addr, alen, now);
	pthread_mutex_unlock(&s->rl_lock);
	return ok;
}

static void
on_lookup(void *arg, enum m2m_err err, const struct db_module *m)
{
	struct srv_auth *x = arg;

	srv_observe(&x->w->m, SRV_H_db_lookup, worker_now_ns() - x->t0);
	if (err == M2M_E_DB_NOT_FOUND)
		err = M2M_E_PROTO_UNKNOWN_MODULE;
	if (err == M2M_OK) {
		memcpy(x->identity, m->rec.identity, m->rec.identity_len);
		x->identity[m->rec.identity_len] = '\0';
		err = proto_srv_auth_module(&x->a, &m->rec);
	}
	if (err != M2M_OK) {
		fail(x, err);
		return;
	}
	x->module_id = m->id;
	if (x->a.req == PROTO_REQ_VERIFY) {	/* the token's DH1 is done */
		on_dh1(x, M2M_OK, NULL, NULL);
		return;
	}
	x->t0 = worker_now_ns();
	/* E_m was decoded at HELLO: the uncompressed form spares a square root. */
	err = hsm_pool_derive_point(x->w->hsm, x->a.hs.key_id, x->a.hs.e_m,
	    PROTO_POINT_FULL_LEN, on_dh1, x);
	if (err != M2M_OK) {
		fail(x, err);
		return;
	}
	srv_count(&x->w->m, SRV_C_hsm_derives, 1);
}

/* Session ids route like tokens: node, worker, then random bytes. */
static enum m2m_err
reserve_session(struct srv_auth *x)
{
	struct worker *w = x->w;
	uint16_t route = srv_route_of(w);
	enum m2m_err err;

	if ((x->sess = sess_alloc(&w->sess)) == NULL)
		return M2M_E_SRV_SESSIONS_FULL;
	x->sess->s.id[0] = (uint8_t)(route >> 8);
	x->sess->s.id[1] = (uint8_t)route;
	do {
		err = proto_random(w->ctx, x->sess->s.id + 2, PROTO_SESSION_ID_LEN - 2);
	} while (err == M2M_OK && sess_find(&w->sess, x->sess->s.id) != NULL);
	if (err == M2M_OK)
		err = proto_random(w->ctx, x->sess->report_id, sizeof(x->sess->report_id));
	return err;
}

/* Instruction bytes (10 + body each) the WELCOME may carry: no more than
 * keeps it as short as the AUTH that elicits it (doc/protocol.md, 3). The
 * WELCOME without instructions, 29 bytes and the pseudonym (45), is
 * shorter than any AUTH (68 bytes or more). What does not fit stays
 * queued and comes with the DATA_ACKs of the session. */
static unsigned
welcome_budget(size_t auth_len, size_t pseudonym_len)
{
	size_t base = PROTO_HDR_LEN + PROTO_SESSION_ID_LEN + 3 + pseudonym_len + PROTO_TAG_LEN;

	return auth_len > base ? (unsigned)(auth_len - base) : 0;
}

/* The crypto after the lookup: with DH1 from the HSM, or none when the
 * token was keyed by an earlier AUTH (request VERIFY). */
static enum m2m_err
crypto(struct srv_auth *x, enum m2m_err err, const uint8_t *secret, const char *detail)
{
	struct worker *w = x->w;

	if (x->a.req == PROTO_REQ_VERIFY)
		return proto_srv_auth_verify(w->ctx, &x->a);
	srv_observe(&w->m, SRV_H_hsm_derive, worker_now_ns() - x->t0);
	if (err != M2M_OK) {
		log_debug("worker %u: HSM derive failed: %s%s%s", w->idx, m2m_strerror(err),
		    detail != NULL ? ": " : "", detail != NULL ? detail : "");
		return err;
	}
	return proto_srv_auth_dh1(w->ctx, &x->a, secret);
}

/* The HSM's answer, or straight from on_lookup for a keyed token. */
static void
on_dh1(void *arg, enum m2m_err err, const uint8_t *secret, const char *detail)
{
	struct srv_auth *x = arg;
	struct worker *w = x->w;
	struct db_handshake h;

	if ((err = crypto(x, err, secret, detail)) != M2M_OK ||
	    (err = reserve_session(x)) != M2M_OK) {
		fail(x, err);
		return;
	}
	memset(&h, 0, sizeof(h));
	h.module_id = x->module_id;
	h.used_pseudonym = x->a.hs.pseudonym;
	h.used_len = x->a.hs.pseudonym_len;
	h.new_pseudonym = x->a.next_pseudonym;
	h.new_len = PROTO_PSEUDONYM_LEN;
	h.promote_key = x->a.used_pending_key ? x->a.rec.pending_key : NULL;
	memcpy(h.session_id, x->sess->report_id, PROTO_SESSION_ID_LEN);
	h.data = x->a.data;
	h.data_len = x->a.data_len;
	h.instr_bytes = welcome_budget(x->a.pkt_len, h.new_len);
	h.from = &x->from;
	x->t0 = worker_now_ns();
	if ((err = db_write_handshake(w->db, &h, on_commit, x)) != M2M_OK)
		fail(x, err);
}

/* Keeps the WELCOME on the used-up entry for a lost-WELCOME retransmission. */
static void
settle_entry(struct srv_auth *x, const uint8_t *welcome, size_t len)
{
	struct ho_entry *e = ho_find(&x->w->ho, x->a.hs.token);

	if (e == NULL)
		return;
	proto_srv_hs_settle(&e->hs, &x->a, M2M_OK);
	/* A WELCOME too long to keep (many instructions) is not resent: the
	 * module starts over, and its unconfirmed instructions go again. The
	 * entry has nothing left to do: its slot is free at once. */
	if (!ho_keep_welcome(&x->w->ho, e, welcome, len, x->tag))
		ho_remove(&x->w->ho, e);
}

/* [server] log_sessions: one info line per session established. */
static void
log_session(const struct srv_auth *x, size_t n_instr)
{
	char addr[INET6_ADDRSTRLEN + 8], key[9];
	const uint8_t *k = x->a.hs.key_id;

	if (!x->w->srv->cfg->log_sessions)
		return;
	snprintf(key, sizeof(key), "%02x%02x%02x%02x", k[0], k[1], k[2], k[3]);
	log_info("worker %u: session of module %s from %s established (server key %s, "
	    "%zu instructions)", x->w->idx, x->identity, net_ntop(&x->from, addr, sizeof(addr)),
	    key, n_instr);
}

static void
on_commit(void *arg, enum m2m_err err, const struct db_write_result *r)
{
	struct srv_auth *x = arg;
	struct worker *w = x->w;
	struct sess_entry *se = x->sess;
	uint8_t out[PROTO_DATAGRAM_MAX], id[PROTO_SESSION_ID_LEN];
	size_t n;

	srv_observe(&w->m, SRV_H_db_commit, worker_now_ns() - x->t0);
	if (err == M2M_E_DB_REJECTED)
		err = M2M_E_PROTO_MODULE_STATUS;
	/* The session is set up in place: its id must not alias the argument. */
	memcpy(id, se->s.id, sizeof(id));
	if (err == M2M_OK)
		err = proto_srv_welcome(w->ctx, &x->a, id, r->pseudonym, r->pseudonym_len,
		    r->instr, r->n_instr, &se->s, out, sizeof(out), &n);
	if (err == M2M_OK)
		err = sess_insert(&w->sess, se);
	if (err != M2M_OK) {
		fail(x, err);
		return;
	}
	srv_count(&w->m, SRV_C_db_commits, 1);
	se->module_id = x->module_id;
	se->last_active = se->started = worker_now_s();
	se->records = 0;
	sess_stats_start(se, &x->from, se->last_active);
	settle_entry(x, out, n);
	worker_send(w, x->fd, (const struct sockaddr *)&x->from, x->fromlen, out, n);
	srv_count(&w->m, SRV_C_handshakes_completed, 1);
	srv_count_key(w, x->a.hs.key_id);
	srv_observe(&w->m, SRV_H_handshake, worker_now_ns() - x->t_read);
	log_session(x, r->n_instr);
	finish(x);
}
