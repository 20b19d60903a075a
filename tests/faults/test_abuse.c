/* SPDX-License-Identifier: Apache-2.0 */
/* Abuse against a running m2md (its own process per test, real SoftHSM2 and
 * PostgreSQL), all from loopback addresses only, bounded in count and time:
 *  - a HELLO flood from 127.0.0.2..127.0.0.250, many ports each: RETRY
 *    engages, the half-open table and the process's memory stay within
 *    their bounds, and simulated modules (m2m-sim) keep completing
 *    handshakes; their success rate and p99 are printed;
 *  - random AUTH and DATA, and AUTH for an unknown pseudonym: no HSM work;
 *  - oversized, truncated, empty and garbage datagrams: dropped, counted,
 *    never answered;
 *  - HELLOs from one address over many source ports: one budget for the
 *    address, whichever worker each port hashes to;
 *  - more datagrams than the socket buffer holds while m2md is stopped:
 *    those the kernel dropped are counted too, each datagram exactly once;
 *  - a module that keeps failing authentication: after pseudonym_burst HSM
 *    operations its AUTHs stop reaching the HSM, whichever worker (source
 *    port) they come through. */
#include "config.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "tests/faults/faults.h"

#define DROP(r)	"reason=\"" r "\""

static double
metric(int port, const char *name, const char *label)
{
	return st_metric(port + 1, name, label);
}

/* ---- HELLO flood ---- */

#define FLOOD_ADDRS	249	/* 127.0.0.2 .. 127.0.0.250 */
#define FLOOD_PORTS	4	/* sockets (source ports) per address */
#define FLOOD_RATE	10000	/* datagrams per second, all sources */
#define FLOOD_SECS	6
/* A completed handshake keeps its entry (for a lost WELCOME) until the
 * timeout: the table must hold the real modules' rate times the timeout
 * (some 400/s x 5 s here) with room to spare. */
#define HO_MAX		16384
#define HO_TIMEOUT	5

static struct {
	int fds[FLOOD_ADDRS * FLOOD_PORTS];
	size_t nfds;
	uint8_t hello[PROTO_DATAGRAM_MAX];
	size_t len;
	int port;
	atomic_ulong sent;
	atomic_int stop;
} fl;

/* Paced in 10 ms slices: at most FLOOD_RATE/s, FLOOD_SECS seconds. */
static void *
flood(void *arg)
{
	double t0 = ft_now();
	size_t k = 0;

	(void)arg;
	while (!atomic_load(&fl.stop) && ft_now() - t0 < FLOOD_SECS) {
		for (int i = 0; i < FLOOD_RATE / 100; i++, k++)
			ft_sendto(fl.fds[k % fl.nfds], fl.port, fl.hello, fl.len);
		atomic_fetch_add(&fl.sent, FLOOD_RATE / 100);
		usleep(10000);
	}
	return NULL;
}

struct sim_result {
	unsigned long long started, ok, p50, p99, max;
	char json[8192];
};

static void
run_sim(const char *creds, int port, struct sim_result *r)
{
	char cmd[1024];
	size_t n;
	FILE *p;
	const char *s;

	snprintf(cmd, sizeof(cmd), "'%s/m2m-sim' --server 127.0.0.1:%d --credentials '%s'"
	    " --threads 2 --concurrency 16 --duration %d --quiet --json", TEST_BUILDDIR, port,
	    creds, FLOOD_SECS - 1);
	cr_assert_not_null(p = popen(cmd, "r"));
	n = fread(r->json, 1, sizeof(r->json) - 1, p);
	r->json[n] = '\0';
	pclose(p);		/* non-zero when a session failed: counted below */
	cr_assert_not_null(s = strstr(r->json, "\"handshakes\": {"), "%s", r->json);
	cr_assert_eq(sscanf(s, "\"handshakes\": {\"started\": %llu, \"ok\": %llu", &r->started,
	    &r->ok), 2);
	cr_assert_not_null(s = strstr(r->json, "\"handshake\": {"));
	cr_assert_eq(sscanf(s, "\"handshake\": {\"count\": %*u, \"p50\": %llu, \"p90\": %*u,"
	    " \"p99\": %llu, \"p99.9\": %*u, \"max\": %llu", &r->p50, &r->p99, &r->max), 3);
}

static void *
sim_thread(void *arg)
{
	struct sim_result *r = arg;

	run_sim(st_path("creds-flood"), fl.port, r);
	return NULL;
}

Test(abuse, hello_flood_engages_retry_and_spares_real_modules, .timeout = 60)
{
	struct sim_result calm, loaded;
	pthread_t ft, st;
	double retry0, ho_peak = 0, rate_calm, rate_loaded;
	long rss0, hwm;
	pid_t pid;
	char extra[512];

	fl.port = ft_port(3);
	st_enroll("creds-flood", 400);
	snprintf(extra, sizeof(extra), "[limits]\nhalf_open_max = %d\nhalf_open_timeout = %d\n",
	    HO_MAX, HO_TIMEOUT);
	pid = ft_start_m2md("m2md-flood.conf", fl.port, extra);
	for (unsigned a = 2; a < 2 + FLOOD_ADDRS; a++)
		for (int k = 0; k < FLOOD_PORTS; k++)
			if ((fl.fds[fl.nfds] = ft_udp_from(a)) >= 0)
				fl.nfds++;
	cr_assert_eq(fl.nfds, FLOOD_ADDRS * FLOOD_PORTS, "loopback sources bound");
	fl.len = ft_hello(fl.hello, NULL, 0);

	/* The same simulated load without, then with the flood. */
	run_sim(st_path("creds-flood"), fl.port, &calm);
	rss0 = ft_rss_kb(pid, "VmRSS");
	retry0 = metric(fl.port, "m2md_retry_sent_total", NULL);
	pthread_create(&ft, NULL, flood, NULL);
	pthread_create(&st, NULL, sim_thread, &loaded);
	for (int i = 0; i < FLOOD_SECS * 5; i++) {
		double ho = metric(fl.port, "m2md_half_open", NULL);

		ho_peak = ho > ho_peak ? ho : ho_peak;
		usleep(200000);
	}
	pthread_join(st, NULL);
	atomic_store(&fl.stop, 1);
	pthread_join(ft, NULL);
	hwm = ft_rss_kb(pid, "VmHWM");

	rate_calm = calm.started ? (double)calm.ok / (double)calm.started : 0;
	rate_loaded = loaded.started ? (double)loaded.ok / (double)loaded.started : 0;
	printf("flood: %lu HELLOs from %zu sources (%d addresses) in %d s; RETRY sent %.0f;"
	    " half-open peak %.0f of %d\n", (unsigned long)atomic_load(&fl.sent), fl.nfds,
	    FLOOD_ADDRS, FLOOD_SECS, metric(fl.port, "m2md_retry_sent_total", NULL) - retry0,
	    ho_peak, HO_MAX);
	printf("flood: m2md memory %ld kB before, peak %ld kB (+%ld kB)\n", rss0, hwm, hwm - rss0);
	printf("flood: modules without flood: %llu/%llu handshakes ok (%.1f%%), p50 %.2f ms,"
	    " p99 %.2f ms\n", calm.ok, calm.started, 100 * rate_calm, calm.p50 / 1e3,
	    calm.p99 / 1e3);
	printf("flood: modules during flood:  %llu/%llu handshakes ok (%.1f%%, target 95%%),"
	    " p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", loaded.ok, loaded.started,
	    100 * rate_loaded, loaded.p50 / 1e3, loaded.p99 / 1e3, loaded.max / 1e3);

	cr_assert(ft_alive(pid));
	cr_assert_gt(metric(fl.port, "m2md_retry_sent_total", NULL) - retry0, 1000,
	    "RETRY engaged");
	cr_assert_leq(ho_peak, HO_MAX, "half-open table within half_open_max");
	/* The tables are allocated at start; a flood may touch them but no
	 * more: 16384 half-open entries are 4 MiB at most. 16 MiB leaves room for the
	 * allocator and the kernel's view of pages, not for a per-datagram leak
	 * (60,000 HELLOs). */
#if !defined(__SANITIZE_ADDRESS__)
	/* Under AddressSanitizer resident memory is the sanitizer's (shadow,
	 * quarantine): the bound is asserted in the plain build. */
	cr_assert_lt(hwm - rss0, 16 * 1024, "memory bounded: +%ld kB", hwm - rss0);
#endif
	/* Generous: without RETRY the flood fills the half-open table and real
	 * modules get nothing (near 0%). */
	cr_assert_gt(loaded.started, 0);
	cr_assert_geq(rate_loaded, 0.5, "real modules keep completing handshakes");
	for (size_t i = 0; i < fl.nfds; i++)
		close(fl.fds[i]);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}

/* ---- junk ---- */

static void
random_bytes(uint8_t *b, size_t n)
{
	cr_assert_eq(RAND_bytes(b, (int)n), 1);
}

Test(abuse, junk_datagrams_are_dropped_counted_and_unanswered, .timeout = 60)
{
	int port = ft_port(4), fd = ft_udp_from(1), n_each = 500;
	uint8_t buf[2048], hello[PROTO_DATAGRAM_MAX];
	size_t hlen = ft_hello(hello, NULL, 0), sent = 0;
	double in0, out0, drop0, over0, der0;
	struct cli c;
	pid_t pid = ft_start_m2md("m2md-junk.conf", port, NULL);

	in0 = metric(port, "m2md_datagrams_in_total", NULL);
	out0 = metric(port, "m2md_datagrams_out_total", NULL);
	drop0 = metric(port, "m2md_drops_total", NULL);
	over0 = metric(port, "m2md_drops_total", DROP("M2M_E_PROTO_OVERSIZE"));
	der0 = metric(port, "m2md_hsm_derives_total", NULL);
	for (int i = 0; i < n_each; i++) {
		random_bytes(buf, sizeof(buf));
		ft_sendto(fd, port, buf, 1201 + (size_t)(i % 400));	/* oversized */
		ft_sendto(fd, port, hello, 1 + (size_t)i % (hlen - 1));	/* truncated HELLO */
		buf[0] = (uint8_t)(i & 1 ? 1 : buf[0]);			/* garbage, half v1 */
		ft_sendto(fd, port, buf, 1 + (size_t)(i * 7) % 1200);
		ft_sendto(fd, port, buf, 0);				/* empty */
		sent += 4;
		if (i % 50 == 0)
			usleep(5000);	/* stay under the socket buffer */
	}
	for (int i = 0; i < 100 && metric(port, "m2md_datagrams_in_total", NULL) - in0 < sent; i++)
		usleep(50000);
	printf("junk: %zu sent; in %.0f, dropped %.0f (oversized %.0f), answered %.0f\n", sent,
	    metric(port, "m2md_datagrams_in_total", NULL) - in0,
	    metric(port, "m2md_drops_total", NULL) - drop0,
	    metric(port, "m2md_drops_total", DROP("M2M_E_PROTO_OVERSIZE")) - over0,
	    metric(port, "m2md_datagrams_out_total", NULL) - out0);
	cr_assert_eq(metric(port, "m2md_datagrams_in_total", NULL) - in0, sent);
	cr_assert_eq(metric(port, "m2md_drops_total", NULL) - drop0, sent, "every one dropped");
	cr_assert_eq(metric(port, "m2md_drops_total", DROP("M2M_E_PROTO_OVERSIZE")) - over0,
	    n_each);
	cr_assert_eq(metric(port, "m2md_datagrams_out_total", NULL) - out0, 0, "none answered");
	cr_assert_eq(metric(port, "m2md_hsm_derives_total", NULL) - der0, 0);
	/* And the server still works. */
	st_open(&c, st_enroll("creds-junk", 1), 0, port);
	cr_assert_eq(cli_handshake(&c, (const uint8_t *)"ok", 2), M2M_OK);
	cli_close(&c);
	close(fd);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}

/* One address, 40 source ports (SO_REUSEPORT spreads them over both
 * workers), 5 HELLOs each: CHALLENGEs stay within the one bucket of the
 * address (burst + rate x elapsed), the rest get RETRY. A bucket per
 * worker would let twice the burst through. */
Test(abuse, hello_source_budget_is_one_for_all_workers, .timeout = 60)
{
	enum { PORTS = 40, EACH = 5, BURST = 30 };
	int port = ft_port(8), fds[PORTS];
	uint8_t hello[PROTO_DATAGRAM_MAX];
	size_t hlen = ft_hello(hello, NULL, 0);
	double ch0, rt0, ch, rt, t0, elapsed;
	char extra[256];
	pid_t pid;

	snprintf(extra, sizeof(extra), "[limits]\nsource_rate = 1\nsource_burst = %d\n", BURST);
	pid = ft_start_m2md("m2md-hello-src.conf", port, extra);
	for (int i = 0; i < PORTS; i++)
		cr_assert_geq(fds[i] = ft_udp_from(1), 0);
	/* The same HELLO each time: within the budget the first gets a
	 * CHALLENGE and its copies the same one again (challenge_resent). */
	ch0 = metric(port, "m2md_challenge_sent_total", NULL) +
	    metric(port, "m2md_challenge_resent_total", NULL);
	rt0 = metric(port, "m2md_retry_sent_total", NULL);
	t0 = ft_now();
	for (int k = 0; k < EACH; k++)
		for (int i = 0; i < PORTS; i++)
			ft_sendto(fds[i], port, hello, hlen);
	for (int i = 0; i < 100; i++) {
		ch = metric(port, "m2md_challenge_sent_total", NULL) +
		    metric(port, "m2md_challenge_resent_total", NULL) - ch0;
		rt = metric(port, "m2md_retry_sent_total", NULL) - rt0;
		if (ch + rt >= PORTS * EACH)
			break;
		usleep(50000);
	}
	elapsed = ft_now() - t0;
	printf("one address, %d ports: %.0f CHALLENGE, %.0f RETRY in %.2f s (burst %d)\n",
	    PORTS, ch, rt, elapsed, BURST);
	cr_assert_eq(ch + rt, PORTS * EACH, "every HELLO answered");
	cr_assert_leq(ch, BURST + elapsed + 1, "one bucket for the address");
	cr_assert_geq(ch, BURST - 1, "the burst itself gets through");
	for (int i = 0; i < PORTS; i++)
		close(fds[i]);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}

/* While m2md is stopped (SIGSTOP) its socket buffer fills and the kernel
 * drops the rest; every datagram then shows either as received or as
 * dropped. 20,000 datagrams overflow even an 8 MiB buffer (the kernel
 * charges each small datagram about a kilobyte). */
Test(abuse, datagrams_dropped_by_a_full_socket_buffer_are_counted, .timeout = 60)
{
	int port = ft_port(7), fd = ft_udp_from(1), n = 20000;
	uint8_t junk[64];
	double in0, dr0, in, dr, last = -1;
	pid_t pid = ft_start_m2md("m2md-rcvbuf.conf", port, NULL);

	memset(junk, 0xee, sizeof(junk));
	in0 = metric(port, "m2md_datagrams_in_total", NULL);
	dr0 = metric(port, "m2md_rcvbuf_drops_total", NULL);
	cr_assert_eq(kill(pid, SIGSTOP), 0);
	for (int i = 0; i < n; i++)
		ft_sendto(fd, port, junk, sizeof(junk));
	cr_assert_eq(kill(pid, SIGCONT), 0);
	/* Drained when the count stops moving; then one more datagram carries
	 * the kernel's drop count of the socket. */
	for (int i = 0; i < 100; i++) {
		usleep(100000);
		in = metric(port, "m2md_datagrams_in_total", NULL);
		if (in == last)
			break;
		last = in;
	}
	ft_sendto(fd, port, junk, sizeof(junk));
	for (int i = 0; i < 50 && metric(port, "m2md_datagrams_in_total", NULL) == last; i++)
		usleep(100000);
	in = metric(port, "m2md_datagrams_in_total", NULL) - in0;
	dr = metric(port, "m2md_rcvbuf_drops_total", NULL) - dr0;
	printf("socket buffer: %d + 1 sent; read %.0f, dropped by the kernel %.0f\n", n, in, dr);
	cr_assert_gt(dr, 0, "the buffer overflowed");
	cr_assert_eq(in + dr, n + 1, "each datagram read or counted as dropped, once");
	close(fd);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}

/* ---- AUTH and DATA that cost no HSM ---- */

/* An AUTH for token: random C1 and C2 of plausible lengths. */
static size_t
fake_auth(uint8_t *b, const uint8_t *token)
{
	size_t l1 = 17 + 16, len = 19 + l1 + 16 + 8;

	random_bytes(b, len);
	b[0] = PROTO_VERSION;
	b[1] = PROTO_AUTH;
	if (token != NULL) {
		memcpy(b + 2, token, PROTO_TOKEN_LEN);
	} else {
		b[2] = 0;	/* node 0 */
		b[3] &= 1;	/* worker 0 or 1: routed, then looked up */
	}
	b[18] = (uint8_t)l1;
	return len;
}

Test(abuse, random_auth_and_data_cost_no_hsm_operation, .timeout = 60)
{
	int port = ft_port(5), fd = ft_udp_from(1), n = 2000;
	uint8_t buf[PROTO_DATAGRAM_MAX], hello[PROTO_DATAGRAM_MAX];
	size_t len;
	double der0, drop0, unk0;
	struct cli c;
	pid_t pid = ft_start_m2md("m2md-rand.conf", port,
	    "[limits]\nsource_rate = 1000000\nsource_burst = 1000000\n");

	der0 = metric(port, "m2md_hsm_derives_total", NULL);
	drop0 = metric(port, "m2md_drops_total", NULL);
	for (int i = 0; i < n; i++) {
		len = fake_auth(buf, NULL);
		ft_sendto(fd, port, buf, len);
		random_bytes(buf, 80);			/* DATA, random session */
		buf[0] = PROTO_VERSION;
		buf[1] = i & 1 ? PROTO_DATA : PROTO_REKEY;
		buf[2] = 0;
		buf[3] &= 1;
		ft_sendto(fd, port, buf, 18 + 16 + 20);
		if (i % 50 == 0)
			usleep(5000);
	}
	/* A real token, from a CHALLENGE to a HELLO with an unknown pseudonym:
	 * the database lookup rejects the AUTH before the HSM. */
	st_open(&c, st_path("creds"), 0, port);
	for (int i = 0; i < 20; i++) {
		uint8_t in[PROTO_DATAGRAM_MAX];
		size_t m, hlen = ft_hello(hello, NULL, 0);

		cr_assert_eq(cli_send(&c, hello, hlen), M2M_OK);
		cr_assert_eq(cli_recv(&c, in, sizeof(in), &m), M2M_OK);
		cr_assert_eq(in[1], PROTO_CHALLENGE);
		/* CHALLENGE: version, type, token, E_s. */
		len = fake_auth(buf, in + 2);
		cr_assert_eq(cli_send(&c, buf, len), M2M_OK);
	}
	cli_close(&c);
	for (int i = 0; i < 100 && metric(port, "m2md_drops_total", NULL) - drop0 < 2 * n + 20; i++)
		usleep(50000);
	unk0 = metric(port, "m2md_handshakes_failed_total", DROP("M2M_E_PROTO_UNKNOWN_MODULE"));
	printf("random AUTH/DATA: %d + %d sent, 20 AUTH with real tokens for unknown pseudonyms;"
	    " dropped %.0f (unknown token %.0f, unknown session %.0f, unknown module %.0f);"
	    " HSM derives %.0f\n", n, n, metric(port, "m2md_drops_total", NULL) - drop0,
	    metric(port, "m2md_drops_total", DROP("M2M_E_SRV_UNKNOWN_TOKEN")),
	    metric(port, "m2md_drops_total", DROP("M2M_E_SRV_UNKNOWN_SESSION")), unk0,
	    metric(port, "m2md_hsm_derives_total", NULL) - der0);
	cr_assert_eq(metric(port, "m2md_drops_total", NULL) - drop0, 2 * n + 20, "all dropped");
	cr_assert_eq(unk0, 20, "the real tokens reached the pseudonym lookup");
	cr_assert_eq(metric(port, "m2md_hsm_derives_total", NULL) - der0, 0, "no HSM operation");
	close(fd);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}

/* ---- a module that keeps failing authentication ---- */

#define PS_BURST	5
#define PS_TRIES	24

Test(abuse, failing_module_is_rate_limited_per_pseudonym, .timeout = 60)
{
	int port = ft_port(6);
	const char *creds = st_enroll("creds-ratelimit", 2);
	struct proto_mod_creds other;
	uint8_t auth[PROTO_DATAGRAM_MAX], in[PROTO_DATAGRAM_MAX];
	size_t n, m;
	double der0, rl0, t0, elapsed, derives, limited, allowed;
	struct cli c;
	char extra[256];
	pid_t pid;

	snprintf(extra, sizeof(extra), "[limits]\nsource_rate = 1000000\nsource_burst = 1000000\n"
	    "pseudonym_rate = 1\npseudonym_burst = %d\n", PS_BURST);
	pid = ft_start_m2md("m2md-rl.conf", port, extra);
	/* Module 0's pseudonym with module 1's private key: the AUTH gets
	 * through the lookup, costs one ECDH in the HSM, then C2 fails. */
	st_open(&c, creds, 0, port);
	cr_assert_eq(cli_creds(creds, 1, &other), M2M_OK);
	memcpy(c.cr.priv, other.priv, sizeof(c.cr.priv));
	c.timeout_ms = 100;
	der0 = metric(port, "m2md_hsm_derives_total", NULL);
	rl0 = metric(port, "m2md_handshakes_failed_total", DROP("M2M_E_SRV_RATE_LIMITED"));
	t0 = ft_now();
	for (int i = 0; i < PS_TRIES; i++) {
		/* A new source port each time: SO_REUSEPORT spreads them over
		 * the workers, and the limit must hold across them. */
		cr_assert_eq(cli_rebind(&c), M2M_OK);
		cr_assert_eq(cli_hello(&c, NULL, 0, auth, &n), M2M_OK);
		cr_assert_eq(cli_send(&c, auth, n), M2M_OK);
		cr_assert_neq(cli_recv(&c, in, sizeof(in), &m), M2M_OK, "no WELCOME with a wrong key");
	}
	elapsed = ft_now() - t0;
	usleep(200000);
	derives = metric(port, "m2md_hsm_derives_total", NULL) - der0;
	limited = metric(port, "m2md_handshakes_failed_total", DROP("M2M_E_SRV_RATE_LIMITED")) - rl0;
	allowed = PS_BURST + elapsed * 1 + 1;
	printf("failing module: %d AUTHs in %.1f s; HSM derives %.0f (burst %d, rate 1/s: at most"
	    " %.0f), rate-limited %.0f\n", PS_TRIES, elapsed, derives, PS_BURST, allowed, limited);
	cr_assert_geq(derives, PS_BURST, "the burst reaches the HSM");
	cr_assert_leq(derives, allowed, "then the HSM is spared");
	cr_assert_geq(limited, PS_TRIES - allowed);
	cr_assert_eq(derives + limited, PS_TRIES, "every AUTH either derived or was limited");
	cli_close(&c);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}
