/* SPDX-License-Identifier: Apache-2.0 */
/* A pool thread: its own PKCS#11 session, one request at a time. A session
 * that fails with a token-level error is replaced at once and the request
 * retried on the fresh one, so a token that closed its sessions (a reboot)
 * costs no request. If the fresh session fails too, the token is lost
 * (pool_token.c): the thread hands the request back failed, and the pool's
 * threads take turns re-opening the module while they wait for work. Idle
 * for HSM_PROBE_NS, one thread probes the token with one ECDH. */
#include "config.h"

#include "hsm/pool_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

struct worker {
	struct hsm_pool *p;
	struct hsm_sess ss;
	uint64_t gen;			/* h->gen the session was opened in */
	int had_session;
	char first[HSM_REQ_DETAIL];	/* how the old session failed, if it did */
};

/* Under h->use. A session from before a re-open died with the module: its
 * handle is dropped, not closed, since it may now name another thread's. */
static void
forget_stale(struct worker *w)
{
	if (w->ss.s != CK_INVALID_HANDLE && w->gen != w->p->h->gen)
		w->ss.s = CK_INVALID_HANDLE;
}

static void
count(struct hsm_pool *p, uint64_t *field)
{
	pthread_mutex_lock(&p->mu);
	(*field)++;
	pthread_mutex_unlock(&p->mu);
}

/* Under h->use. 1: there is a session; 0: none could be opened (r failed). */
static int
ensure_session(struct worker *w, struct hsm_req *r)
{
	if (w->ss.s != CK_INVALID_HANDLE)
		return 1;
	r->err = hsm_sess_open(w->p->h, &w->ss, r->detail, sizeof(r->detail));
	if (r->err != M2M_OK)
		return 0;
	w->gen = w->p->h->gen;
	if (w->had_session)
		count(w->p, &w->p->st.recoveries);
	w->had_session = 1;
	return 1;
}

/* Under h->use. 1 when the token is lost: no session, or a fresh one
 * failed the same way the old one did. */
static int
derive(struct worker *w, struct hsm_req *r)
{
	int attempt;
	CK_RV rv;

	forget_stale(w);
	w->first[0] = '\0';
	for (attempt = 0; attempt < 2; attempt++) {
		if (!ensure_session(w, r)) {
			count(w->p, &w->p->st.token_failures);
			return 1;
		}
		r->err = hsm_sess_derive(w->p->h, &w->ss, r->key_id, r->peer, r->peer_len,
		    r->secret, &rv, r->detail, sizeof(r->detail));
		if (r->err == M2M_OK || !hsm_ckr_is_token_failure(rv))
			return 0;
		hsm_sess_close(w->p->h, &w->ss);
		count(w->p, &w->p->st.token_failures);
		if (attempt == 0)
			hsm_detail(w->first, sizeof(w->first), "%s", r->detail);
	}
	return 1;
}

static void
serve(struct worker *w, struct hsm_req *r)
{
	struct hsm *h = w->p->h;
	uint64_t gen;
	int lost;

	pthread_rwlock_rdlock(&h->use);
	lost = derive(w, r);
	gen = h->gen;
	pthread_rwlock_unlock(&h->use);
	if (lost) {
		r->err = M2M_E_HSM_TOKEN_FAILED;
		hsm_pool_token_lost(w->p, gen, w->first, r->detail);
	}
}

static void
wait_until(struct hsm_pool *p, uint64_t at)
{
	struct timespec ts = { (time_t)(at / 1000000000u), (long)(at % 1000000000u) };

	pthread_cond_timedwait(&p->cv, &p->mu, &ts);
}

enum job { JOB_STOP, JOB_REQ, JOB_REOPEN, JOB_PROBE };

/* Under mu: what this thread does next. Requests go first: while the
 * token is lost they fail at once, and none arrive (refused at submit).
 * Then, while lost, the re-open when its time came and nobody is at it;
 * while up and idle, a probe now and then, so that a token lost while
 * nothing asked for it shows in m2md_hsm_up before the next handshake. */
static enum job
next_job(struct hsm_pool *p)
{
	uint64_t now;

	for (;;) {
		if (p->stop)
			return JOB_STOP;
		if (p->head != NULL)
			return JOB_REQ;
		now = hsm_now_ns();
		if (p->down && !p->reopening && now >= p->retry_at) {
			p->reopening = 1;
			return JOB_REOPEN;
		}
		if (!p->down && now >= p->probe_at) {
			p->probe_at = now + HSM_PROBE_NS;
			return JOB_PROBE;
		}
		if (p->down && p->reopening)
			pthread_cond_wait(&p->cv, &p->mu);
		else
			wait_until(p, p->down ? p->retry_at : p->probe_at);
	}
}

static struct hsm_req *
take(struct hsm_pool *p, enum job *job, int *down)
{
	struct hsm_req *r = NULL;

	pthread_mutex_lock(&p->mu);
	*job = next_job(p);
	*down = p->down;
	if (*job == JOB_REQ) {
		r = p->head;
		p->head = r->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->st.queue_depth--;
		p->st.in_flight++;
		p->probe_at = hsm_now_ns() + HSM_PROBE_NS;
		if (*down)
			hsm_detail(r->detail, sizeof(r->detail), "token unavailable: %s",
			    p->cause);
	}
	pthread_mutex_unlock(&p->mu);
	return r;
}

/* One ECDH with the generator as the peer: its result is the x of the
 * server's public key, nothing secret, wiped all the same. A token-level
 * failure loses the token as a request's would. */
static void
probe(struct worker *w)
{
	static const uint8_t g[HSM_POINT_FULL_LEN] = {
		0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5,
		0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4,
		0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a,
		0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33,
		0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
	};
	struct hsm_req r = { .peer_len = sizeof(g) };

	memcpy(r.key_id, w->p->h->keys[0].key_id, HSM_KEY_ID_LEN);
	memcpy(r.peer, g, sizeof(g));
	serve(w, &r);
	OPENSSL_cleanse(r.secret, sizeof(r.secret));
	count(w->p, &w->p->st.probes);
}

static void
account(struct hsm_pool *p, const struct hsm_req *r)
{
	uint64_t dt = hsm_now_ns() - r->t0;

	pthread_mutex_lock(&p->mu);
	p->st.in_flight--;
	if (r->err == M2M_OK)
		p->st.derive_ok++;
	else
		p->st.derive_failed++;
	p->st.latency_ns_sum += dt;
	pthread_mutex_unlock(&p->mu);
}

void *
hsm_pool_worker(void *arg)
{
	struct worker w = { .p = arg, .ss = { .s = CK_INVALID_HANDLE } };
	struct hsm_req *r;
	enum job job;
	int down;

	while ((r = take(w.p, &job, &down)) != NULL || job != JOB_STOP) {
		if (job == JOB_REOPEN || job == JOB_PROBE) {
			if (job == JOB_REOPEN)
				hsm_pool_reopen(w.p);
			else
				probe(&w);
			continue;
		}
		/* Queued before the token was lost: failed at once, as new
		 * ones are at submit. */
		if (down)
			r->err = M2M_E_HSM_TOKEN_FAILED;
		else
			serve(&w, r);
		if (r->err != M2M_OK)
			OPENSSL_cleanse(r->secret, sizeof(r->secret));
		account(w.p, r);
		hsm_pool_complete(r);
	}
	pthread_rwlock_rdlock(&w.p->h->use);
	forget_stale(&w);
	hsm_sess_close(w.p->h, &w.ss);
	pthread_rwlock_unlock(&w.p->h->use);
	free(w.ss.objs);
	return NULL;
}
