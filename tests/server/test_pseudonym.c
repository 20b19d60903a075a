/* SPDX-License-Identifier: Apache-2.0 */
/* No order of commits or deliveries rewinds a module's pseudonym
 * (doc/protocol.md, 12.1), end to end on real m2md processes sharing one
 * PostgreSQL, for two workers of one m2md and for two m2md nodes:
 *  - a delayed AUTH: the module's AUTH for P is held back, the module
 *    completes a new handshake with P, then the held AUTH arrives and is
 *    answered;
 *  - a commit race: the write connection of one worker is paused (SIGSTOP
 *    of its PostgreSQL backend) with an AUTH for P in it, the module
 *    retries and completes on the other worker or node, then the paused
 *    commit goes through.
 * Afterwards the module still gets in with the pseudonym it holds, and the
 * lock-out check (lockout.c) finds nothing. */
#include "config.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/server/lockout.h"
#include "tests/server/srvtest.h"

/* The extra nodes: no per-source limits, one loopback address is a fleet. */
#define NODE_LIMITS "[limits]\nsource_rate = 1000000\nsource_burst = 1000000\n" \
	"hsm_source_rate = 1000000\nhsm_source_burst = 1000000\n" \
	"pseudonym_rate = 1000\npseudonym_burst = 1000\n"

/* The next datagrams go to the m2md on port. */
static void
aim(struct cli *c, int port)
{
	((struct sockaddr_in *)&c->srv)->sin_port = htons((uint16_t)port);
}

/* HELLO from new source ports until the CHALLENGE comes from worker
 * `worker` (any if < 0): the token routes the AUTH there. Returns the
 * length of the AUTH written to auth; *got: the worker. */
static size_t
hello_on(struct cli *c, int worker, uint8_t *auth, int *got)
{
	struct proto_auth m;
	size_t n;

	for (int i = 0; i < 64; i++) {
		cr_assert_eq(cli_rebind(c), M2M_OK);
		cr_assert_eq(cli_hello(c, NULL, 0, auth, &n), M2M_OK);
		cr_assert_eq(proto_auth_decode(auth, n, &m), M2M_OK);
		if (worker < 0 || m.token[1] == worker) {
			if (got != NULL)
				*got = m.token[1];
			return n;
		}
	}
	cr_assert_fail("no CHALLENGE from worker %d in 64 source ports", worker);
	return 0;
}

/* The answer to a held AUTH: m2md committed it. */
static void
expect_welcome_on(int fd, const char *what)
{
	struct pollfd p = { fd, POLLIN, 0 };
	uint8_t in[PROTO_DATAGRAM_MAX], type = 0;
	ssize_t n;

	cr_assert_eq(poll(&p, 1, 10000), 1, "%s: no answer", what);
	cr_assert_gt(n = recv(fd, in, sizeof(in), 0), 0);
	cr_assert_eq(proto_peek(in, (size_t)n, &type), M2M_OK);
	cr_assert_eq(type, PROTO_WELCOME, "%s is answered with a WELCOME", what);
}

/* What the module holds is accepted, and it gets in with it. */
static void
expect_gets_in(struct cli *c, const char *what)
{
	char ids[256] = "";

	cr_expect_eq(st_locked_out(&c->cr, 1, ids, sizeof(ids)), 0,
	    "%s: %s holds a pseudonym the database does not accept", what, ids);
	c->timeout_ms = 2000;
	cr_expect_eq(cli_handshake(c, NULL, 0), M2M_OK,
	    "%s: the module gets in with the pseudonym it holds", what);
	cr_expect_eq(cli_handshake(c, NULL, 0), M2M_OK, "%s: and again", what);
}

/* The held AUTH goes to worker `first` (of the m2md on port1); the module's
 * new handshake to worker `second` of the m2md on port2. */
static void
delayed_auth(const char *name, int port1, int first, int port2, int second)
{
	uint8_t held[PROTO_DATAGRAM_MAX], auth[PROTO_DATAGRAM_MAX];
	size_t held_len, n;
	struct cli c;

	st_open(&c, st_enroll(name, 1), 0, port1);
	held_len = hello_on(&c, first, held, NULL);
	aim(&c, port2);
	n = hello_on(&c, second, auth, NULL);
	cr_assert_eq(cli_auth(&c, auth, n), M2M_OK, "the new handshake");
	aim(&c, port1);
	cr_assert_eq(cli_send(&c, held, held_len), M2M_OK);
	expect_welcome_on(c.fd, "the held AUTH");
	expect_gets_in(&c, name);
	cli_close(&c);
}

Test(pseudonym, delayed_auth_two_workers)
{
	delayed_auth("ps-delay-w", st_port(), 0, st_port(), 1);
}

Test(pseudonym, delayed_auth_two_nodes)
{
	int port = st_port() + 70;
	pid_t pid = st_start_m2md("ps-delay-n.conf", port, 7, NODE_LIMITS);

	delayed_auth("ps-delay-n", st_port(), -1, port, -1);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}

/* ---- a commit held up in a paused backend ---- */

static int paused;	/* a backend this test stopped: resumed whatever happens */

static void
resume_paused(void)
{
	if (paused > 0)
		kill(paused, SIGCONT);
	paused = 0;
}

/* The PostgreSQL backend that committed the one handshake the m2md started
 * after `before` (backend pids) has run: that worker's write connection. */
static int
writer_backend(const char *before)
{
	const char *p[1] = { before };
	const char *sql = "SELECT count(*) || ' ' || coalesce(min(pid), 0) FROM pg_stat_activity"
	    " WHERE pid <> ALL($1::int[]) AND pid <> pg_backend_pid() AND query LIKE '%handshake(%'";
	int n, pid;

	cr_assert_eq(sscanf(st_sql(sql, 1, p), "%d %d", &n, &pid), 2);
	cr_assert_eq(n, 1, "one write connection has committed a handshake");
	return pid;
}

/* AUTH A for P waits in worker k's paused write connection; the module
 * retries on the other worker of that m2md, or on another node, and
 * completes; then A's commit goes through. */
static void
commit_race(const char *name, int other_node)
{
	int port = st_port() + 80, k, held;
	char before[4096];
	uint8_t auth[PROTO_DATAGRAM_MAX];
	struct cli warm, c;
	const char *creds;
	size_t n;
	pid_t pid;

	snprintf(before, sizeof(before), "%s", st_sql("SELECT '{' || string_agg(pid::text, ',')"
	    " || '}' FROM pg_stat_activity", 0, NULL));
	pid = st_start_m2md("ps-race.conf", port, 8, NODE_LIMITS);
	creds = st_enroll(name, 2);
	st_open(&warm, creds, 0, port);
	n = hello_on(&warm, -1, auth, &k);
	cr_assert_eq(cli_auth(&warm, auth, n), M2M_OK);
	cli_close(&warm);
	paused = writer_backend(before);
	cr_assert_eq(kill(paused, SIGSTOP), 0);

	st_open(&c, creds, 1, port);
	n = hello_on(&c, k, auth, NULL);
	cr_assert_eq(cli_send(&c, auth, n), M2M_OK);
	cr_assert_geq(held = dup(c.fd), 0);
	for (int i = 0; i < 500 && st_metric(port + 1, "m2md_inflight", NULL) < 1; i++)
		usleep(10000);
	cr_assert_geq(st_metric(port + 1, "m2md_inflight", NULL), 1, "A waits for its commit");
	if (other_node)
		aim(&c, st_port());
	n = hello_on(&c, other_node ? -1 : 1 - k, auth, NULL);
	cr_assert_eq(cli_auth(&c, auth, n), M2M_OK, "the retry completes elsewhere");
	resume_paused();
	expect_welcome_on(held, "the paused AUTH");
	close(held);
	expect_gets_in(&c, name);
	cli_close(&c);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}

Test(pseudonym, commit_race_two_workers, .fini = resume_paused)
{
	commit_race("ps-race-w", 0);
}

Test(pseudonym, commit_race_two_nodes, .fini = resume_paused)
{
	commit_race("ps-race-n", 1);
}
