/* SPDX-License-Identifier: Apache-2.0 */
/* The token's state for the whole pool. A worker whose session failed and
 * whose fresh session failed too declares the token lost; from then on
 * requests are refused at submit, and one worker at a time re-opens the
 * module (hsm_reopen) with a growing, jittered pause: 100 ms doubling to
 * 5 s. The log gets one line when the token is lost and one when it is
 * back, whatever the number of requests refused in between. */
#include "config.h"

#include "hsm/pool_int.h"

#include <stdio.h>
#include <stdlib.h>

#define REOPEN_MIN_NS	(100 * 1000000ull)
#define REOPEN_MAX_NS	(5000 * 1000000ull)

void
hsm_pool_token_lost(struct hsm_pool *p, uint64_t gen, const char *first, const char *then)
{
	const char *cause = first[0] != '\0' ? first : then;
	int lost;

	pthread_mutex_lock(&p->mu);
	lost = !p->down && gen >= p->gen;
	if (lost) {
		p->down = 1;
		p->st.token_ok = 0;
		p->st.token_lost++;
		p->down_since = p->retry_at = hsm_now_ns();
		p->pause = 0;
		p->attempts = 0;
		p->last_reopen = M2M_OK;
		snprintf(p->cause, sizeof(p->cause), "%s", cause);
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	if (lost)
		hsm_pool_logf(p, HSM_LOG_WARN, "token %s lost: %s%s%s; refusing requests while "
		    "the module is re-opened (retried every 0.1 s, growing to 5 s)", p->name, cause,
		    first[0] != '\0' ? ", and on a fresh session: " : "",
		    first[0] != '\0' ? then : "");
}

/* Under mu. Jitter: several nodes on one HSM do not retry in step. */
static void
backoff(struct hsm_pool *p)
{
	uint64_t half_us;

	p->pause = p->pause ? p->pause * 2 : REOPEN_MIN_NS;
	if (p->pause > REOPEN_MAX_NS)
		p->pause = REOPEN_MAX_NS;
	half_us = p->pause / 2000;
	p->retry_at = hsm_now_ns() + p->pause / 2 +
	    (uint64_t)rand_r(&p->jitter) % (half_us + 1) * 1000;
}

/* A failed attempt is news when its reason changed, or when it needs a
 * person from the start: a PIN that will not be tried again. */
static int
news(enum m2m_err prev, enum m2m_err e)
{
	if (prev == e)
		return 0;
	return prev != M2M_OK || e == M2M_E_HSM_PIN_WRONG || e == M2M_E_HSM_PIN_LOCKED;
}

void
hsm_pool_reopen(struct hsm_pool *p)
{
	char why[HSM_REQ_DETAIL] = "";
	enum m2m_err e, prev;
	uint64_t gen;
	double secs;
	unsigned n;

	e = hsm_reopen(p->h, &gen, why, sizeof(why));
	pthread_mutex_lock(&p->mu);
	p->reopening = 0;
	p->gen = gen;
	n = ++p->attempts;
	secs = (double)(hsm_now_ns() - p->down_since) / 1e9;
	prev = p->last_reopen;
	if (e == M2M_OK) {
		p->down = 0;
		p->st.token_ok = 1;
		p->st.reopens++;
	} else {
		p->st.reopen_failures++;
		p->last_reopen = e;
		backoff(p);
	}
	pthread_mutex_unlock(&p->mu);
	if (e == M2M_OK)
		hsm_pool_logf(p, HSM_LOG_INFO, "token %s is back after %.1f s (module re-opened, "
		    "attempt %u): serving again", p->name, secs, n);
	else
		hsm_pool_logf(p, news(prev, e) ? HSM_LOG_WARN : HSM_LOG_DEBUG,
		    "token %s still lost after %.1f s: re-open attempt %u: %s", p->name, secs,
		    n, why);
}
