/* SPDX-License-Identifier: Apache-2.0 */
/* One virtual module's session on a slot: the handshake and DATA exchange
 * driven through the module role of src/proto, with retransmission. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "module-sim/thread.h"

static void send_data(struct sim_slot *sl);

static void
arm(struct sim_slot *sl)
{
	struct timeval tv;
	uint64_t ms = (uint64_t)sl->t->o->timeout_ms << sl->tries;	/* backoff */

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000 * 1000);
	evtimer_add(sl->tm, &tv);
}

/* --loss: whether this datagram is lost on the way. Not a secret: a
 * xorshift per thread, seeded by the thread's index, so a run repeats. */
static int
lost(struct sim_thread *t)
{
	uint64_t x = t->loss_rng;

	if (t->o->loss == 0)
		return 0;
	x ^= x << 13, x ^= x >> 7, x ^= x << 17;
	t->loss_rng = x;
	if ((double)(x >> 11) * 0x1p-53 * 100 >= t->o->loss)
		return 0;
	SIM_INC(t->stats.lost);
	return 1;
}

/* A send error is counted; the retransmission timer recovers from it. */
static void
send_buf(struct sim_slot *sl, const uint8_t *buf, size_t len)
{
	if (lost(sl->t))
		return;
	if (send(sl->fd, buf, len, 0) >= 0)
		return;
	if (errno == ECONNREFUSED)
		SIM_INC(sl->t->stats.err[SIM_ERR_REFUSED]);
	else
		SIM_INC(sl->t->stats.err[SIM_ERR_SEND]);
}

static void
send_last(struct sim_slot *sl)
{
	send_buf(sl, sl->last, sl->last_len);
}

static uint8_t *
auth_at(struct sim_slot *sl, unsigned i)
{
	return sl->auth + (size_t)i * sl->t->auth_cap;
}

int
sim_vmod_open_socket(struct sim_slot *sl)
{
	if (sl->rd != NULL)
		event_free(sl->rd), sl->rd = NULL;
	if (sl->fd >= 0)
		close(sl->fd), sl->fd = -1;
	if ((sl->fd = sim_socket(sl->t->run->addr)) < 0)
		return -1;
	sl->rd = event_new(sl->t->base, sl->fd, EV_READ | EV_PERSIST, sim_vmod_on_read, sl);
	if (sl->rd == NULL || event_add(sl->rd, NULL) != 0)
		return -1;
	return 0;
}

/* Ends the session. A failed one gets a fresh socket, so late answers to
 * it cannot reach the next module on this slot. */
static void
finish(struct sim_slot *sl, int ok)
{
	evtimer_del(sl->tm);
	if (ok)
		memcpy(sl->prev_sid, sl->s.id, PROTO_SESSION_ID_LEN);
	proto_mod_hs_wipe(&sl->hs);
	proto_session_wipe(&sl->s);
	sl->st = SLOT_FREE;
	if (!ok && sim_vmod_open_socket(sl) != 0)
		SIM_INC(sl->t->stats.err[SIM_ERR_SEND]);
	sim_thread_slot_done(sl, ok);
}

static void
fail(struct sim_slot *sl, enum sim_errkind kind)
{
	SIM_INC(sl->t->stats.err[kind]);
	finish(sl, 0);
}

/* The HELLO, from a key made before the run while there is one. */
static enum m2m_err
hello(struct sim_thread *t, struct sim_slot *sl, struct sim_mod *m)
{
	if (t->n_prep > 0 && proto_mod_hello_prepared(&sl->hs, &m->c, &t->prep[t->n_prep - 1],
	    sl->last, sizeof(sl->last), &sl->last_len) == M2M_OK) {
		t->n_prep--;
		SIM_INC(t->stats.prepared);
		return M2M_OK;
	}
	return proto_mod_hello(t->ctx, &sl->hs, &m->c, sl->last, sizeof(sl->last),
	    &sl->last_len);
}

void
sim_vmod_start(struct sim_slot *sl, struct sim_mod *m, uint64_t intended_ns)
{
	struct sim_thread *t = sl->t;

	sl->mod = m;
	sl->t_start_ns = intended_ns;
	sl->tries = sl->retry_answers = 0;
	sl->data_done = 0;
	sl->resumed = 0;
	sl->n_auth = 0;
	sl->bad_welcome = 0;
	SIM_INC(t->stats.hs_started);
	if (sl->fd < 0 && sim_vmod_open_socket(sl) != 0) {
		fail(sl, SIM_ERR_SEND);
		return;
	}
	if (hello(t, sl, m) != M2M_OK) {
		fail(sl, SIM_ERR_INTERNAL);
		return;
	}
	sl->st = SLOT_HELLO;
	send_last(sl);
	arm(sl);
}

/* The server answered HELLO with a cookie (it is under load): echo it.
 * Also after a CHALLENGE, which may have been forged; the AUTHs already
 * sent stay answerable, and HELLO is what a timeout resends again. */
static void
on_retry(struct sim_slot *sl, const uint8_t *pkt, size_t len)
{
	struct sim_thread *t = sl->t;

	if (sl->retry_answers >= t->o->retries + 1 || proto_mod_retry(t->ctx, &sl->hs,
	    &sl->mod->c, pkt, len, sl->last, sizeof(sl->last), &sl->last_len) != M2M_OK) {
		SIM_INC(t->stats.ignored);
		return;
	}
	sl->retry_answers++;
	SIM_INC(t->stats.retry_msgs);
	sl->st = SLOT_HELLO;
	sl->tries = 0;
	send_last(sl);
	arm(sl);
}

/* Every CHALLENGE is answered (a forged one cannot be told from the
 * server's), each AUTH kept at its candidate's index for resends. Only the
 * first after a HELLO starts the AUTH timer: more CHALLENGEs do not prolong
 * the wait. */
static void
on_challenge(struct sim_slot *sl, const uint8_t *pkt, size_t len)
{
	struct sim_thread *t = sl->t;
	uint8_t out[PROTO_DATAGRAM_MAX];
	size_t n;
	enum m2m_err err;

	err = proto_mod_challenge(t->ctx, &sl->hs, &sl->mod->c, pkt, len, t->payload,
	    t->o->payload, out, t->auth_cap, &n);
	if (err == M2M_E_PROTO_ANSWERED) {
		SIM_INC(t->stats.ignored);	/* a resend of one answered: answer again */
		send_buf(sl, auth_at(sl, sl->hs.last), sl->auth_len);
		return;
	}
	if (err != M2M_OK) {
		SIM_INC(t->stats.ignored);	/* not for us, or forged: keep waiting */
		return;
	}
	memcpy(auth_at(sl, sl->hs.last), out, n);
	sl->auth_len = n;
	sl->n_auth = sl->hs.n_cand;
	send_buf(sl, out, n);
	if (sl->st == SLOT_HELLO) {
		sl->st = SLOT_AUTH;
		sl->tries = 0;
		arm(sl);
	}
}

/* Instructions the server sent are confirmed in the next DATA, in this
 * session or the next one, as a device would. */
static void
keep_instructions(struct sim_mod *m, const struct proto_instr *in, size_t n)
{
	for (size_t i = 0; i < n && m->n_acks < PROTO_INSTR_MAX; i++)
		memcpy(m->acks[m->n_acks++], in[i].id, PROTO_INSTR_ID_LEN);
}

/* Up to the answer's arrival: time this process spent before reading it
 * (it shares a core with the load it makes) is not the server's. */
static uint64_t
since_us(const struct sim_slot *sl, uint64_t from_ns)
{
	return sl->rx_ns > from_ns ? (sl->rx_ns - from_ns) / 1000 : 0;
}

/* After the handshake or a DATA_ACK: next DATA now, later, or the end. */
static void
next_step(struct sim_slot *sl)
{
	const struct sim_opts *o = sl->t->o;

	if (o->interval_ms == 0) {
		/* A started session completes its K DATA, even while draining. */
		if (sl->data_done < o->data) {
			sl->t_msg_ns = sim_now_ns();
			send_data(sl);
		} else {
			finish(sl, 1);
		}
		return;
	}
	if ((o->data != 0 && sl->data_done >= o->data) || sl->t->draining) {
		finish(sl, 1);
		return;
	}
	/* The next send is due one interval after the previous one was due,
	 * so a slow answer shows up as latency instead of a slower pace. */
	sl->t_msg_ns = sl->data_done == 0 ? sim_now_ns() + (uint64_t)o->interval_ms * 1000000 :
	    sl->t_msg_ns + (uint64_t)o->interval_ms * 1000000;
	sl->st = SLOT_PAUSE;
	sim_timer_at(sl->tm, sl->t_msg_ns);
}

static void
on_welcome(struct sim_slot *sl, const uint8_t *pkt, size_t len)
{
	struct sim_thread *t = sl->t;
	struct proto_welcome_pt w;
	uint8_t pt[PROTO_DATAGRAM_MAX];
	struct sim_mod *m = sl->mod;

	/* One that does not verify (forged, of another handshake, or from a
	 * server without the pinned key) is ignored: the real one may follow.
	 * A duplicate of the previous session's WELCOME is merely late. */
	if (proto_mod_welcome(t->ctx, &sl->hs, pkt, len, &sl->s, pt, &w) != M2M_OK) {
		SIM_INC(t->stats.ignored);
		if (len < PROTO_HDR_LEN + PROTO_SESSION_ID_LEN || memcmp(pkt + PROTO_HDR_LEN,
		    sl->prev_sid, PROTO_SESSION_ID_LEN) != 0)
			sl->bad_welcome = 1;
		return;
	}
	/* The server accepts only this pseudonym and the previous one now. */
	memcpy(m->c.pseudonym, w.pseudonym, w.pseudonym_len);
	m->c.pseudonym_len = w.pseudonym_len;
	m->renamed = 1;
	keep_instructions(m, w.instr, w.n_instr);
	proto_wipe(pt, sizeof(pt));
	SIM_INC(t->stats.hs_ok);
	sim_hist_record(&t->stats.hs_lat, since_us(sl, sl->t_start_ns));
	next_step(sl);
}

/* A DATA is sealed once; a resend is the same bytes (on_timeout), which
 * the server stores once and answers again if its DATA_ACK was lost. */
static void
send_data(struct sim_slot *sl)
{
	struct sim_thread *t = sl->t;
	struct sim_mod *m = sl->mod;
	struct proto_data_pt d;
	uint8_t pt[PROTO_DATAGRAM_MAX];
	size_t ptlen;
	uint64_t seq;

	sl->tries = 0;
	sl->acks_sent = m->n_acks;
	SIM_INC(t->stats.data_sent);
	d.acks = m->acks[0];
	d.n_acks = sl->acks_sent;
	d.payload = t->payload;
	d.payload_len = t->o->payload;
	if (proto_data_pt_encode(&d, pt, sizeof(pt), &ptlen) != M2M_OK ||
	    proto_session_seal(t->ctx, &sl->s, PROTO_DATA, pt, ptlen, sl->last,
	    sizeof(sl->last), &sl->last_len, &seq) != M2M_OK) {
		fail(sl, SIM_ERR_INTERNAL);
		return;
	}
	sl->seq = seq;
	sl->st = SLOT_DATA;
	send_last(sl);
	arm(sl);
}

static void
confirm_acks(struct sim_mod *m, uint8_t n)
{
	if (n > m->n_acks)
		n = m->n_acks;
	memmove(m->acks[0], m->acks[n], (size_t)(m->n_acks - n) * PROTO_INSTR_ID_LEN);
	m->n_acks = (uint8_t)(m->n_acks - n);
}

static void
on_data_ack(struct sim_slot *sl, const uint8_t *pkt, size_t len)
{
	struct sim_thread *t = sl->t;
	struct proto_record r;
	struct proto_ack_pt a;
	uint8_t pt[PROTO_DATAGRAM_MAX];
	size_t ptlen;
	enum m2m_err err;

	if (proto_record_decode(pkt, len, &r) != M2M_OK ||
	    memcmp(r.session_id, sl->s.id, PROTO_SESSION_ID_LEN) != 0) {
		SIM_INC(t->stats.ignored);	/* e.g. late, of the previous session */
		return;
	}
	err = proto_session_open(t->ctx, &sl->s, &r, pkt, pt, sizeof(pt), &ptlen);
	if (err == M2M_E_PROTO_REPLAY || err == M2M_E_PROTO_TOO_OLD) {
		SIM_INC(t->stats.ignored);
		return;
	}
	if (err != M2M_OK || proto_ack_pt_decode(PROTO_DATA_ACK, pt, ptlen, &a) != M2M_OK) {
		SIM_INC(t->stats.err[SIM_ERR_DECRYPT]);	/* keep waiting: resend may fix it */
		return;
	}
	if (a.acked_seq != sl->seq) {
		SIM_INC(t->stats.ignored);	/* answers an earlier DATA */
		return;
	}
	confirm_acks(sl->mod, sl->acks_sent);
	keep_instructions(sl->mod, a.instr, a.n_instr);
	SIM_INC(t->stats.data_ok);
	sim_hist_record(&t->stats.data_lat, since_us(sl, sl->t_msg_ns));
	sl->data_done++;
	sl->resumed = 0;
	next_step(sl);
}

static void
dispatch(struct sim_slot *sl, const uint8_t *pkt, size_t len)
{
	/* While it waits, the module role decides what each answer is worth. */
	int waiting = sl->st == SLOT_HELLO || sl->st == SLOT_AUTH;
	uint8_t type;

	if (proto_peek(pkt, len, &type) != M2M_OK) {
		SIM_INC(sl->t->stats.ignored);
		return;
	}
	if (waiting && type == PROTO_RETRY)
		on_retry(sl, pkt, len);
	else if (waiting && type == PROTO_CHALLENGE)
		on_challenge(sl, pkt, len);
	else if (waiting && type == PROTO_WELCOME)
		on_welcome(sl, pkt, len);
	else if (sl->st == SLOT_DATA && type == PROTO_DATA_ACK)
		on_data_ack(sl, pkt, len);
	else
		SIM_INC(sl->t->stats.ignored);	/* duplicates answering a resend */
}

void
sim_vmod_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct sim_slot *sl = arg;
	uint8_t buf[PROTO_DATAGRAM_MAX + 1];
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(struct timespec))];
	} ctl;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh;
	struct sim_clock c;
	ssize_t n;

	(void)what;
	/* A bounded batch, so one busy socket cannot starve the others. */
	for (int i = 0; i < 16 && sl->fd == fd; i++) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.b;
		mh.msg_controllen = sizeof(ctl.b);
		if ((n = recvmsg(fd, &mh, 0)) < 0) {
			if (errno == ECONNREFUSED)
				SIM_INC(sl->t->stats.err[SIM_ERR_REFUSED]);
			else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				SIM_INC(sl->t->stats.err[SIM_ERR_SEND]);
			return;
		}
		sim_clock_pair(&c);
		sl->rx_ns = sim_arrival_ns(&mh, &c);
		sim_hist_record(&sl->t->stats.read_lag, (c.mono_ns - sl->rx_ns) / 1000);
		if (!lost(sl->t))
			dispatch(sl, buf, (size_t)n);
	}
}

/* Handshake retries exhausted: a WELCOME came but none verified, or none. */
static enum sim_errkind
hs_failure(const struct sim_slot *sl)
{
	if (sl->st == SLOT_DATA)
		return SIM_ERR_DATA_TIMEOUT;
	return sl->bad_welcome ? SIM_ERR_WELCOME : SIM_ERR_TIMEOUT;
}

/* A DATA that gets no answer however often it is sent: the server ended
 * the session (its session_max_age or session_max_records, a restart).
 * Like a device, the slot runs a new handshake and then sends that DATA's
 * data again, sealed in the new session, so nothing is lost (doc/protocol.md
 * 10.4). Once per DATA: if it goes unanswered there too, it times out. */
static void
resume(struct sim_slot *sl)
{
	struct sim_thread *t = sl->t;

	SIM_INC(t->stats.resumed);
	SIM_INC(t->stats.hs_started);
	proto_session_wipe(&sl->s);
	sl->resumed = 1;
	sl->t_start_ns = sim_now_ns();
	sl->tries = sl->retry_answers = 0;
	sl->n_auth = 0;
	sl->bad_welcome = 0;
	if (hello(t, sl, sl->mod) != M2M_OK) {
		fail(sl, SIM_ERR_INTERNAL);
		return;
	}
	sl->st = SLOT_HELLO;
	send_last(sl);
	arm(sl);
}

static void
on_timeout(struct sim_slot *sl)
{
	struct sim_thread *t = sl->t;

	if (++sl->tries > t->o->retries) {
		if (sl->st == SLOT_DATA && !sl->resumed)
			resume(sl);
		else
			fail(sl, hs_failure(sl));
		return;
	}
	SIM_INC(t->stats.retransmits);
	/* HELLO, AUTH or DATA as sent: the server answers a repeated AUTH
	 * with the same WELCOME and a repeated DATA with a new DATA_ACK, or
	 * drops it (still in flight) and a later timeout tries again. Every
	 * AUTH, since the module cannot tell which CHALLENGE was the server's. */
	if (sl->st == SLOT_AUTH)
		for (unsigned i = 0; i < sl->n_auth; i++)
			send_buf(sl, auth_at(sl, i), sl->auth_len);
	else
		send_last(sl);
	arm(sl);
}

void
sim_vmod_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sim_slot *sl = arg;

	(void)fd;
	(void)what;
	switch (sl->st) {
	case SLOT_FREE:
		sim_thread_slot_ready(sl);
		break;
	case SLOT_PAUSE:
		send_data(sl);
		break;
	default:
		on_timeout(sl);
		break;
	}
}

void
sim_vmod_close_idle(struct sim_slot *sl)
{
	if (sl->st == SLOT_PAUSE)
		finish(sl, 1);
}
