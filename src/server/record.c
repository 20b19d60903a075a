/* SPDX-License-Identifier: Apache-2.0 */
/* DATA and REKEY inside a session: opened (replay window, tag), written
 * through the group commit, and acknowledged only once committed; a DATA
 * resent after a lost DATA_ACK is answered again, not stored again, a few
 * times, and from an address other than the module's never with more
 * bytes than that address sent. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "src/server/log.h"
#include "src/server/srv.h"

/* m2md's REKEY_ACK status values (the protocol fixes only 0). Refused: the
 * key was used before, by this module or another, or the module is not
 * active; the module keeps its current key. */
#define SRV_REKEY_RECORDED	0
#define SRV_REKEY_REFUSED	1

/* Answers again per committed DATA, at most: a module resends a few
 * times, while whoever captured a DATA could replay it without end, from
 * any source address. */
#define SRV_ANSWER_AGAIN_MAX	8
/* What answers a resend: a DATA_ACK without instructions (acked seq and
 * an empty list), 43 bytes, longer than the shortest DATA (35). */
#define SRV_ACK_AGAIN_LEN	(PROTO_RECORD_HDR_LEN + PROTO_SEQ_LEN + 1 + PROTO_TAG_LEN)

struct srv_rec {
	struct worker *w;
	struct sess_entry *se;
	struct sockaddr_storage from;
	socklen_t fromlen;
	int fd;
	uint8_t type;
	uint64_t seq;
	uint64_t t0;
};

static void
finish(struct srv_rec *x)
{
	sess_done(&x->w->sess, x->se);
	x->w->inflight--;
	free(x);
}

static void
send_ack(struct worker *w, struct sess_entry *se, int fd, const struct sockaddr_storage *to,
    socklen_t tolen, uint8_t type, const struct proto_ack_pt *ack)
{
	uint8_t pt[PROTO_DATAGRAM_MAX], out[PROTO_DATAGRAM_MAX];
	size_t ptlen, n;
	enum m2m_err err;

	err = proto_ack_pt_encode(type, ack, pt, sizeof(pt), &ptlen);
	if (err == M2M_OK)
		err = proto_session_seal(w->ctx, &se->s, type, pt, ptlen, out, sizeof(out), &n,
		    NULL);
	if (err != M2M_OK) {
		log_warn("worker %u: cannot answer a committed record: %s", w->idx,
		    m2m_strerror(err));
		return;
	}
	worker_send(w, fd, (const struct sockaddr *)to, tolen, out, n);
	sess_stats_out(se, n);
}

static void
reply(struct srv_rec *x, const struct proto_ack_pt *ack)
{
	uint8_t type = x->type == PROTO_DATA ? PROTO_DATA_ACK : PROTO_REKEY_ACK;

	send_ack(x->w, x->se, x->fd, &x->from, x->fromlen, type, ack);
}

/* The database refused a DATA: the module is no longer active (suspended or
 * revoked, by any node's administrator). Its session ends on this node
 * now, so that nothing more on it is stored or acknowledged, a resend of
 * an earlier DATA included. */
static void
end_session(struct srv_rec *x)
{
	if (x->se->closed)
		return;
	sess_close(&x->w->sess, x->se);
	srv_count(&x->w->m, SRV_C_sessions_ended_inactive, 1);
	log_debug("worker %u: session of module %lld ended: module not active", x->w->idx,
	    (long long)x->se->module_id);
}

static void
on_commit(void *arg, enum m2m_err err, const struct db_write_result *r)
{
	struct srv_rec *x = arg;
	struct worker *w = x->w;
	struct proto_ack_pt ack;

	srv_observe(&w->m, SRV_H_db_commit, worker_now_ns() - x->t0);
	memset(&ack, 0, sizeof(ack));
	ack.acked_seq = x->seq;
	if (err == M2M_OK && x->type == PROTO_DATA) {
		memcpy(ack.instr, r->instr, r->n_instr * sizeof(r->instr[0]));
		ack.n_instr = r->n_instr;
		srv_count(&w->m, SRV_C_data_acked, 1);
	} else if (x->type == PROTO_REKEY && (err == M2M_OK || err == M2M_E_DB_REJECTED)) {
		ack.status = err == M2M_OK ? SRV_REKEY_RECORDED : SRV_REKEY_REFUSED;
		srv_count(&w->m, SRV_C_rekeys, err == M2M_OK);
		err = M2M_OK;
	}
	if (err != M2M_OK) {
		/* Never acknowledged: the module resends the same DATA, which
		 * the window must then take as new. */
		if (x->type == PROTO_DATA && err != M2M_E_DB_REJECTED)
			proto_session_forget(&x->se->s, x->seq);
		if (x->type == PROTO_DATA && err == M2M_E_DB_REJECTED)
			end_session(x);
		srv_drop(w, &x->from, err);
		finish(x);
		return;
	}
	if (x->type == PROTO_DATA) {
		proto_session_answered(&x->se->s, x->seq);
		x->se->answers_left = SRV_ANSWER_AGAIN_MAX;
	}
	srv_count(&w->m, SRV_C_db_commits, 1);
	reply(x, &ack);
	finish(x);
}

static enum m2m_err
write_record(struct srv_rec *x, const uint8_t *pt, size_t len)
{
	struct proto_data_pt d;
	struct db_data dd;
	enum m2m_err err;

	if (x->type == PROTO_REKEY) {
		uint8_t full[PROTO_POINT_FULL_LEN];

		/* Checking the point decodes it: the stored uncompressed form
		 * spares the square root at every later handshake. */
		if (len != PROTO_POINT_LEN)
			return M2M_E_PROTO_PAYLOAD;
		if (proto_p256_decompress(x->w->ctx, pt, len, full) != M2M_OK)
			return M2M_E_PROTO_POINT;
		return db_write_rekey(x->w->db, x->se->module_id, pt, full, on_commit, x);
	}
	if ((err = proto_data_pt_decode(pt, len, &d)) != M2M_OK)
		return err;
	memset(&dd, 0, sizeof(dd));
	dd.module_id = x->se->module_id;
	memcpy(dd.session_id, x->se->report_id, PROTO_SESSION_ID_LEN);
	dd.seq = x->seq;
	dd.acks = d.acks;
	dd.n_acks = d.n_acks;
	dd.payload = d.payload;
	dd.payload_len = d.payload_len;
	/* Not queued (queue full, database down): the resend is new. */
	if ((err = db_write_data(x->w->db, &dd, on_commit, x)) != M2M_OK)
		proto_session_forget(&x->se->s, x->seq);
	return err;
}

static struct sess_entry *
session_of(struct worker *w, const struct srv_pkt *p, struct proto_record *r)
{
	struct sess_entry *se;
	enum m2m_err err;
	int route;

	if ((err = proto_record_decode(p->buf, p->len, r)) != M2M_OK) {
		srv_drop(w, &p->from, err);
		return NULL;
	}
	if ((route = srv_route(w, r->session_id)) < 0) {
		srv_drop(w, &p->from, M2M_E_SRV_NOT_OURS);
		return NULL;
	}
	if ((unsigned)route != w->idx) {
		worker_handoff(w, (unsigned)route, p);
		return NULL;
	}
	if ((se = sess_find(&w->sess, r->session_id)) == NULL)
		srv_drop(w, &p->from, M2M_E_SRV_UNKNOWN_SESSION);
	return se;
}

/* Whether a resend that came from p may be answered: only once its path
 * (address and port) has sent the answer's size in resends, so that no
 * address ever gets more bytes than it sent, the module's own included (a
 * replay may come from anywhere, or claim the module's address). One path
 * per session is tracked; a new one takes its place from zero. A module
 * whose DATA is shorter than its DATA_ACK gets its answer at the second
 * resend. */
static int
path_allows(struct sess_entry *se, const struct srv_pkt *p)
{
	uint8_t a[18];
	size_t n = net_addr_bytes(&p->from, a, 1);
	struct sess_path *t = &se->resend;

	if (t->len != n || memcmp(t->addr, a, n) != 0) {
		memcpy(t->addr, a, n);
		t->len = (uint8_t)n;
		t->credit = 0;
	}
	t->credit = t->credit > UINT32_MAX - p->len ? UINT32_MAX : t->credit + (uint32_t)p->len;
	if (t->credit < SRV_ACK_AGAIN_LEN)
		return 0;
	t->credit -= SRV_ACK_AGAIN_LEN;
	return 1;
}

/* A DATA already committed and answered, resent byte for byte: its
 * DATA_ACK was lost. A fresh DATA_ACK for the same seq, nothing stored;
 * the instructions the lost one carried come again after the next
 * handshake (doc/protocol.md, 12.2). At most SRV_ANSWER_AGAIN_MAX times
 * between two fresh DATAs, and to any path only within what that path
 * sent (anti-amplification, as QUIC's before address validation). */
static void
answer_again(struct worker *w, struct sess_entry *se, const struct srv_pkt *p,
    const struct proto_record *r)
{
	uint8_t pt[PROTO_DATAGRAM_MAX];
	struct proto_ack_pt ack;
	size_t len;
	enum m2m_err err;

	if (se->answers_left == 0) {
		srv_drop(w, &p->from, M2M_E_SRV_RESENDS);
		return;
	}
	err = proto_session_reopen(w->ctx, &se->s, r, p->buf, pt, sizeof(pt), &len);
	if (err != M2M_OK) {
		srv_drop(w, &p->from, err);
		return;
	}
	proto_wipe(pt, len);
	if (!path_allows(se, p)) {
		srv_drop(w, &p->from, M2M_E_SRV_UNVALIDATED);
		return;
	}
	memset(&ack, 0, sizeof(ack));
	ack.acked_seq = r->seq;
	/* Not last_active: a replayed record must not keep a session alive. */
	se->answers_left--;
	srv_count(&w->m, SRV_C_data_answered_again, 1);
	send_ack(w, se, p->fd, &p->from, p->fromlen, PROTO_DATA_ACK, &ack);
}

/* Sessions are bounded (session_max_age, session_max_records), so that
 * forward secrecy and the use of one key are too: the first record past a
 * bound ends the session, unopened and unanswered. The module then runs a
 * new handshake and sends the record's data again there (doc/protocol.md,
 * 10.4); nothing past the bound is stored. */
static int
past_bounds(struct worker *w, struct sess_entry *se)
{
	const struct srv_config *c = w->srv->cfg;

	if (se->records < c->session_max_records &&
	    worker_now_s() - se->started < c->session_max_age_s)
		return 0;
	if (!se->closed)
		sess_close(&w->sess, se);
	srv_count_drop(&w->m, M2M_E_SRV_SESSION_LIMIT);
	return 1;
}

void
srv_on_record(struct worker *w, const struct srv_pkt *p)
{
	struct proto_record r;
	struct sess_entry *se = session_of(w, p, &r);
	struct srv_rec *x;
	uint8_t pt[PROTO_DATAGRAM_MAX];
	size_t len;
	enum m2m_err err;

	if (se == NULL)
		return;
	if (w->inflight >= w->srv->cfg->inflight_max) {
		srv_drop(w, &p->from, M2M_E_SRV_BUSY);
		return;
	}
	if (past_bounds(w, se))
		return;
	err = proto_session_open(w->ctx, &se->s, &r, p->buf, pt, sizeof(pt), &len);
	if (err == M2M_E_PROTO_REPLAY && r.type == PROTO_DATA) {
		answer_again(w, se, p, &r);
		return;
	}
	if (err != M2M_OK) {
		srv_drop(w, &p->from, err);
		return;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		if (r.type == PROTO_DATA)
			proto_session_forget(&se->s, r.seq);
		srv_drop(w, &p->from, M2M_E_NOMEM);
		return;
	}
	*x = (struct srv_rec){ .w = w, .se = se, .from = p->from, .fromlen = p->fromlen,
	    .fd = p->fd, .type = r.type, .seq = r.seq, .t0 = worker_now_ns() };
	se->last_active = worker_now_s();
	se->records++;
	sess_stats_in(se, &p->from, p->len, r.type == PROTO_DATA, se->last_active);
	se->inflight++;
	w->inflight++;
	if ((err = write_record(x, pt, len)) != M2M_OK) {
		srv_drop(w, &p->from, err);
		finish(x);
	}
	proto_wipe(pt, len);
}
