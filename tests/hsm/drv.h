/* SPDX-License-Identifier: Apache-2.0 */
/* A requester for the pool tests: one event loop that keeps a window of
 * derives in flight and checks every secret against software ECDH. */
#ifndef M2M_TEST_DRV_H
#define M2M_TEST_DRV_H

#include "tests/hsm/tok.h"

#define DRV_POINTS	16

struct event;
struct event_base;
struct drv_req;

struct drv {
	struct hsm_pool *pool;
	struct event_base *base;
	struct hsm_pool_client *c;
	struct event *retry;
	uint8_t key_id[HSM_KEY_ID_LEN];
	uint8_t pts[DRV_POINTS][HSM_POINT_LEN];
	uint8_t exp[DRV_POINTS][HSM_SECRET_LEN];
	struct drv_req *reqs;
	unsigned total, window, submitted, outstanding, done;
	unsigned ok, wrong, failed, full;
	unsigned refused;		/* of failed: refused at submit, token lost */
	enum m2m_err last_err;
	char last_detail[256];
	double seconds;
};

/* Precomputes DRV_POINTS peers and their expected secrets with server_pub. */
void drv_init(struct drv *d, struct hsm_pool *pool, const uint8_t key_id[HSM_KEY_ID_LEN],
    const uint8_t server_pub[HSM_POINT_LEN]);
/* Runs total derives, window at a time, in a fresh event loop. */
void drv_run(struct drv *d, unsigned total, unsigned window);
void drv_free(struct drv *d);

#endif
