/* SPDX-License-Identifier: Apache-2.0 */
/* m2m-sim against the loopback responder (the server role of src/proto on
 * 127.0.0.1 or ::1): whole runs with zero errors and exact counts, RETRY
 * and loss recovered by retransmission, pseudonyms persisted. Figures are
 * logged, never asserted. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <criterion/criterion.h>

#include "tests/sim/simtest.h"

static char dir[256], cred[300], server[64];
static struct st_enrolled e;
static struct st_resp *resp;

static void
setup(void)
{
	st_tmpdir(dir, sizeof(dir));
	snprintf(cred, sizeof(cred), "%s/sim.cred", dir);
	st_enroll(&e, 40, cred);
}

static void
teardown(void)
{
	if (resp != NULL)
		st_resp_stop(resp);
	resp = NULL;
	st_enrolled_free(&e);
	st_cleanup(dir);
}

TestSuite(loopback, .init = setup, .fini = teardown, .timeout = 120);

static void
serve(struct st_resp_cfg cfg)
{
	resp = st_resp_start(&e, &cfg);
	cr_assert_not_null(resp, "cannot bind the loopback responder");
	snprintf(server, sizeof(server), cfg.family == AF_INET6 ? "[::1]:%u" : "127.0.0.1:%u",
	    st_resp_port(resp));
}

/* Runs m2m-sim --json with the extra arguments; returns its report. */
static json_object *
sim(int want_status, const char *const *extra)
{
	const char *argv[40] = { "--server", server, "--credentials", cred, "--json", "--quiet" };
	size_t n = 6;
	char *out, *err;
	json_object *j;
	int rc;

	while (*extra != NULL)
		argv[n++] = *extra++;
	argv[n] = NULL;
	rc = st_run_sim(argv, &out, &err);
	cr_assert_eq(rc, want_status, "exit %d; stdout %s; stderr %s", rc, out, err);
	j = json_tokener_parse(out);
	cr_assert_not_null(j, "not JSON: %s", out);
	free(out);
	free(err);
	return j;
}

#define SIM(status, ...) sim(status, (const char *const []){ __VA_ARGS__, NULL })

static uint64_t
num(json_object *j, const char *a, const char *b)
{
	json_object *x;

	cr_assert(json_object_object_get_ex(j, a, &x), "no %s", a);
	if (b != NULL)
		cr_assert(json_object_object_get_ex(x, b, &x), "no %s.%s", a, b);
	return (uint64_t)json_object_get_int64(x);
}

static uint64_t
lat_count(json_object *j, const char *which)
{
	json_object *lat;

	cr_assert(json_object_object_get_ex(j, "latency_us", &lat));
	return num(lat, which, "count");
}

static void
log_figures(const char *what, json_object *j)
{
	cr_log_info("%s: %s", what, json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
}

static void
expect_saved_pseudonyms(void)
{
	char *text = st_read_file(cred), hex[2 * PROTO_PSEUDONYM_LEN + 1], line[128];

	for (size_t i = 0; i < e.n; i++) {
		st_resp_pseudonym_hex(resp, i, hex);
		snprintf(line, sizeof(line), "module %s %s ", (const char *)e.rec[i].identity, hex);
		cr_assert_not_null(strstr(text, line), "module %zu: file lacks '%s'", i, line);
	}
	free(text);
}

Test(loopback, closed_loop_200_handshakes_with_2_data)
{
	struct st_resp_counts *c;
	json_object *j;

	serve((struct st_resp_cfg){ .family = AF_INET, .instructions = 1 });
	j = SIM(0, "--threads", "2", "--concurrency", "8", "--count", "200", "--data", "2");
	log_figures("closed loop", j);
	c = st_resp_counts(resp);
	cr_assert_eq(num(j, "errors", "total"), 0);
	cr_assert_eq(num(j, "handshakes", "started"), 200);
	cr_assert_eq(num(j, "handshakes", "ok"), 200);
	cr_assert_eq(num(j, "data", "sent"), 400);
	cr_assert_eq(num(j, "data", "ok"), 400);
	cr_assert_eq(lat_count(j, "handshake"), 200);
	cr_assert_eq(lat_count(j, "data"), 400);
	/* Every datagram read is dated, once: CHALLENGE, WELCOME, DATA_ACK,
	 * RETRY and the duplicates ignored. */
	cr_assert_eq(lat_count(j, "read_lag"), 2 * 200 + 400 + num(j, "retry_answered", NULL) +
	    num(j, "ignored_datagrams", NULL));
	cr_assert_eq(c->welcomes, 200);
	cr_assert_eq(c->data, 400);
	cr_assert_eq(c->rejected, 0);
	cr_assert_eq(c->failures, 0);
	/* Every instruction of a WELCOME was confirmed by the first DATA. */
	cr_assert_eq(c->instr_acked, c->instr_sent);
	expect_saved_pseudonyms();
	json_object_put(j);
}

/* Keys made before the run are each used once, then handshakes make their
 * own; the clock and the CPU figure start after them. */
Test(loopback, precomputed_keys_are_used_once_then_made_in_the_run)
{
	struct st_resp_counts *c;
	json_object *j;

	serve((struct st_resp_cfg){ .family = AF_INET });
	j = SIM(0, "--threads", "2", "--concurrency", "8", "--count", "120", "--precompute", "50");
	log_figures("precompute", j);
	c = st_resp_counts(resp);
	cr_assert_eq(num(j, "errors", "total"), 0);
	cr_assert_eq(num(j, "handshakes", "ok"), 120);
	cr_assert_eq(num(j, "precomputed_used", NULL), 50);
	cr_assert_eq(num(j, "config", "precompute"), 50);
	cr_assert_eq(c->welcomes, 120);
	cr_assert_eq(c->failures, 0);
	json_object_put(j);
}

/* The server accepts only the current and the previous pseudonym: a run
 * works only if the previous run saved what it was given. */
Test(loopback, pseudonyms_persist_across_runs_unless_no_save)
{
	json_object *j;

	serve((struct st_resp_cfg){ .family = AF_INET });
	/* 80 handshakes over 40 modules: each module renamed twice. */
	j = SIM(0, "--concurrency", "4", "--count", "80");
	cr_assert_eq(num(j, "handshakes", "ok"), 80);
	json_object_put(j);
	expect_saved_pseudonyms();
	j = SIM(0, "--concurrency", "4", "--count", "80", "--no-save");
	cr_assert_eq(num(j, "handshakes", "ok"), 80);
	json_object_put(j);
	/* The file is now two pseudonyms behind: refused, silently. */
	j = SIM(1, "--concurrency", "4", "--count", "4", "--retries", "1", "--timeout", "20");
	cr_assert_eq(num(j, "handshakes", "ok"), 0);
	cr_assert_eq(num(j, "errors", "timeout"), 4);
	cr_assert_eq(num(j, "errors", "total"), 4);
	json_object_put(j);
}

Test(loopback, retry_and_loss_are_recovered)
{
	struct st_resp_counts *c;
	json_object *j;

	serve((struct st_resp_cfg){ .family = AF_INET, .retry_every = 3, .drop_in_every = 7,
	    .drop_out_every = 11, .instructions = 1 });
	j = SIM(0, "--concurrency", "4", "--count", "100", "--data", "2", "--timeout", "30",
	    "--retries", "8");
	log_figures("retry and loss", j);
	c = st_resp_counts(resp);
	cr_assert_eq(num(j, "errors", "total"), 0);
	cr_assert_eq(num(j, "handshakes", "ok"), 100);
	cr_assert_eq(num(j, "data", "ok"), 200);
	/* Lost DATA_ACKs were answered again: every DATA taken once. */
	cr_assert_eq(c->data, 200);
	cr_assert_gt(c->data_again, 0);
	cr_assert_gt(num(j, "retransmissions", NULL), 0);
	cr_assert_gt(num(j, "retry_answered", NULL), 0);
	cr_assert_gt(c->dropped, 0);
	cr_assert_gt(c->retries, 0);
	cr_assert_eq(c->failures, 0);
	cr_log_info("responder: %llu dropped, %llu RETRY, %llu WELCOME resent, %llu DATA "
	    "answered again", (unsigned long long)c->dropped, (unsigned long long)c->retries,
	    (unsigned long long)c->welcome_resends, (unsigned long long)c->data_again);
	expect_saved_pseudonyms();
	json_object_put(j);
}

Test(loopback, open_loop_rate)
{
	json_object *j;

	serve((struct st_resp_cfg){ .family = AF_INET });
	j = SIM(0, "--threads", "2", "--rate", "200", "--duration", "1", "--ramp-up", "0.3",
	    "--data", "1");
	log_figures("open loop", j);
	cr_assert_eq(num(j, "errors", "total"), 0);
	cr_assert_gt(num(j, "handshakes", "ok"), 0);
	cr_assert_eq(num(j, "handshakes", "ok"), num(j, "handshakes", "started"));
	cr_assert_eq(num(j, "data", "ok"), num(j, "handshakes", "ok"));
	json_object_put(j);
}

Test(loopback, long_lived_sessions)
{
	json_object *j;

	serve((struct st_resp_cfg){ .family = AF_INET, .instructions = 1 });
	j = SIM(0, "--concurrency", "6", "--interval", "20", "--duration", "1");
	log_figures("long-lived", j);
	cr_assert_eq(num(j, "errors", "total"), 0);
	cr_assert_eq(num(j, "handshakes", "ok"), num(j, "handshakes", "started"));
	cr_assert_gt(num(j, "data", "ok"), 0);
	cr_assert_eq(num(j, "data", "ok"), num(j, "data", "sent"));
	json_object_put(j);
}

Test(loopback, ipv6)
{
	struct st_resp_cfg cfg = { .family = AF_INET6 };
	json_object *j;

	if ((resp = st_resp_start(&e, &cfg)) == NULL)
		cr_skip_test("no IPv6 loopback here");
	snprintf(server, sizeof(server), "[::1]:%u", st_resp_port(resp));
	j = SIM(0, "--concurrency", "2", "--count", "20", "--data", "1");
	cr_assert_eq(num(j, "handshakes", "ok"), 20);
	cr_assert_eq(num(j, "data", "ok"), 20);
	cr_assert_eq(json_object_get_string(json_object_object_get(j, "server"))[0], '[');
	json_object_put(j);
}

/* The text report and the progress lines, for a person. */
Test(loopback, text_report_and_progress)
{
	const char *argv[] = { "--server", server, "--credentials", cred, "--duration", "1.5",
	    "--concurrency", "2", "--data", "1", NULL };
	char *out, *err;

	serve((struct st_resp_cfg){ .family = AF_INET });
	cr_assert_eq(st_run_sim(argv, &out, &err), 0, "%s", err);
	cr_log_info("report:\n%s%s", err, out);
	cr_assert_not_null(strstr(err, "s] hs "), "no progress line: %s", err);
	cr_assert_not_null(strstr(err, " p99 hs "), "%s", err);
	cr_assert_not_null(strstr(out, "handshakes "), "%s", out);
	cr_assert_not_null(strstr(out, "errors            0 (timeout 0"), "%s", out);
	cr_assert_not_null(strstr(out, "p99.9"), "%s", out);
	free(out);
	free(err);
}

/* A WELCOME that does not verify is an error of its own kind; the module
 * starts over with a fresh handshake. */
/* A WELCOME that does not verify is ignored (it may be forged); when the
 * handshake then times out it counts as welcome_invalid, not timeout. */
Test(loopback, invalid_welcome_is_counted)
{
	json_object *j;

	serve((struct st_resp_cfg){ .family = AF_INET, .corrupt_welcome = 1 });
	j = SIM(1, "--concurrency", "2", "--count", "10", "--data", "1", "--retries", "1");
	cr_assert_eq(num(j, "handshakes", "ok"), 0);
	cr_assert_eq(num(j, "handshakes", "started"), 10);
	cr_assert_eq(num(j, "errors", "welcome_invalid"), 10);
	cr_assert_eq(num(j, "errors", "total"), 10);
	cr_assert_eq(num(j, "data", "sent"), 0);
	json_object_put(j);
}

/* An attacker spoofing the server races every answer: more forged
 * CHALLENGEs than the module keeps, the real one, two more forged ones,
 * and forged WELCOMEs ahead of the real one. The real AUTH is lost the
 * first time, so a timeout must resend every AUTH kept, not the last one.
 * m2m-sim answers every CHALLENGE, ignores the bad WELCOMEs, and every
 * handshake completes (doc/protocol.md 10.1). */
Test(loopback, forged_challenges_and_welcomes_do_not_end_handshakes)
{
	const unsigned before = PROTO_MOD_CANDIDATES + 1, after = PROTO_MOD_CANDIDATES - 2;
	struct st_resp_counts *c;
	json_object *j;

	serve((struct st_resp_cfg){ .family = AF_INET, .forge = before, .forge_after = after,
	    .drop_first_auth = 1, .retry_every = 4 });
	j = SIM(0, "--concurrency", "4", "--count", "60", "--data", "1", "--timeout", "100",
	    "--retries", "3");
	log_figures("forged", j);
	c = st_resp_counts(resp);
	cr_assert_eq(num(j, "errors", "total"), 0);
	cr_assert_eq(num(j, "handshakes", "ok"), 60);
	cr_assert_eq(num(j, "data", "ok"), 60);
	cr_assert_eq(c->forged, 60 * (2 * before + after));
	cr_assert_eq(c->dropped, 60, "each real AUTH lost once");
	cr_assert_geq(num(j, "retransmissions", NULL), 60);
	/* The AUTHs answering forgeries reached the responder and were refused. */
	cr_assert_geq(c->rejected, 60 * (before + after));
	cr_assert_geq(num(j, "ignored_datagrams", NULL), 60 * before);
	cr_assert_eq(c->failures, 0);
	expect_saved_pseudonyms();
	json_object_put(j);
}

/* Nobody listening: ICMP port unreachable, then timeouts. The file is
 * left alone when no pseudonym changed. */
Test(loopback, no_server_gives_refused_and_timeout)
{
	char *before, *after;
	json_object *j;

	serve((struct st_resp_cfg){ .family = AF_INET });
	st_resp_stop(resp);	/* the port is now closed */
	resp = NULL;
	before = st_read_file(cred);
	j = SIM(1, "--concurrency", "2", "--count", "2", "--retries", "1", "--timeout", "10");
	cr_assert_eq(num(j, "errors", "timeout"), 2);
	cr_assert_gt(num(j, "errors", "refused"), 0);
	after = st_read_file(cred);
	cr_assert_str_eq(before, after);
	free(before);
	free(after);
	json_object_put(j);
}
