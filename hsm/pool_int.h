/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the HSM pool shared by pool.c, pool_worker.c and
 * pool_client.c: requests, the bounded queue, the per-loop completion list. */
#ifndef M2M_HSM_POOL_INT_H
#define M2M_HSM_POOL_INT_H

#include "hsm/hsm_int.h"

#define HSM_REQ_DETAIL	160
#define HSM_PROBE_NS	(5 * 1000000000ull)	/* idle this long: probe the token */

/* One request, in a pool-owned slot from submit until its callback ran. */
struct hsm_req {
	struct hsm_req *next;
	struct hsm_pool_client *c;
	hsm_done_fn *done;
	void *arg;
	uint64_t t0;
	enum m2m_err err;
	uint8_t key_id[HSM_KEY_ID_LEN];
	uint8_t peer[HSM_POINT_FULL_LEN];
	uint8_t peer_len;
	uint8_t secret[HSM_SECRET_LEN];
	char detail[HSM_REQ_DETAIL];
};

struct hsm_pool {
	struct hsm *h;
	pthread_mutex_t mu;		/* queue, free list, stats */
	pthread_cond_t cv;
	struct hsm_req *reqs, *free, *head, *tail;
	unsigned queue, nreqs, stop;
	struct hsm_pool_stats st;
	/* The token's state: down from the failure that lost it until a worker
	 * re-opens the module (one at a time: reopening); requests are refused
	 * at submit meanwhile, so the queue does not fill with lost causes. */
	int down, reopening;
	uint64_t gen;			/* h->gen after the last re-open */
	uint64_t down_since, retry_at, pause;
	uint64_t probe_at;		/* while up: when an idle thread probes */
	unsigned attempts, jitter;
	enum m2m_err last_reopen;	/* of the last failed attempt */
	char cause[HSM_REQ_DETAIL];
	char name[HSM_TOKEN_NAME];	/* for the log: h->name changes under use */
	hsm_log_fn *log;
	void *logarg;
	pthread_t *tids;
	unsigned started;
};

struct hsm_pool_client {
	struct hsm_pool *p;
	struct event *ev;
	int efd;			/* eventfd: workers write, the loop reads */
	pthread_mutex_t mu;
	struct hsm_req *done;		/* finished, callback not yet run (LIFO) */
};

uint64_t hsm_now_ns(void);
void *hsm_pool_worker(void *arg);
/* A worker's session is gone and a fresh one failed too: the token is
 * lost. Logs once per outage; a waiting worker starts re-opening at once.
 * gen: h->gen the failure happened in; a failure from before the last
 * re-open is old news and ignored. first: how the old session failed
 * ("" if there was none), then: how the fresh one did. */
void hsm_pool_token_lost(struct hsm_pool *p, uint64_t gen, const char *first,
    const char *then);
/* One attempt to re-open the module, by the worker that took the turn. */
void hsm_pool_reopen(struct hsm_pool *p);
/* Hands a finished request to its client's loop. */
void hsm_pool_complete(struct hsm_req *r);
/* Takes the slots back once their callbacks ran. */
void hsm_pool_release(struct hsm_pool *p, struct hsm_req *list);
void hsm_pool_logf(struct hsm_pool *p, enum hsm_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
