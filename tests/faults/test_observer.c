/* SPDX-License-Identifier: Apache-2.0 */
/* A wire observer against one module, end to end (real m2md, SoftHSM2,
 * PostgreSQL; m2md's default limits). The observer sees the module's
 * HELLOs (its pseudonym, in clear) and CHALLENGEs (its tokens) and, from
 * other loopback addresses (127.0.0.20..27), sends HELLOs with that
 * pseudonym and garbage AUTHs (the right token, random C1 and C2): at most
 * 5 HELLO/s and 3 AUTH/s (saved up to 4), the AUTHs aimed first at each
 * new token of the module (3, 40 ms apart, to use up its attempts), what
 * is left over at the tokens its own HELLOs got (to spend the pseudonym's
 * HSM budget).
 * The module has a 150 ms uplink (it sleeps before each datagram it sends)
 * and resends its AUTH twice. It must complete at least 90% of its
 * handshakes, and the HSM must do at most one operation per token that got
 * an AUTH. Figures are printed. */
#include "config.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/faults/faults.h"

#define RUNS		20	/* handshakes of the module */
#define UPLINK_US	150000	/* the module's delay before each send */
#define AUTH_WAIT_MS	600	/* for the WELCOME, after each AUTH */
#define AUTH_SENDS	3
#define OB_ADDRS	8	/* 127.0.0.20 .. 127.0.0.27 */
#define OB_HELLO_HZ	5
#define OB_AUTH_HZ	3
#define OB_PER_TOKEN	3	/* garbage AUTHs on each token of the module */
#define OB_GAP_S	0.04	/* between those: each finds the entry open again */
#define TOKENS_MAX	1024

/* m2md's defaults (src/server/conf.c, m2md.conf(5)); the test world
 * relaxes them for its load tests. */
#define LIMITS	"[limits]\nsource_rate = 20\nsource_burst = 40\npseudonym_rate = 1\n" \
	"pseudonym_burst = 10\nhsm_source_rate = 500\nhsm_source_burst = 1000\n"

static struct {
	pthread_mutex_t lock;
	int port;
	atomic_int stop;
	struct proto_mod_creds cr;	/* the module's: server key, pseudonym */
	unsigned gen;			/* bumped with each CHALLENGE of the module */
	uint8_t token[PROTO_TOKEN_LEN];
	/* Every token that was sent an AUTH, by anyone, once each. */
	uint8_t authed[TOKENS_MAX][PROTO_TOKEN_LEN];
	size_t n_authed;
	unsigned long hellos, auths, auths_module_tokens, bytes;
} ob = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
note_token(const uint8_t *t)
{
	size_t i;

	pthread_mutex_lock(&ob.lock);
	for (i = 0; i < ob.n_authed && memcmp(ob.authed[i], t, PROTO_TOKEN_LEN) != 0; i++)
		;
	if (i == ob.n_authed && i < TOKENS_MAX)
		memcpy(ob.authed[ob.n_authed++], t, PROTO_TOKEN_LEN);
	pthread_mutex_unlock(&ob.lock);
}

/* ---- the observer ---- */

struct observer {
	int fds[OB_ADDRS];
	struct proto_ctx *ctx;
	uint8_t own[64][PROTO_TOKEN_LEN];	/* tokens its HELLOs got, a ring */
	int own_fd[64];
	unsigned own_in, own_out;
	unsigned seen_gen, on_token;		/* the module's token; AUTHs on it */
	double t_hello, t_auth, budget;
	unsigned k;
};

static void
ob_send(int fd, const uint8_t *buf, size_t len)
{
	ft_sendto(fd, ob.port, buf, len);
	ob.bytes += len;
}

/* A HELLO with the module's current pseudonym and a fresh E_m. */
static void
ob_hello(struct observer *o)
{
	struct proto_mod_creds cr;
	struct proto_mod_hs hs;
	uint8_t out[PROTO_DATAGRAM_MAX];
	size_t n;

	pthread_mutex_lock(&ob.lock);
	cr = ob.cr;
	pthread_mutex_unlock(&ob.lock);
	if (proto_mod_hello(o->ctx, &hs, &cr, out, sizeof(out), &n) != M2M_OK)
		return;
	ob_send(o->fds[o->k++ % OB_ADDRS], out, n);
	ob.hellos++;
	proto_wipe(&hs, sizeof(hs));
}

static void
ob_garbage(struct observer *o, int fd, const uint8_t *token)
{
	uint8_t b[PROTO_HDR_LEN + PROTO_TOKEN_LEN + 1 + 33 + 24];

	if (proto_random(o->ctx, b, sizeof(b)) != M2M_OK)
		return;
	b[0] = PROTO_VERSION;
	b[1] = PROTO_AUTH;
	memcpy(b + PROTO_HDR_LEN, token, PROTO_TOKEN_LEN);
	b[PROTO_HDR_LEN + PROTO_TOKEN_LEN] = 33;	/* C1: a 17-byte identity */
	note_token(token);
	ob_send(fd, b, sizeof(b));
	ob.auths++;
}

static void
ob_collect(struct observer *o)
{
	uint8_t in[PROTO_DATAGRAM_MAX];
	ssize_t n;

	for (int i = 0; i < OB_ADDRS; i++)
		while ((n = recv(o->fds[i], in, sizeof(in), 0)) > 0)
			if (n == PROTO_HDR_LEN + PROTO_TOKEN_LEN + PROTO_POINT_LEN &&
			    in[1] == PROTO_CHALLENGE) {
				memcpy(o->own[o->own_in % 64], in + PROTO_HDR_LEN, PROTO_TOKEN_LEN);
				o->own_fd[o->own_in++ % 64] = o->fds[i];
			}
}

/* One AUTH from the budget: the module's newest token first; the
 * observer's own tokens get only what keeps OB_PER_TOKEN ready for the
 * module's next one. */
static void
ob_auth(struct observer *o, double now)
{
	uint8_t token[PROTO_TOKEN_LEN];
	unsigned gen;

	pthread_mutex_lock(&ob.lock);
	gen = ob.gen;
	memcpy(token, ob.token, sizeof(token));
	pthread_mutex_unlock(&ob.lock);
	if (gen != o->seen_gen) {
		o->seen_gen = gen;
		o->on_token = 0;
	}
	if (gen != 0 && o->on_token < OB_PER_TOKEN) {
		if (now - o->t_auth < OB_GAP_S)
			return;
		ob_garbage(o, o->fds[o->k++ % OB_ADDRS], token);
		o->on_token++;
		ob.auths_module_tokens++;
	} else if (o->budget >= OB_PER_TOKEN + 1 && o->own_out < o->own_in) {
		ob_garbage(o, o->own_fd[o->own_out % 64], o->own[o->own_out % 64]);
		o->own_out++;
	} else {
		return;
	}
	o->t_auth = now;
	o->budget -= 1;
}

static void *
observer(void *arg)
{
	struct observer *o = arg;
	double last = ft_now(), now;

	o->budget = OB_PER_TOKEN;
	while (!atomic_load(&ob.stop)) {
		now = ft_now();
		/* 3 AUTH/s on average, saved up to one more than a token takes. */
		o->budget += (now - last) * OB_AUTH_HZ;
		o->budget = o->budget > OB_PER_TOKEN + 1 ? OB_PER_TOKEN + 1 : o->budget;
		last = now;
		if (now - o->t_hello >= 1.0 / OB_HELLO_HZ) {
			o->t_hello = now;
			ob_hello(o);
		}
		ob_collect(o);
		if (o->budget >= 1)
			ob_auth(o, now);
		usleep(2000);
	}
	return NULL;
}

/* ---- the module ---- */

/* Waits for a WELCOME that verifies; anything else is ignored. */
static enum m2m_err
await_welcome(struct cli *c, double until)
{
	uint8_t in[PROTO_DATAGRAM_MAX], pt[PROTO_DATAGRAM_MAX];
	struct proto_welcome_pt w;
	size_t m;

	while (ft_now() < until) {
		c->timeout_ms = (int)((until - ft_now()) * 1000) + 1;
		if (cli_recv(c, in, sizeof(in), &m) != M2M_OK)
			break;
		if (m < 2 || in[1] != PROTO_WELCOME ||
		    proto_mod_welcome(c->ctx, &c->hs, in, m, &c->s, pt, &w) != M2M_OK)
			continue;
		memcpy(c->cr.pseudonym, w.pseudonym, w.pseudonym_len);
		c->cr.pseudonym_len = w.pseudonym_len;
		return M2M_OK;
	}
	return M2M_E_IO;
}

/* One handshake over the slow uplink; the observer sees what it sends. */
static enum m2m_err
module_handshake(struct cli *c)
{
	uint8_t auth[PROTO_DATAGRAM_MAX];
	size_t n;
	enum m2m_err err;

	usleep(UPLINK_US);
	pthread_mutex_lock(&ob.lock);
	ob.cr = c->cr;			/* the HELLO shows the pseudonym */
	pthread_mutex_unlock(&ob.lock);
	c->timeout_ms = 2000;
	if ((err = cli_hello(c, NULL, 0, auth, &n)) != M2M_OK)
		return err;
	pthread_mutex_lock(&ob.lock);
	memcpy(ob.token, auth + PROTO_HDR_LEN, PROTO_TOKEN_LEN);	/* the CHALLENGE's */
	ob.gen++;
	pthread_mutex_unlock(&ob.lock);
	note_token(auth + PROTO_HDR_LEN);
	for (int i = 0; i < AUTH_SENDS; i++) {
		usleep(UPLINK_US);
		if ((err = cli_send(c, auth, n)) != M2M_OK)
			return err;
		if (await_welcome(c, ft_now() + AUTH_WAIT_MS / 1e3) == M2M_OK)
			return M2M_OK;
	}
	return M2M_E_IO;
}

#define DROP(r)	"reason=\"" r "\""

static double
metric(const char *name, const char *label)
{
	return st_metric(ob.port + 1, name, label);
}

static void
report(double elapsed, unsigned ok, double *times, double derives, double dec0, double rl0)
{
	printf("observer: limits of m2md's defaults: pseudonym_rate 1/s burst 10 (per pseudonym"
	    " and source), hsm_source_rate 500/s burst 1000, source_rate 20/s burst 40\n");
	printf("observer: %lu HELLO (%.1f/s) and %lu garbage AUTH (%.1f/s, %lu on the module's"
	    " tokens) from %d addresses in %.1f s, %.0f bytes/s\n", ob.hellos,
	    (double)ob.hellos / elapsed, ob.auths, (double)ob.auths / elapsed,
	    ob.auths_module_tokens, OB_ADDRS, elapsed, (double)ob.bytes / elapsed);
	printf("observer: module (150 ms uplink) completed %u of %d handshakes (%.0f%%, target"
	    " 90%%); time per handshake p50 %.0f ms, max %.0f ms\n", ok, RUNS, 100.0 * ok / RUNS,
	    1e3 * ft_percentile(times, RUNS, 0.5), 1e3 * ft_percentile(times, RUNS, 1));
	printf("observer: HSM derives %.0f for %zu tokens that got an AUTH; dropped at C1 %.0f;"
	    " rate-limited %.0f\n", derives, ob.n_authed,
	    metric("m2md_drops_total", DROP("M2M_E_PROTO_DECRYPT")) - dec0,
	    metric("m2md_handshakes_failed_total", DROP("M2M_E_SRV_RATE_LIMITED")) - rl0);
}

Test(observer, wire_observer_cannot_lock_a_module_out, .timeout = 180)
{
	static struct observer o;
	struct cli c;
	pthread_t th;
	double t0, elapsed, der0, dec0, rl0, derives, times[RUNS];
	unsigned ok = 0;
	pid_t pid;

	ob.port = ft_port(40);
	pid = ft_start_m2md("m2md-observer.conf", ob.port, LIMITS);
	st_open(&c, st_enroll("creds-observer", 1), 0, ob.port);
	ob.cr = c.cr;
	cr_assert_eq(proto_ctx_new(&o.ctx, NULL), M2M_OK);
	for (int i = 0; i < OB_ADDRS; i++)
		cr_assert_geq(o.fds[i] = ft_udp_from(20 + (unsigned)i), 0);
	der0 = metric("m2md_hsm_derives_total", NULL);
	dec0 = metric("m2md_drops_total", DROP("M2M_E_PROTO_DECRYPT"));
	rl0 = metric("m2md_handshakes_failed_total", DROP("M2M_E_SRV_RATE_LIMITED"));
	pthread_create(&th, NULL, observer, &o);
	t0 = ft_now();
	for (int i = 0; i < RUNS; i++) {
		double t = ft_now();

		ok += module_handshake(&c) == M2M_OK;
		times[i] = ft_now() - t;
	}
	elapsed = ft_now() - t0;
	atomic_store(&ob.stop, 1);
	pthread_join(th, NULL);
	usleep(300000);		/* the last AUTHs served */

	derives = metric("m2md_hsm_derives_total", NULL) - der0;
	report(elapsed, ok, times, derives, dec0, rl0);
	cr_assert(ft_alive(pid));
	cr_assert_gt(ob.auths_module_tokens, 0, "the observer attacked the module's tokens");
	cr_assert_geq(ok, RUNS * 9 / 10, "the module completes at least 90%% of its handshakes");
	cr_assert_leq(derives, (double)ob.n_authed, "at most one HSM operation per token");
	for (int i = 0; i < OB_ADDRS; i++)
		close(o.fds[i]);
	proto_ctx_free(o.ctx);
	cli_close(&c);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}

/* ---- an observer that also sends from the module's address ---- */

/* The spoofer's HELLO with pseudonym ps from fd (answering RETRY); the
 * CHALLENGE's token, 0 when none came. */
static int
spoof_hello(struct proto_ctx *ctx, int fd, const struct proto_mod_creds *ps,
    uint8_t token[PROTO_TOKEN_LEN])
{
	struct proto_mod_hs hs;
	uint8_t out[PROTO_DATAGRAM_MAX], in[PROTO_DATAGRAM_MAX];
	size_t n;
	ssize_t m;
	int got = 0;

	cr_assert_eq(proto_mod_hello(ctx, &hs, ps, out, sizeof(out), &n), M2M_OK);
	for (int round = 0; round < 3 && !got; round++) {
		ft_sendto(fd, ob.port, out, n);
		for (double until = ft_now() + 2; ft_now() < until;) {
			if ((m = recv(fd, in, sizeof(in), 0)) <= 0) {
				usleep(1000);
				continue;
			}
			if (in[1] == PROTO_CHALLENGE && m > PROTO_HDR_LEN + PROTO_TOKEN_LEN) {
				memcpy(token, in + PROTO_HDR_LEN, PROTO_TOKEN_LEN);
				got = 1;
			} else if (in[1] == PROTO_RETRY) {
				cr_assert_eq(proto_mod_retry(ctx, &hs, ps, in, (size_t)m, out, sizeof(out),
				    &n), M2M_OK);
			}
			break;
		}
	}
	proto_wipe(&hs, sizeof(hs));
	return got;
}

/* What m2md did with the last AUTH: asked the HSM or refused it at a rate
 * limit. */
static double
hsm_outcomes(void)
{
	return metric("m2md_hsm_derives_total", NULL) +
	    metric("m2md_handshakes_failed_total", DROP("M2M_E_SRV_RATE_LIMITED"));
}

static void
await_outcome(double before)
{
	for (int i = 0; i < 400 && hsm_outcomes() == before; i++)
		usleep(5000);
}

/* One HELLO with the pseudonym and a garbage AUTH on its token from fd;
 * 1 when a rate limit refused it. */
static int
spoof_one(struct observer *o, int fd, const struct proto_mod_creds *ps)
{
	uint8_t token[PROTO_TOKEN_LEN];
	double before = hsm_outcomes(),
	    rl = metric("m2md_handshakes_failed_total", DROP("M2M_E_SRV_RATE_LIMITED"));

	cr_assert(spoof_hello(o->ctx, fd, ps, token), "the spoofer gets a CHALLENGE");
	ob_garbage(o, fd, token);
	await_outcome(before);
	return metric("m2md_handshakes_failed_total", DROP("M2M_E_SRV_RATE_LIMITED")) > rl;
}

/* The module's AUTH once more: 1 refused by a rate limit, 0 answered. */
static int
module_auth_refused(struct cli *c, const uint8_t *auth, size_t n)
{
	double rl = metric("m2md_handshakes_failed_total", DROP("M2M_E_SRV_RATE_LIMITED"));

	cr_assert_eq(cli_send(c, auth, n), M2M_OK);
	for (int i = 0; i < 40; i++) {
		if (await_welcome(c, ft_now() + 0.05) == M2M_OK)
			return 0;
		if (metric("m2md_handshakes_failed_total", DROP("M2M_E_SRV_RATE_LIMITED")) > rl)
			return 1;
	}
	cr_assert_fail("the module's AUTH got neither a WELCOME nor a refusal");
	return 0;
}

/* Sending from the module's own address (spoofed; here 127.0.0.1 as the
 * module, another port), the observer can spend the HSM budget of
 * (pseudonym, that address) and have the module's AUTHs refused while it
 * keeps doing so. A refused AUTH uses no attempt and leaves the token
 * open: when the observer stops, the module's resend of the same AUTH
 * completes once the bucket has refilled (1 s at pseudonym_rate 1/s). */
Test(observer, spoofer_of_the_module_address_delays_but_cannot_lock_out, .timeout = 120)
{
	static struct observer o;
	uint8_t auth[PROTO_DATAGRAM_MAX];
	size_t n;
	struct cli c;
	int fd, refused = 0, drained;
	double t_refused = 0, t_done;
	pid_t pid;

	ob.port = ft_port(41);
	pid = ft_start_m2md("m2md-spoof.conf", ob.port, LIMITS);
	st_open(&c, st_enroll("creds-spoof", 1), 0, ob.port);
	cr_assert_eq(proto_ctx_new(&o.ctx, NULL), M2M_OK);
	cr_assert_geq(fd = ft_udp_from(1), 0);
	/* The refill may hand the module a token between two of the observer's
	 * AUTHs: it then completes, and the observer starts over on the next
	 * pseudonym. */
	for (int round = 0; round < 3 && refused <= PROTO_AUTH_ATTEMPTS; round++) {
		drained = 0;
		for (int i = 0; i < 40 && !drained; i++)
			drained = spoof_one(&o, fd, &c.cr);
		cr_assert(drained, "the observer emptied the bucket of (pseudonym, address)");
		c.timeout_ms = 2000;
		cr_assert_eq(cli_hello(&c, NULL, 0, auth, &n), M2M_OK);
		t_refused = ft_now();
		for (refused = 0; refused <= PROTO_AUTH_ATTEMPTS; refused++) {
			(void)spoof_one(&o, fd, &c.cr);		/* keeps it empty */
			if (!module_auth_refused(&c, auth, n))
				break;
		}
	}
	printf("spoofer: the module's AUTH refused %d times in a row (rate limit of its"
	    " pseudonym and address, burst 10, 1/s), %lu garbage AUTHs\n", refused, ob.auths);
	cr_assert_gt(refused, PROTO_AUTH_ATTEMPTS, "more refusals than a token has attempts");
	usleep(1200000);	/* the observer stopped: one token refills */
	cr_assert_eq(cli_send(&c, auth, n), M2M_OK);
	cr_assert_eq(await_welcome(&c, ft_now() + 3), M2M_OK,
	    "the same AUTH completes: its token is still open");
	t_done = ft_now();
	printf("spoofer: the module completed with the same token %.1f s after its first"
	    " refusal\n", t_done - t_refused);
	close(fd);
	proto_ctx_free(o.ctx);
	cli_close(&c);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}
