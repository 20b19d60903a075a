/* SPDX-License-Identifier: Apache-2.0 */
/* m2mctl bench hsm: P-256 ECDH per second inside the token with 1..N
 * threads (one session each), through the HSM pool, and OpenSSL's software
 * ECDH on the same box, in one run. Figures only; nothing is asserted. */
#include "config.h"

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "hsm/hsm.h"
#include "src/ctl/ctl.h"

#define NPEERS	64

struct bench {
	struct hsm_config cfg;
	unsigned threads, pool_threads, queue;
	double seconds;
	struct hsm *h;
	uint8_t key_id[HSM_KEY_ID_LEN], pub[HSM_POINT_LEN];
	uint8_t peers[NPEERS][HSM_POINT_FULL_LEN];	/* decoded, as m2md passes them */
	EVP_PKEY *soft[NPEERS];
	atomic_int stop;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
bench_parse(int argc, char **argv, struct bench *b)
{
	static const struct option lo[] = {
		{ "module", required_argument, NULL, 'm' }, { "token", required_argument, NULL, 't' },
		{ "key", required_argument, NULL, 'k' }, { "pin-file", required_argument, NULL, 'p' },
		/* Exact, so that --pin PIN is not taken as an abbreviation of
		 * --pin-file (and the PIN echoed as a file name). */
		{ "pin", required_argument, NULL, 'N' },
		{ "threads", required_argument, NULL, 'n' }, { "seconds", required_argument, NULL, 's' },
		{ "pool", required_argument, NULL, 'P' }, { "queue", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;

	hsm_config_init(&b->cfg);
	b->threads = 4;
	b->pool_threads = 2;
	b->queue = 256;
	b->seconds = 2;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1)
		switch (c) {
		case 'm': b->cfg.module = optarg; break;
		case 't': b->cfg.token = optarg; break;
		case 'k': b->cfg.key = optarg; break;
		case 'p': b->cfg.pin_file = optarg; break;
		case 'N': return ctl_pin_refused();
		case 'n': b->threads = (unsigned)atoi(optarg); break;
		case 's': b->seconds = atof(optarg); break;
		case 'P': b->pool_threads = (unsigned)atoi(optarg); break;
		case 'q': b->queue = (unsigned)atoi(optarg); break;
		default:
			fprintf(c == 'h' ? stdout : stderr, "usage: m2mctl bench hsm [--module PATH] "
			    "[--token T] [--key K] [--pin-file F]\n    [--threads N (4)] [--pool N (2)] "
			    "[--queue N (256)] [--seconds S (2)]\n");
			return c == 'h' ? 1 : 2;
		}
	hsm_config_from_env(&b->cfg);
	if (b->threads < 1 || b->threads > 64 || b->pool_threads < 1 || b->seconds <= 0) {
		ctl_errx("bench hsm: --threads 1..64, --pool >= 1, --seconds > 0");
		return 2;
	}
	return 0;
}

/* The configured key, or the first usable one. */
static enum m2m_err
pick_key(struct bench *b, char *err, size_t errlen)
{
	struct hsm_key_info keys[32], k;
	enum m2m_err e;
	size_t n, i;

	if (b->cfg.key != NULL) {
		if ((e = hsm_key_find(b->h, NULL, &k, err, errlen)) != M2M_OK)
			return e;
		memcpy(b->key_id, k.key_id, HSM_KEY_ID_LEN);
		memcpy(b->pub, k.pub, HSM_POINT_LEN);
		return M2M_OK;
	}
	if ((e = hsm_key_list(b->h, keys, 32, &n, err, errlen)) != M2M_OK)
		return e;
	for (i = 0; i < n; i++)
		if (keys[i].p256 && keys[i].has_pub && keys[i].derive) {
			memcpy(b->key_id, keys[i].key_id, HSM_KEY_ID_LEN);
			memcpy(b->pub, keys[i].pub, HSM_POINT_LEN);
			return M2M_OK;
		}
	snprintf(err, errlen, "no usable P-256 derive key in the token (m2mctl hsm keygen)");
	return M2M_E_HSM_KEY_NOT_FOUND;
}

static int
make_peers(struct bench *b)
{
	uint8_t full[65];
	size_t len, i;

	for (i = 0; i < NPEERS; i++) {
		b->soft[i] = EVP_EC_gen("P-256");
		if (b->soft[i] == NULL || EVP_PKEY_get_octet_string_param(b->soft[i],
		    OSSL_PKEY_PARAM_PUB_KEY, full, sizeof(full), &len) != 1 || len != 65)
			return -1;
		memcpy(b->peers[i], full, sizeof(full));
	}
	return 0;
}

/* Runs fn on n threads for b->seconds; returns operations per second. */
struct runner {
	struct bench *b;
	unsigned idx;
	unsigned long ops;
	int failed;
	char err[HSM_DETAIL_LEN];
};

static double
run_threads(struct bench *b, unsigned n, void *(*fn)(void *))
{
	struct runner r[64];
	pthread_t tid[64];
	unsigned long total = 0;
	unsigned i;
	double t0;

	atomic_store(&b->stop, 0);
	t0 = now();
	for (i = 0; i < n; i++) {
		r[i] = (struct runner){ .b = b, .idx = i };
		pthread_create(&tid[i], NULL, fn, &r[i]);
	}
	while (now() - t0 < b->seconds) {
		struct timespec ms = { 0, 10000000 };

		nanosleep(&ms, NULL);
	}
	atomic_store(&b->stop, 1);
	for (i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
		if (r[i].failed)
			ctl_errx("bench hsm: thread %u: %s", i, r[i].err);
		total += r[i].ops;
	}
	return (double)total / (now() - t0);
}

/* Software: the peer's private key with the server's public key. */
static void *
soft_thread(void *arg)
{
	struct runner *r = arg;
	struct bench *b = r->b;
	EVP_PKEY_CTX *fctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL), *dctx = NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, b->pub, HSM_POINT_LEN),
		OSSL_PARAM_END
	};
	EVP_PKEY *peer = NULL;
	uint8_t out[32];
	size_t len;

	r->failed = fctx == NULL || EVP_PKEY_fromdata_init(fctx) != 1 ||
	    EVP_PKEY_fromdata(fctx, &peer, EVP_PKEY_PUBLIC_KEY, params) != 1 ||
	    (dctx = EVP_PKEY_CTX_new(b->soft[r->idx % NPEERS], NULL)) == NULL ||
	    EVP_PKEY_derive_init(dctx) != 1 || EVP_PKEY_derive_set_peer(dctx, peer) != 1;
	if (r->failed)
		snprintf(r->err, sizeof(r->err), "OpenSSL ECDH setup failed");
	while (!r->failed && !atomic_load(&b->stop)) {
		len = sizeof(out);
		if (EVP_PKEY_derive(dctx, out, &len) != 1)
			break;
		r->ops++;
	}
	EVP_PKEY_CTX_free(dctx);
	EVP_PKEY_free(peer);
	EVP_PKEY_CTX_free(fctx);
	return NULL;
}

/* Direct: one session per thread, derives back to back. */
static void *
direct_thread(void *arg)
{
	struct runner *r = arg;
	struct hsm_session *s;
	uint8_t out[HSM_SECRET_LEN];
	enum m2m_err e;

	if ((e = hsm_session_open(r->b->h, &s, r->err, sizeof(r->err))) != M2M_OK) {
		r->failed = 1;
		return NULL;
	}
	while (!atomic_load(&r->b->stop)) {
		e = hsm_derive_point(s, r->b->key_id, r->b->peers[r->ops % NPEERS],
		    HSM_POINT_FULL_LEN, out, r->err, sizeof(r->err));
		if (e != M2M_OK) {
			r->failed = 1;
			break;
		}
		r->ops++;
	}
	hsm_session_close(s);
	return NULL;
}

/* Through the pool: one libevent loop keeps the queue full. */
struct poolrun {
	struct bench *b;
	struct hsm_pool_client *c;
	struct event_base *base;
	unsigned long done, failed, full, sent;
	unsigned outstanding, window;
	int stopping;
};

static void pool_fill(struct poolrun *pr);

static void
pool_done(void *arg, enum m2m_err err, const uint8_t *secret, const char *detail)
{
	struct poolrun *pr = arg;

	(void)secret, (void)detail;
	pr->outstanding--;
	if (err == M2M_OK)
		pr->done++;
	else
		pr->failed++;
	if (pr->stopping && pr->outstanding == 0)
		event_base_loopbreak(pr->base);
	else
		pool_fill(pr);
}

static void
pool_fill(struct poolrun *pr)
{
	enum m2m_err e;

	while (!pr->stopping && pr->outstanding < pr->window) {
		e = hsm_pool_derive_point(pr->c, pr->b->key_id, pr->b->peers[pr->sent % NPEERS],
		    HSM_POINT_FULL_LEN, pool_done, pr);
		if (e != M2M_OK) {
			pr->full++;
			break;
		}
		pr->outstanding++;
		pr->sent++;
	}
}

static void
pool_stop(evutil_socket_t fd, short what, void *arg)
{
	struct poolrun *pr = arg;

	(void)fd, (void)what;
	pr->stopping = 1;
	if (pr->outstanding == 0)
		event_base_loopbreak(pr->base);
}

static double
run_pool(struct bench *b, unsigned threads, struct hsm_pool_stats *st, char *err, size_t errlen)
{
	struct poolrun pr = { .b = b, .window = b->queue };
	struct timeval tv = { (time_t)b->seconds, (long)((b->seconds - (long)b->seconds) * 1e6) };
	struct hsm_pool *p;
	struct event *stop;
	double t0, rate = -1;

	if (hsm_pool_new(b->h, threads, b->queue, NULL, NULL, &p, err, errlen) != M2M_OK)
		return -1;
	pr.base = event_base_new();
	if (pr.base != NULL && hsm_pool_client_new(p, pr.base, &pr.c) == M2M_OK) {
		stop = evtimer_new(pr.base, pool_stop, &pr);
		evtimer_add(stop, &tv);
		t0 = now();
		pool_fill(&pr);
		event_base_dispatch(pr.base);
		rate = (double)pr.done / (now() - t0);
		event_free(stop);
		hsm_pool_client_free(pr.c);
	}
	hsm_pool_stats(p, st);
	hsm_pool_free(p);
	if (pr.base != NULL)
		event_base_free(pr.base);
	if (pr.failed > 0)
		snprintf(err, errlen, "%lu pool derives failed", pr.failed);
	return pr.failed > 0 ? -1 : rate;
}

static void
report(struct bench *b)
{
	char err[HSM_DETAIL_LEN] = "";
	struct hsm_pool_stats st;
	double soft1 = 0, direct1 = 0, r;
	unsigned n;

	printf("P-256 ECDH, token %s, %.1f s per line, %u peers\n", hsm_token_name(b->h),
	    b->seconds, NPEERS);
	printf("%-34s %12s %10s\n", "path", "derives/s", "vs direct-1");
	for (n = 1; n <= b->threads; n++) {
		r = run_threads(b, n, soft_thread);
		soft1 = n == 1 ? r : soft1;
		printf("OpenSSL software, %2u thread%s       %12.0f\n", n, n > 1 ? "s" : " ", r);
	}
	for (n = 1; n <= b->threads; n++) {
		r = run_threads(b, n, direct_thread);
		direct1 = n == 1 ? r : direct1;
		printf("token direct, %2u thread%s           %12.0f %9.0f%%\n", n, n > 1 ? "s" : " ",
		    r, 100 * r / direct1);
	}
	for (n = 1; n <= b->pool_threads; n *= 2) {
		r = run_pool(b, n, &st, err, sizeof(err));
		if (r < 0) {
			ctl_errx("bench hsm: pool: %s", err);
			continue;
		}
		printf("token via pool, %2u thread%s, queue %-4u %8.0f %9.0f%%   (mean latency %.0f us)\n",
		    n, n > 1 ? "s" : " ", b->queue, r, 100 * r / direct1,
		    st.latency_ns_sum / 1e3 / (double)(st.derive_ok ? st.derive_ok : 1));
	}
	printf("software single thread is %.1fx the token's\n", soft1 / direct1);
}

int
ctl_bench_hsm(int argc, char **argv)
{
	char err[HSM_DETAIL_LEN] = "", msg[HSM_DETAIL_LEN + 128];
	struct bench *b = calloc(1, sizeof(*b));
	enum m2m_err e;
	int r, i;

	if (b == NULL)
		return 1;
	if ((r = bench_parse(argc, argv, b)) != 0) {
		free(b);
		return r == 1 ? 0 : 2;
	}
	if ((e = hsm_open(&b->h, &b->cfg, err, sizeof(err))) != M2M_OK ||
	    (e = pick_key(b, err, sizeof(err))) != M2M_OK || make_peers(b) != 0) {
		ctl_errx("bench hsm: %s", m2m_err_join(e, err, msg, sizeof(msg)));
		r = 1;
	} else
		report(b);
	hsm_close(b->h);
	for (i = 0; i < NPEERS; i++)
		EVP_PKEY_free(b->soft[i]);
	free(b);
	return r;
}
