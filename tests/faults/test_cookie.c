/* SPDX-License-Identifier: Apache-2.0 */
/* A RETRY cookie does not lift its address's limits. With cookies always
 * required (retry_above = 1), one loopback address gets one cookie, then
 * sends HELLOs that carry it with a new pseudonym each (the cookie covers
 * the address, the port and E_m, not the pseudonym): first 2,000 paced,
 * then as fast as it can for two seconds. The CHALLENGEs it gets and the
 * half-open entries it holds stay within the per-source bucket (burst +
 * rate x elapsed), so one address cannot fill the half-open table. The
 * figures (CHALLENGEs for 2,000 HELLOs, HELLO/s admitted) are printed. */
#include "config.h"

#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "tests/faults/faults.h"

#define CK_RATE		20	/* source_rate, source_burst: the defaults */
#define CK_BURST	40
#define CK_PACED	2000
#define CK_FAST_S	2.0

struct ck_count {
	unsigned long sent, challenges, retries;
};

/* Reads what has arrived (waits up to ms for the first datagram). */
static void
ck_drain(int fd, int ms, struct ck_count *k)
{
	uint8_t in[PROTO_DATAGRAM_MAX];
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t n;

	while (poll(&p, 1, ms) == 1) {
		while ((n = recv(fd, in, sizeof(in), MSG_DONTWAIT)) > 0) {
			k->challenges += n >= 2 && in[1] == PROTO_CHALLENGE;
			k->retries += n >= 2 && in[1] == PROTO_RETRY;
		}
		ms = 0;
	}
}

/* The HELLO with a cookie, the pseudonym (bytes 8..23) made new. */
static void
ck_send(int fd, int port, uint8_t *hello, size_t len, struct ck_count *k)
{
	cr_assert_eq(RAND_bytes(hello + 8, 16), 1);
	ft_sendto(fd, port, hello, len);
	k->sent++;
}

/* A cookie for this socket's address and port and the HELLO's E_m; the
 * HELLO (16-byte pseudonym, 58 bytes) becomes the 74 bytes that carry it. */
static size_t
ck_cookie_hello(int fd, int port, uint8_t *hello)
{
	uint8_t in[PROTO_DATAGRAM_MAX];
	struct pollfd p = { fd, POLLIN, 0 };
	size_t len = ft_hello(hello, NULL, 0);
	ssize_t n;

	cr_assert_eq(len, 58);
	ft_sendto(fd, port, hello, len);
	cr_assert_eq(poll(&p, 1, 5000), 1, "an answer to the first HELLO");
	n = recv(fd, in, sizeof(in), 0);
	cr_assert(n == 2 + PROTO_COOKIE_LEN && in[1] == PROTO_RETRY, "cookies are required");
	hello[len - 1] = PROTO_COOKIE_LEN;
	memcpy(hello + len, in + 2, PROTO_COOKIE_LEN);
	return len + PROTO_COOKIE_LEN;
}

Test(cookie, reused_cookie_stays_within_the_source_limit, .timeout = 90)
{
	int port = ft_port(20), fd = ft_udp_from(1);
	uint8_t hello[PROTO_DATAGRAM_MAX];
	struct ck_count paced = { 0 }, fast = { 0 };
	double t0, t_paced, t1, t_fast, ho, ch0, ch_paced, ch, bound;
	size_t len;
	char extra[256];
	pid_t pid;

	snprintf(extra, sizeof(extra), "[limits]\nretry_above = 1\nsource_rate = %d\n"
	    "source_burst = %d\n", CK_RATE, CK_BURST);
	pid = ft_start_m2md("m2md-cookie.conf", port, extra);

	cr_assert_geq(fd, 0);
	len = ck_cookie_hello(fd, port, hello);
	ch0 = st_metric(port + 1, "m2md_challenge_sent_total", NULL);
	t0 = ft_now();
	for (int i = 0; i < CK_PACED; i++) {
		ck_send(fd, port, hello, len, &paced);
		if (i % 50 == 49) {
			ck_drain(fd, 0, &paced);
			usleep(2000);	/* within the socket buffers */
		}
	}
	ck_drain(fd, 500, &paced);
	t_paced = ft_now() - t0;
	ho = st_metric(port + 1, "m2md_half_open", NULL);
	ch_paced = st_metric(port + 1, "m2md_challenge_sent_total", NULL) - ch0;

	t1 = ft_now();
	while (ft_now() - t1 < CK_FAST_S) {
		ck_send(fd, port, hello, len, &fast);
		if (fast.sent % 256 == 0)
			ck_drain(fd, 0, &fast);
	}
	t_fast = ft_now() - t1;
	ck_drain(fd, 500, &fast);
	ch = st_metric(port + 1, "m2md_challenge_sent_total", NULL) - ch0;

	printf("cookie reused, one address: %lu HELLOs paced in %.2f s -> %.0f CHALLENGE sent"
	    " (%lu received), %lu RETRY; half-open %.0f\n", paced.sent, t_paced, ch_paced,
	    paced.challenges, paced.retries, ho);
	printf("cookie reused, one address: %lu HELLOs in %.2f s at full speed -> %.0f CHALLENGE"
	    " sent (%.0f HELLO/s admitted, source_rate %d)\n", fast.sent, t_fast, ch - ch_paced,
	    (ch - ch_paced) / t_fast, CK_RATE);
	/* The bucket of the address: burst + rate x time, whatever the cookie. */
	bound = CK_BURST + CK_RATE * (ft_now() - t0) + 1;
	cr_assert_leq(ch_paced, CK_BURST + CK_RATE * t_paced + 1,
	    "%.0f CHALLENGEs for %lu HELLOs", ch_paced, paced.sent);
	cr_assert_leq(ho, CK_BURST + CK_RATE * t_paced + 1, "half-open entries of one address");
	cr_assert_leq(ch, bound, "%.0f CHALLENGEs in all", ch);
	cr_assert_geq(paced.challenges, CK_BURST / 2, "the burst itself is admitted");
	close(fd);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}
