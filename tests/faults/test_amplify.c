/* SPDX-License-Identifier: Apache-2.0 */
/* What an unauthenticated or replaying sender gets back (doc/protocol.md,
 * section 3). For each message it can elicit, 100 sends, one at a time,
 * each followed by whatever answers arrive: the number of answers, and the
 * bytes answered against the bytes sent, in all and after every send (no
 * address, the module's own included, ever receives more than it sent).
 * The cases: new HELLOs; one
 * HELLO resent; a completed AUTH resent from the module's address and from
 * another one (instructions queued, so that an unbounded WELCOME would be
 * longer than the AUTH); a DATA whose DATA_ACK was answered, resent from
 * the module's address and from another one; a REKEY resent. Figures are
 * printed per case. Instructions a WELCOME has no room for come with the
 * DATA_ACKs, those sent before and never confirmed included. */
#include "config.h"

#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/faults/faults.h"

#define AMP_N			100
#define AMP_WAIT_MS		20	/* per send, for its answers */
/* The documented bounds: answers to one resent HELLO (per entry), to one
 * completed AUTH (per token, from any address), to resends of a committed
 * DATA (per session, between two fresh DATAs). */
#define AMP_CHALLENGE_AGAIN	4
#define AMP_WELCOME_AGAIN	4
#define AMP_DATA_AGAIN		8

struct amp {
	const char *what;
	unsigned long sent, answers;
	size_t req_bytes, ans_bytes, largest;
	double worst;		/* the largest answered/sent after any send */
};

static void
amp_take(int fd, int ms, struct amp *a)
{
	uint8_t in[PROTO_DATAGRAM_MAX];
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t n;

	while (poll(&p, 1, ms) == 1) {
		while ((n = recv(fd, in, sizeof(in), MSG_DONTWAIT)) > 0) {
			a->answers++;
			a->ans_bytes += (size_t)n;
			a->largest = (size_t)n > a->largest ? (size_t)n : a->largest;
		}
		ms = 0;
	}
}

/* Sends req (NULL: a new HELLO each time) AMP_N times from fd. */
static void
amp_run(struct amp *a, const char *what, int fd, int port, const uint8_t *req, size_t len)
{
	uint8_t fresh[PROTO_DATAGRAM_MAX];
	double r;

	memset(a, 0, sizeof(*a));
	a->what = what;
	amp_take(fd, 0, a);
	a->answers = a->ans_bytes = a->largest = 0;	/* what came before */
	for (int i = 0; i < AMP_N; i++) {
		if (req == NULL)	/* a new HELLO each time */
			len = ft_hello(fresh, NULL, 0);
		ft_sendto(fd, port, req != NULL ? req : fresh, len);
		a->sent++;
		a->req_bytes += len;
		amp_take(fd, AMP_WAIT_MS, a);
		r = (double)a->ans_bytes / (double)a->req_bytes;
		a->worst = r > a->worst ? r : a->worst;
	}
	amp_take(fd, 300, a);
	fflush(stdout);
	printf("%-28s %3lu x %4zu B -> %3lu answers, %5zu B (largest %zu B); ratio %.2f,"
	    " worst after any send %.2f\n", what, a->sent, len, a->answers, a->ans_bytes,
	    a->largest, (double)a->ans_bytes / (double)a->req_bytes, a->worst);
	fflush(stdout);
}

/* In all and after each send: never more bytes back than sent. */
static void
amp_check(const struct amp *a, unsigned long max_answers)
{
	cr_expect_leq(a->ans_bytes, a->req_bytes, "%s: %zu B answered for %zu B", a->what,
	    a->ans_bytes, a->req_bytes);
	cr_expect_leq(a->worst, 1.0, "%s: an address got more than it sent (%.2f)",
	    a->what, a->worst);
	cr_expect_leq(a->answers, max_answers, "%s: %lu answers for %lu sends", a->what,
	    a->answers, a->sent);
}

static void
amp_instruct(const struct cli *c, const char *text)
{
	char args[512];

	snprintf(args, sizeof(args), "instruct %s --text %s", st_identity(c), text);
	cr_assert_eq(st_m2mctl(args), 0, "%s", args);
}

/* HELLO, CHALLENGE, AUTH, WELCOME by hand: the sizes of the first AUTH and
 * its WELCOME; the session is set up in c. */
static void
amp_handshake(struct cli *c, uint8_t *auth, size_t *auth_len, size_t *welcome_len)
{
	uint8_t in[PROTO_DATAGRAM_MAX], pt[PROTO_DATAGRAM_MAX];
	struct proto_welcome_pt w;

	cr_assert_eq(cli_hello(c, NULL, 0, auth, auth_len), M2M_OK);
	cr_assert_eq(cli_send(c, auth, *auth_len), M2M_OK);
	cr_assert_eq(cli_recv(c, in, sizeof(in), welcome_len), M2M_OK);
	cr_assert_eq(proto_mod_welcome(c->ctx, &c->hs, in, *welcome_len, &c->s, pt, &w), M2M_OK);
	memcpy(c->cr.pseudonym, w.pseudonym, w.pseudonym_len);
	c->cr.pseudonym_len = w.pseudonym_len;
	for (size_t i = 0; i < w.n_instr && c->n_instr < PROTO_INSTR_MAX; i++)
		memcpy(c->instr_ids[c->n_instr++], w.instr[i].id, PROTO_INSTR_ID_LEN);
}

static const char BIG[] = "instruction-body-of-forty-bytes-xxxxxxxx";

Test(amplify, answers_to_unauthenticated_and_replayed_messages, .timeout = 120)
{
	int port = ft_port(21), other = ft_udp_from(2);
	const char *creds = st_enroll("creds-amp", 3);
	uint8_t auth[PROTO_DATAGRAM_MAX], hello[PROTO_DATAGRAM_MAX], data[PROTO_DATAGRAM_MAX];
	size_t alen, wlen, hlen, dlen;
	struct amp a;
	struct cli c;
	uint8_t status;
	uint64_t seq;
	pid_t pid = ft_start_m2md("m2md-amp.conf", port,
	    "[limits]\nsource_rate = 1000000\nsource_burst = 1000000\n");

	cr_assert_geq(other, 0);
	/* New HELLOs, each its own entry: a CHALLENGE each, never longer. */
	amp_run(&a, "HELLO (new each time)", other, port, NULL, 0);
	amp_check(&a, AMP_N);
	/* One HELLO resent: its first CHALLENGE, then a few again. */
	hlen = ft_hello(hello, NULL, 0);
	amp_run(&a, "HELLO resent", other, port, hello, hlen);
	amp_check(&a, 1 + AMP_CHALLENGE_AGAIN);

	/* A completed AUTH resent, two instructions queued for its module: 11
	 * and 50 bytes, which would make a WELCOME of 106 bytes (still short
	 * enough to be kept for resending). */
	for (int k = 0; k < 2; k++) {
		st_open(&c, creds, (size_t)k, port);
		amp_instruct(&c, "x");
		amp_instruct(&c, BIG);
		amp_handshake(&c, auth, &alen, &wlen);
		printf("first WELCOME %zu B for an AUTH of %zu B\n", wlen, alen);
		cr_expect_leq(wlen, alen, "the WELCOME is never longer than its AUTH");
		amp_run(&a, k == 0 ? "AUTH resent, same address" : "AUTH resent, other address",
		    k == 0 ? c.fd : other, port, auth, alen);
		amp_check(&a, AMP_WELCOME_AGAIN);
		if (k == 0) {
			/* What the WELCOME had no room for comes with a DATA_ACK. */
			cr_expect_eq(c.n_instr, 1, "the WELCOME carries what fits");
			amp_take(c.fd, 100, &a);
			cr_assert_eq(cli_data(&c, NULL, 0, &seq), M2M_OK);
			cr_expect_eq(c.n_instr, 1, "the DATA_ACK carries the rest");
		}
		cli_close(&c);
	}

	/* A committed DATA resent, from the module's address and from another:
	 * answered only within what that address sent, so a 35-byte DATA gets
	 * its 43-byte DATA_ACK at every second resend. */
	st_open(&c, creds, 2, port);
	cr_assert_eq(cli_handshake(&c, NULL, 0), M2M_OK);
	cr_assert_eq(cli_data(&c, NULL, 0, &seq), M2M_OK);
	dlen = c.last_len;
	memcpy(data, c.last, dlen);
	amp_run(&a, "DATA resent, same address", c.fd, port, data, dlen);
	amp_check(&a, AMP_DATA_AGAIN);
	cr_expect_gt(a.answers, 0, "the module's resends are answered");
	amp_take(c.fd, 100, &a);
	cr_assert_eq(cli_data(&c, NULL, 0, &seq), M2M_OK, "the session goes on");
	dlen = c.last_len;
	memcpy(data, c.last, dlen);
	amp_run(&a, "DATA resent, other address", other, port, data, dlen);
	amp_check(&a, AMP_DATA_AGAIN);
	/* A REKEY resent is a replay: no answer. */
	cr_assert_eq(cli_rekey(&c, &status), M2M_OK);
	dlen = c.last_len;
	memcpy(data, c.last, dlen);
	amp_run(&a, "REKEY resent, same address", c.fd, port, data, dlen);
	amp_check(&a, 0);
	cli_close(&c);
	close(other);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}

/* An instruction a DATA_ACK carried that the module never confirmed (the
 * DATA_ACK was lost) and that no WELCOME has room for: the next handshake
 * puts it back in the queue (db/migrations/010), and the new session's
 * first DATA_ACK carries it again. */
Test(amplify, unconfirmed_instruction_comes_again_with_a_data_ack, .timeout = 60)
{
	int port = ft_port(22);
	const char *creds = st_enroll("creds-requeue", 1);
	uint8_t auth[PROTO_DATAGRAM_MAX];
	size_t alen, wlen;
	uint64_t seq;
	struct cli c;
	char sql[256];
	pid_t pid = ft_start_m2md("m2md-requeue.conf", port, NULL);

	st_open(&c, creds, 0, port);
	amp_instruct(&c, BIG);
	amp_handshake(&c, auth, &alen, &wlen);
	cr_assert_leq(wlen, alen, "the WELCOME is never longer than its AUTH");
	cr_assert_eq(c.n_instr, 0, "no room in the WELCOME");
	cr_assert_eq(cli_data(&c, NULL, 0, &seq), M2M_OK);
	cr_assert_eq(c.n_instr, 1, "the DATA_ACK carries it");
	c.n_instr = 0;		/* as if that DATA_ACK was lost */
	amp_handshake(&c, auth, &alen, &wlen);
	cr_assert_eq(c.n_instr, 0, "still no room in the WELCOME");
	cr_assert_eq(cli_data(&c, NULL, 0, &seq), M2M_OK);
	cr_assert_eq(c.n_instr, 1, "the first DATA_ACK of the new session carries it again");
	cr_assert_eq(cli_data(&c, NULL, 0, &seq), M2M_OK, "which confirms it");
	snprintf(sql, sizeof(sql), "SELECT i.state || ' ' || i.sent_count FROM instructions i"
	    " JOIN modules m ON m.id = i.module_id WHERE m.identity = '%s'", st_identity(&c));
	cr_assert_str_eq(st_sql(sql, 0, NULL), "acknowledged 2");
	cli_close(&c);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}
