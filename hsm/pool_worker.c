/* A pool thread: its own PKCS#11 session, one request at a time. When the
 * token fails, the affected requests fail with the reason, the failure is
 * logged once, and the thread reopens its session (and logs in again) with
 * a growing pause, so a dead token costs neither a restart nor a spin. */
#include "config.h"

#include "hsm/pool_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define RETRY_MIN_NS	(20 * 1000000ull)
#define RETRY_MAX_NS	(1000 * 1000000ull)

struct worker {
	struct hsm_pool *p;
	struct hsm_sess ss;
	uint64_t retry_at, pause;
	uint64_t up_gen;		/* p->up_gen when this worker went down */
	int down;			/* logged as failed, recovery not yet logged */
	char why[HSM_REQ_DETAIL];
};

/* Returns the pool's up generation; a recovery bumps it. */
static uint64_t
set_token_ok(struct hsm_pool *p, int ok, int recovered)
{
	uint64_t gen;

	pthread_mutex_lock(&p->mu);
	p->st.token_ok = ok;
	p->st.recoveries += recovered;
	p->up_gen += recovered;
	gen = p->up_gen;
	pthread_mutex_unlock(&p->mu);
	return gen;
}

/* In the pause after a failure, unless another worker got through since. */
static int
pausing(struct worker *w)
{
	uint64_t gen;

	if (hsm_now_ns() >= w->retry_at)
		return 0;
	pthread_mutex_lock(&w->p->mu);
	gen = w->p->up_gen;
	pthread_mutex_unlock(&w->p->mu);
	return gen == w->up_gen;
}

/* A token-level failure: counted and logged once per outage. */
static void
failed(struct worker *w, const char *why)
{
	hsm_detail(w->why, sizeof(w->why), "%s", why);
	if (!w->down)
		hsm_pool_logf(w->p, 1, "HSM token %s failed: %s; reopening the session",
		    w->p->h->name, why);
	w->down = 1;
	pthread_mutex_lock(&w->p->mu);
	w->p->st.token_failures++;
	w->p->st.token_ok = 0;
	w->up_gen = w->p->up_gen;
	pthread_mutex_unlock(&w->p->mu);
}

/* Still failing after a fresh session: pause before the next attempt. */
static void
went_down(struct worker *w)
{
	w->pause = w->pause ? w->pause * 2 : RETRY_MIN_NS;
	if (w->pause > RETRY_MAX_NS)
		w->pause = RETRY_MAX_NS;
	w->retry_at = hsm_now_ns() + w->pause;
}

/* Makes sure there is a session; false (and r failed) if there is none. */
static int
ensure_session(struct worker *w, struct hsm_req *r)
{
	char why[HSM_REQ_DETAIL];

	if (w->ss.s != CK_INVALID_HANDLE)
		return 1;
	if (pausing(w)) {
		r->err = M2M_E_HSM_TOKEN_FAILED;
		hsm_detail(r->detail, sizeof(r->detail), "token unavailable: %s", w->why);
		return 0;
	}
	r->err = hsm_sess_open(w->p->h, &w->ss, why, sizeof(why));
	if (r->err != M2M_OK) {
		hsm_detail(r->detail, sizeof(r->detail), "%s", why);
		failed(w, why);
		went_down(w);
		return 0;
	}
	if (w->down) {
		hsm_pool_logf(w->p, 0, "HSM token %s: session reopened, serving again",
		    w->p->h->name);
		set_token_ok(w->p, 1, 1);
	}
	w->down = 0;
	w->pause = 0;
	return 1;
}

/* A session that died with the token (a reboot closes them all) gets one
 * fresh replacement at once, so a healed token costs no request; a token
 * that fails twice in a row fails the request and pauses this worker. */
static void
serve(struct worker *w, struct hsm_req *r)
{
	int attempt;
	CK_RV rv;

	for (attempt = 0; attempt < 2; attempt++) {
		if (!ensure_session(w, r))
			return;
		r->err = hsm_sess_derive(w->p->h, &w->ss, r->key_id, r->peer, r->peer_len,
		    r->secret, &rv, r->detail, sizeof(r->detail));
		if (r->err == M2M_OK || !hsm_ckr_is_token_failure(rv))
			return;
		hsm_sess_close(w->p->h, &w->ss);
		failed(w, r->detail);
	}
	went_down(w);
}

static struct hsm_req *
take(struct hsm_pool *p)
{
	struct hsm_req *r;

	pthread_mutex_lock(&p->mu);
	while (!p->stop && p->head == NULL)
		pthread_cond_wait(&p->cv, &p->mu);
	r = p->stop ? NULL : p->head;
	if (r != NULL) {
		p->head = r->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->st.queue_depth--;
		p->st.in_flight++;
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

	while ((r = take(w.p)) != NULL) {
		serve(&w, r);
		if (r->err != M2M_OK)
			OPENSSL_cleanse(r->secret, sizeof(r->secret));
		account(w.p, r);
		hsm_pool_complete(r);
	}
	hsm_sess_close(w.p->h, &w.ss);
	free(w.ss.objs);
	return NULL;
}
