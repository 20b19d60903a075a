/* SPDX-License-Identifier: Apache-2.0 */
/* The pool tests' requester (see drv.h). */
#define _GNU_SOURCE
#include "tests/hsm/drv.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <event2/event.h>

struct drv_req {
	struct drv *d;
	unsigned idx;
};

void
drv_init(struct drv *d, struct hsm_pool *pool, const uint8_t key_id[HSM_KEY_ID_LEN],
    const uint8_t server_pub[HSM_POINT_LEN])
{
	unsigned i;
	void *pk;

	memset(d, 0, sizeof(*d));
	d->pool = pool;
	memcpy(d->key_id, key_id, HSM_KEY_ID_LEN);
	for (i = 0; i < DRV_POINTS; i++) {
		tok_soft_key(d->pts[i], &pk);
		tok_soft_ecdh(pk, server_pub, d->exp[i]);
		tok_soft_free(pk);
	}
}

static void submit_more(struct drv *d);

static void
on_done(void *arg, enum m2m_err err, const uint8_t *secret, const char *detail)
{
	struct drv_req *r = arg;
	struct drv *d = r->d;

	if (err != M2M_OK) {
		d->failed++;
		d->last_err = err;
		snprintf(d->last_detail, sizeof(d->last_detail), "%s", detail);
	} else if (memcmp(secret, d->exp[r->idx % DRV_POINTS], HSM_SECRET_LEN) == 0)
		d->ok++;
	else
		d->wrong++;
	d->outstanding--;
	if (++d->done == d->total)
		event_base_loopbreak(d->base);
	else
		submit_more(d);
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	submit_more(arg);
}

static void
submit_more(struct drv *d)
{
	struct timeval ms = { 0, 1000 };
	enum m2m_err e;

	while (d->outstanding < d->window && d->submitted < d->total) {
		struct drv_req *r = &d->reqs[d->submitted];

		r->d = d;
		r->idx = d->submitted;
		e = hsm_pool_derive(d->c, d->key_id, d->pts[r->idx % DRV_POINTS], on_done, r);
		if (e == M2M_E_FULL) {
			d->full++;
			break;
		}
		if (e == M2M_E_HSM_TOKEN_FAILED) {
			/* Refused at once while the token is lost: a failure. */
			d->failed++;
			d->refused++;
			d->last_err = e;
			d->submitted++;
			if (++d->done == d->total)
				event_base_loopbreak(d->base);
			continue;
		}
		cr_assert_eq(e, M2M_OK, "submit: %s", m2m_strerror(e));
		d->outstanding++;
		d->submitted++;
	}
	/* Rejected with nothing in flight: nothing will call us back, so poll. */
	if (d->outstanding == 0 && d->submitted < d->total)
		evtimer_add(d->retry, &ms);
}

void
drv_run(struct drv *d, unsigned total, unsigned window)
{
	struct timespec t0, t1;

	d->total = total;
	d->window = window;
	d->submitted = d->outstanding = d->done = 0;
	d->ok = d->wrong = d->failed = d->full = d->refused = 0;
	cr_assert((d->reqs = calloc(total, sizeof(*d->reqs))) != NULL);
	cr_assert((d->base = event_base_new()) != NULL);
	cr_assert_eq(hsm_pool_client_new(d->pool, d->base, &d->c), M2M_OK);
	d->retry = evtimer_new(d->base, on_retry, d);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	submit_more(d);
	if (d->done < d->total)		/* all refused at submit: nothing to wait for */
		event_base_dispatch(d->base);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	d->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	event_free(d->retry);
	hsm_pool_client_free(d->c);
	event_base_free(d->base);
	free(d->reqs);
	d->reqs = NULL;
}

void
drv_free(struct drv *d)
{
	(void)d;
}
