/* SPDX-License-Identifier: Apache-2.0 */
/* The HSM pool on a real SoftHSM2 token: many requesters, all results
 * correct; a full queue rejects at once; injected failures are reported
 * and the pool recovers; latency-bound throughput is printed. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "tests/hsm/drv.h"

static struct tok t;
static struct hsm *h;
static struct hsm_key_info key;

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned log_errors, log_recovered;
static char log_warning[512];		/* the last warning */

static void
on_log(void *arg, enum hsm_log_level level, const char *msg)
{
	(void)arg;
	pthread_mutex_lock(&log_mu);
	if (level == HSM_LOG_WARN) {
		log_errors++;
		snprintf(log_warning, sizeof(log_warning), "%s", msg);
	}
	else if (strstr(msg, "serving again"))
		log_recovered++;
	pthread_mutex_unlock(&log_mu);
	cr_log_info("pool log: %s", msg);
}

static void
setup(void)
{
	char err[HSM_DETAIL_LEN] = "";

	tok_create(&t, "m2m", 1);
	cr_assert_eq(hsm_open(&h, &t.cfg, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(hsm_keygen(h, "server", NULL, 0, &key, err, sizeof(err)), M2M_OK, "%s", err);
}

static void
teardown(void)
{
	hsm_close(h);
	tok_destroy(&t);
}

TestSuite(hsm_pool, .init = setup, .fini = teardown, .timeout = 120);

static struct hsm_pool *
pool_new(unsigned threads, unsigned queue)
{
	char err[HSM_DETAIL_LEN] = "";
	struct hsm_pool *p = NULL;

	cr_assert_eq(hsm_pool_new(h, threads, queue, on_log, NULL, &p, err, sizeof(err)), M2M_OK,
	    "%s", err);
	return p;
}

static void *
requester(void *arg)
{
	drv_run(arg, 1000, 16);
	return NULL;
}

Test(hsm_pool, eight_requesters_thousand_each_all_correct)
{
	struct hsm_pool *p = pool_new(2, 64);
	struct hsm_pool_stats st;
	struct drv d[8];
	pthread_t tid[8];
	unsigned i, ok = 0, wrong = 0, failed = 0, full = 0;

	for (i = 0; i < 8; i++)
		drv_init(&d[i], p, key.key_id, key.pub);
	for (i = 0; i < 8; i++)
		cr_assert(pthread_create(&tid[i], NULL, requester, &d[i]) == 0);
	for (i = 0; i < 8; i++) {
		pthread_join(tid[i], NULL);
		ok += d[i].ok, wrong += d[i].wrong, failed += d[i].failed, full += d[i].full;
	}
	hsm_pool_stats(p, &st);
	printf("pool 2 threads, 8 requesters x 1000: %u ok, %u rejected full (retried), "
	    "%.0f derives/s, mean latency %.0f us\n", ok, full, 8000 / d[0].seconds,
	    st.latency_ns_sum / 1e3 / (double)(st.derive_ok + st.derive_failed));
	cr_assert_eq(wrong, 0);
	cr_assert_eq(failed, 0);
	cr_assert_eq(ok, 8000);
	cr_assert_eq(st.derive_ok, 8000);
	cr_assert_eq(st.rejected_full, full);
	cr_assert_eq(st.queue_depth, 0);
	cr_assert_eq(st.in_flight, 0);
	hsm_pool_free(p);
}

Test(hsm_pool, full_queue_rejects_at_once_and_counts)
{
	struct m2m_shim_ctl *ctl = tok_shim(&t);
	struct hsm_pool *p;
	struct hsm_pool_stats st;
	struct drv d;

	atomic_store(&ctl->latency_us, 20000);
	p = pool_new(1, 4);
	drv_init(&d, p, key.key_id, key.pub);
	/* A window of 40 on a queue of 4: most submits must bounce. */
	drv_run(&d, 40, 40);
	hsm_pool_stats(p, &st);
	printf("queue 4, window 40: %u rejected at submit, %u ok\n", d.full, d.ok);
	cr_assert_eq(d.ok, 40);
	cr_assert_gt(d.full, 0);
	cr_assert_eq(st.rejected_full, d.full);
	hsm_pool_free(p);
}

Test(hsm_pool, unknown_key_id_rejected_without_hsm)
{
	struct hsm_pool *p = pool_new(1, 4);
	struct hsm_pool_client *c;
	struct event_base *base = NULL;
	uint8_t kid[HSM_KEY_ID_LEN];

	memcpy(kid, key.key_id, sizeof(kid));
	kid[0] ^= 1;
	cr_assert_eq(hsm_pool_client_new(p, base = event_base_new(), &c), M2M_OK);
	cr_assert_eq(hsm_pool_derive(c, kid, key.pub, NULL, NULL), M2M_E_HSM_KEY_NOT_FOUND);
	hsm_pool_client_free(c);
	event_base_free(base);
	hsm_pool_free(p);
}

/* Submits until a round of 16 (8 at a time, more than the pool's threads)
 * all succeed: the pool retries the token with a pause, and a thread still
 * in its pause fails requests with the reason of its last failure, which
 * a later step must not mistake for its own. */
static void
wait_recovered(struct drv *d)
{
	int i;

	for (i = 0; i < 300; i++) {
		drv_run(d, 16, 8);
		if (d->ok == 16)
			return;
		usleep(10000);
	}
	cr_assert_fail("pool did not recover: %s", d->last_detail);
}

Test(hsm_pool, injected_failures_reported_then_recovered)
{
	struct m2m_shim_ctl *ctl = tok_shim(&t);
	struct hsm_pool *p = pool_new(4, 64);
	struct hsm_pool_stats st;
	unsigned logins, i, ok, failed;
	struct drv d;

	drv_init(&d, p, key.key_id, key.pub);
	drv_run(&d, 200, 16);
	cr_assert_eq(d.ok, 200);
	/* 1. Derive errors: each is counted and logged; a request fails when
	 * its fresh-session retry fails too, with the CKR name as reason. */
	atomic_store(&ctl->fail_derive, 10);
	/* Paused workers fail requests without asking the token, so it takes
	 * a few rounds until all 10 injected errors were met. */
	for (i = 0, ok = failed = 0; i < 100 && atomic_load(&ctl->fail_derive) > 0; i++) {
		drv_run(&d, 100, 8);
		cr_assert_eq(d.wrong, 0);
		ok += d.ok, failed += d.failed;
		if (d.failed > 0) {
			cr_assert_eq(d.last_err, M2M_E_HSM_TOKEN_FAILED);
			cr_assert(strstr(d.last_detail, "CKR_DEVICE_ERROR") != NULL, "%s",
			    d.last_detail);
		}
		usleep(5000);
	}
	cr_assert_eq(atomic_load(&ctl->fail_derive), 0);
	hsm_pool_stats(p, &st);
	cr_assert_eq(st.token_failures, 10);
	cr_assert_eq(st.derive_failed + st.rejected_down, failed);
	cr_assert_gt(failed, 0);
	printf("10 injected CKR_DEVICE_ERROR: %u requests failed with the reason, %u served\n",
	    failed, ok);
	wait_recovered(&d);
	/* 2. Token reboot: sessions gone, logged out, unreachable for a while. */
	logins = atomic_load(&ctl->logins);
	atomic_store(&ctl->down, 1);
	tok_shim_reset(&t);
	drv_run(&d, 100, 8);
	cr_assert_eq(d.failed, 100);
	cr_assert_eq(d.last_err, M2M_E_HSM_TOKEN_FAILED);
	pthread_mutex_lock(&log_mu);
	cr_assert(strstr(log_warning, "CKR_DEVICE_REMOVED") != NULL, "%s", log_warning);
	pthread_mutex_unlock(&log_mu);
	hsm_pool_stats(p, &st);
	cr_assert_eq(st.token_ok, 0);
	atomic_store(&ctl->down, 0);
	wait_recovered(&d);
	drv_run(&d, 500, 16);
	cr_assert_eq(d.ok, 500, "after recovery: %u ok, %u failed (%s)", d.ok, d.failed,
	    d.last_detail);
	/* Stale sessions were replaced without failing requests, and the
	 * token was logged in again exactly once, not once per thread. */
	cr_assert_eq(atomic_load(&ctl->logins) - logins, 1);
	hsm_pool_stats(p, &st);
	cr_assert_eq(st.token_ok, 1);
	cr_assert_geq(st.recoveries, 1);
	cr_assert_geq(st.derive_failed + st.rejected_down, 100);
	cr_assert_geq(st.reopens, 1);
	pthread_mutex_lock(&log_mu);
	cr_assert_geq(log_errors, 1);
	cr_assert_geq(log_recovered, 1);
	pthread_mutex_unlock(&log_mu);
	hsm_pool_free(p);
}

Test(hsm_pool, latency_2ms_pool_16_throughput)
{
	struct m2m_shim_ctl *ctl = tok_shim(&t);
	struct hsm_pool *p;
	struct drv d;

	atomic_store(&ctl->latency_us, 2000);
	p = pool_new(16, 256);
	drv_init(&d, p, key.key_id, key.pub);
	drv_run(&d, 4000, 64);
	printf("network HSM stand-in, 2 ms latency, pool of 16: %.0f derives/s "
	    "(ideal 16 / 2 ms = 8000/s)\n", d.ok / d.seconds);
	cr_assert_eq(d.ok, 4000);
	cr_assert_eq(d.wrong, 0);
	hsm_pool_free(p);
}

/* One test at a time: the throughput figures mean nothing otherwise. */
int
main(int argc, char **argv)
{
	struct criterion_test_set *tests = criterion_initialize();
	int ok = 1;

	criterion_options.jobs = 1;
	if (criterion_handle_args(argc, argv, true))
		ok = !criterion_run_all_tests(tests);
	criterion_finalize(tests);
	return ok;
}
