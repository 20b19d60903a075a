/* A pool thread: its own PKCS#11 session, one request at a time. A session
 * that fails with a token-level error is replaced at once and the request
 * retried on the fresh one, so a token that closed its sessions (a reboot)
 * costs no request. If the fresh session fails too, the token is lost
 * (pool_token.c): the thread hands the request back failed, and the pool's
 * threads take turns re-opening the module while they wait for work. */
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

/* Under mu: the next request, or NULL with *reopen set when it is this
 * thread's turn to re-open the lost token. Requests go first: while the
 * token is lost they fail at once, and none arrive (refused at submit). */
static struct hsm_req *
next_job(struct hsm_pool *p, int *reopen, int *down)
{
	for (;;) {
		if (p->stop)
			return NULL;
		if (p->head != NULL) {
			*down = p->down;
			return p->head;
		}
		if (p->down && !p->reopening && hsm_now_ns() >= p->retry_at) {
			p->reopening = 1;
			*reopen = 1;
			return NULL;
		}
		if (p->down && !p->reopening)
			wait_until(p, p->retry_at);
		else
			pthread_cond_wait(&p->cv, &p->mu);
	}
}

static struct hsm_req *
take(struct hsm_pool *p, int *reopen, int *down)
{
	struct hsm_req *r;

	*reopen = *down = 0;
	pthread_mutex_lock(&p->mu);
	r = next_job(p, reopen, down);
	if (r != NULL) {
		p->head = r->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->st.queue_depth--;
		p->st.in_flight++;
		if (*down)
			hsm_detail(r->detail, sizeof(r->detail), "token unavailable: %s",
			    p->cause);
	}
	pthread_mutex_unlock(&p->mu);
	return r;
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
	int reopen, down;

	while ((r = take(w.p, &reopen, &down)) != NULL || reopen) {
		if (reopen) {
			hsm_pool_reopen(w.p);
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
