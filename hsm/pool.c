/* SPDX-License-Identifier: Apache-2.0 */
/* The HSM pool: a bounded queue in front of a fixed set of worker threads.
 * Submitting never blocks; a full queue is an immediate, counted M2M_E_FULL,
 * and so is a lost token (M2M_E_HSM_TOKEN_FAILED) until it is re-opened. */
#include "config.h"

#include "hsm/pool_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

uint64_t
hsm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
hsm_pool_logf(struct hsm_pool *p, enum hsm_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (p->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->log(p->logarg, level, msg);
}

/* Monotonic, like the re-open schedule the workers wait for. */
static void
cv_init(pthread_cond_t *cv)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &a);
	pthread_condattr_destroy(&a);
}

static enum m2m_err
alloc_reqs(struct hsm_pool *p, unsigned threads, unsigned queue)
{
	unsigned i;

	/* Slots for the queue, the threads' requests and completions not yet
	 * delivered; a loop slower than the HSM ends up with M2M_E_FULL too. */
	p->nreqs = queue + threads;
	if ((p->reqs = calloc(p->nreqs, sizeof(*p->reqs))) == NULL)
		return M2M_E_NOMEM;
	for (i = 0; i < p->nreqs; i++) {
		p->reqs[i].next = p->free;
		p->free = &p->reqs[i];
	}
	return M2M_OK;
}

enum m2m_err
hsm_pool_new(struct hsm *h, unsigned threads, unsigned queue, hsm_log_fn *log,
    void *logarg, struct hsm_pool **out, char *err, size_t errlen)
{
	struct hsm_pool *p;
	enum m2m_err e;

	if (threads == 0 || threads > 256 || queue == 0 || queue > (1u << 20)) {
		hsm_detail(err, errlen, "pool: 1 to 256 threads, queue 1 to 1048576");
		return M2M_E_CONFIG;
	}
	if ((e = hsm_keys_resolve(h, err, errlen)) != M2M_OK)
		return e;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return M2M_E_NOMEM;
	p->h = h;
	p->queue = queue;
	p->log = log;
	p->logarg = logarg;
	p->st.threads = threads;
	p->st.queue_size = queue;
	p->st.token_ok = 1;
	p->jitter = (unsigned)hsm_now_ns();
	p->probe_at = hsm_now_ns() + HSM_PROBE_NS;
	snprintf(p->name, sizeof(p->name), "%s", h->name);
	pthread_mutex_init(&p->mu, NULL);
	cv_init(&p->cv);
	if ((e = alloc_reqs(p, threads, queue)) != M2M_OK ||
	    (p->tids = calloc(threads, sizeof(*p->tids))) == NULL) {
		hsm_pool_free(p);
		return e != M2M_OK ? e : M2M_E_NOMEM;
	}
	for (; p->started < threads; p->started++) {
		char name[16];

		if (pthread_create(&p->tids[p->started], NULL, hsm_pool_worker, p) != 0) {
			hsm_detail(err, errlen, "pool: cannot start thread %u", p->started);
			hsm_pool_free(p);
			return M2M_E_NOMEM;
		}
		/* The HSM's share of the CPU shows apart in top -H and /proc. */
		snprintf(name, sizeof(name), "hsm-pool-%u", p->started);
		pthread_setname_np(p->tids[p->started], name);
	}
	*out = p;
	return M2M_OK;
}

void
hsm_pool_free(struct hsm_pool *p)
{
	unsigned i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->started; i++)
		pthread_join(p->tids[i], NULL);
	if (p->reqs != NULL)
		OPENSSL_cleanse(p->reqs, p->nreqs * sizeof(*p->reqs));
	free(p->reqs);
	free(p->tids);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

static int
served(const struct hsm *h, const uint8_t key_id[HSM_KEY_ID_LEN])
{
	size_t i;

	for (i = 0; i < h->nkeys; i++)
		if (memcmp(h->keys[i].key_id, key_id, HSM_KEY_ID_LEN) == 0)
			return 1;
	return 0;
}

enum m2m_err
hsm_pool_derive(struct hsm_pool_client *c, const uint8_t key_id[HSM_KEY_ID_LEN],
    const uint8_t peer[HSM_POINT_LEN], hsm_done_fn *done, void *arg)
{
	return hsm_pool_derive_point(c, key_id, peer, HSM_POINT_LEN, done, arg);
}

enum m2m_err
hsm_pool_derive_point(struct hsm_pool_client *c, const uint8_t key_id[HSM_KEY_ID_LEN],
    const uint8_t *peer, size_t peer_len, hsm_done_fn *done, void *arg)
{
	struct hsm_pool *p = c->p;
	struct hsm_req *r;

	if (peer_len != HSM_POINT_LEN && peer_len != HSM_POINT_FULL_LEN)
		return M2M_E_HSM_PEER;
	/* Checked here, not in a thread: an unknown key id costs no HSM time. */
	if (!served(p->h, key_id))
		return M2M_E_HSM_KEY_NOT_FOUND;
	pthread_mutex_lock(&p->mu);
	if (p->down) {
		p->st.rejected_down++;
		pthread_mutex_unlock(&p->mu);
		return M2M_E_HSM_TOKEN_FAILED;
	}
	if (p->st.queue_depth >= p->queue || p->free == NULL) {
		p->st.rejected_full++;
		pthread_mutex_unlock(&p->mu);
		return M2M_E_FULL;
	}
	r = p->free;
	p->free = r->next;
	*r = (struct hsm_req){ .c = c, .done = done, .arg = arg, .t0 = hsm_now_ns() };
	memcpy(r->key_id, key_id, HSM_KEY_ID_LEN);
	memcpy(r->peer, peer, peer_len);
	r->peer_len = (uint8_t)peer_len;
	if (p->tail != NULL)
		p->tail->next = r;
	else
		p->head = r;
	p->tail = r;
	p->st.queue_depth++;
	p->st.submitted++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return M2M_OK;
}

void
hsm_pool_release(struct hsm_pool *p, struct hsm_req *list)
{
	struct hsm_req *next;

	pthread_mutex_lock(&p->mu);
	for (; list != NULL; list = next) {
		next = list->next;
		list->next = p->free;
		p->free = list;
	}
	pthread_mutex_unlock(&p->mu);
}

void
hsm_pool_stats(struct hsm_pool *p, struct hsm_pool_stats *st)
{
	pthread_mutex_lock(&p->mu);
	*st = p->st;
	pthread_mutex_unlock(&p->mu);
}
