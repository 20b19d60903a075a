/* SPDX-License-Identifier: Apache-2.0 */
/* m2md end to end: a real server process, a real SoftHSM2 token and a real
 * PostgreSQL, driven by the test client on the protocol core. Each test
 * uses its own enrolled module (index) so they do not disturb each other. */
#include "config.h"

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <unistd.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/server/srvtest.h"

#define MPORT	(st_port() + 1)

Test(server, handshake_and_data_are_stored)
{
	struct cli c;
	uint64_t seq;

	st_client(&c, 0, st_port());
	cr_assert_eq(cli_handshake(&c, (const uint8_t *)"boot", 4), M2M_OK);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(cli_data(&c, (const uint8_t *)"t=20", 4, &seq), M2M_OK);
	cr_assert_eq(seq, 3);
	cr_assert_eq(st_reports(&c), 4, "first data and three DATA");
	cli_close(&c);
}

static double
hist(const char *name, const char *suffix, const char *label)
{
	char full[128];

	snprintf(full, sizeof(full), "m2md_%s_seconds_%s", name, suffix);
	return st_metric(MPORT, full, label);
}

/* Each stage's histogram counts what its counter counts; its buckets are
 * cumulative, end in +Inf at the count, and the sum is a real duration. */
static void
assert_histogram(const char *name, double count)
{
	static const char *const le[] = { "le=\"2.5e-05\"", "le=\"0.001\"", "le=\"0.01\"",
	    "le=\"2.5\"", "le=\"+Inf\"" };
	double prev = 0;

	cr_assert_eq(hist(name, "count", NULL), count, "%s: count %.0f, expected %.0f", name,
	    hist(name, "count", NULL), count);
	for (size_t i = 0; i < sizeof(le) / sizeof(le[0]); i++) {
		double b = hist(name, "bucket", le[i]);

		cr_assert_geq(b, prev, "%s: bucket %s below the one before it", name, le[i]);
		prev = b;
	}
	cr_assert_eq(prev, count, "%s: +Inf bucket %.0f, count %.0f", name, prev, count);
	cr_assert_gt(hist(name, "sum", NULL), 0, "%s: no time recorded", name);
	cr_assert_lt(hist(name, "sum", NULL), count * 2.5, "%s: sum beyond every bucket", name);
}

Test(server, latency_histograms_count_every_stage)
{
	struct cli c;
	uint64_t seq;

	st_client(&c, 20, st_port());
	cr_assert_eq(cli_handshake(&c, (const uint8_t *)"boot", 4), M2M_OK);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(cli_data(&c, (const uint8_t *)"t=21", 4, &seq), M2M_OK);
	cli_close(&c);
	assert_histogram("handshake", st_metric(MPORT, "m2md_handshakes_completed_total", NULL));
	assert_histogram("hsm_derive", st_metric(MPORT, "m2md_hsm_derives_total", NULL));
	/* Every commit, failed ones too: at least the successful ones. */
	cr_assert_geq(hist("db_commit", "count", NULL),
	    st_metric(MPORT, "m2md_db_commits_total", NULL));
	assert_histogram("db_commit", hist("db_commit", "count", NULL));
	cr_assert_geq(hist("db_lookup", "count", NULL), st_metric(MPORT,
	    "m2md_hsm_derives_total", NULL), "a lookup before every HSM derive");
	assert_histogram("db_lookup", hist("db_lookup", "count", NULL));
	/* Every datagram read from a socket: the kernel stamped each. */
	assert_histogram("rx_wait", st_metric(MPORT, "m2md_datagrams_in_total", NULL));
}

Test(server, instruction_round_trip)
{
	struct cli c;
	char args[256];
	uint64_t seq;
	const char *p[1];

	st_client(&c, 1, st_port());
	snprintf(args, sizeof(args), "instruct %s --text reboot", st_identity(&c));
	cr_assert_eq(st_m2mctl(args), 0);
	cr_assert_eq(cli_handshake(&c, NULL, 0), M2M_OK);
	cr_assert_eq(c.n_instr, 1, "the WELCOME carries the queued instruction");
	p[0] = st_identity(&c);
	cr_assert_str_eq(st_sql("SELECT i.state FROM instructions i JOIN modules m ON"
	    " m.id = i.module_id WHERE m.identity = $1", 1, p), "sent");
	cr_assert_eq(cli_data(&c, (const uint8_t *)"done", 4, &seq), M2M_OK);
	cr_assert_str_eq(st_sql("SELECT i.state FROM instructions i JOIN modules m ON"
	    " m.id = i.module_id WHERE m.identity = $1", 1, p), "acknowledged");
	cli_close(&c);
}

Test(server, rekey_then_handshake_with_the_new_key)
{
	struct cli c;
	uint8_t status;
	const char *p[1];

	st_client(&c, 2, st_port());
	cr_assert_eq(cli_handshake(&c, NULL, 0), M2M_OK);
	cr_assert_eq(cli_rekey(&c, &status), M2M_OK);
	cr_assert_eq(status, 0);
	cr_assert_eq(cli_handshake(&c, NULL, 0), M2M_OK);
	cr_assert_eq(c.status, PROTO_STATUS_KEY_ROTATED);
	p[0] = st_identity(&c);
	cr_assert_str_eq(st_sql("SELECT string_agg(k.state, ',' ORDER BY k.id) FROM module_keys k"
	    " JOIN modules m ON m.id = k.module_id WHERE m.identity = $1", 1, p),
	    "retired,current");
	cr_assert_eq(cli_handshake(&c, NULL, 0), M2M_OK);
	cr_assert_eq(c.status, PROTO_STATUS_OK);
	/* Another module's key is refused (status 1) and changes nothing. */
	{
		struct cli other;

		st_client(&other, 3, st_port());
		cr_assert_eq(cli_rekey_to(&c, other.cr.pub, &status), M2M_OK);
		cr_assert_eq(status, 1, "a key in use elsewhere is refused");
		cli_close(&other);
	}
	cr_assert_str_eq(st_sql("SELECT string_agg(k.state, ',' ORDER BY k.id) FROM module_keys k"
	    " JOIN modules m ON m.id = k.module_id WHERE m.identity = $1", 1, p),
	    "retired,current");
	cr_assert_eq(cli_handshake(&c, NULL, 0), M2M_OK, "still the current key");
	cli_close(&c);
}

Test(server, suspended_and_revoked_modules_are_refused)
{
	struct cli c;
	char args[128];

	st_client(&c, 3, st_port());
	c.timeout_ms = 500;
	snprintf(args, sizeof(args), "suspend %s", st_identity(&c));
	cr_assert_eq(st_m2mctl(args), 0);
	cr_assert_eq(cli_handshake(&c, NULL, 0), M2M_E_IO, "no WELCOME while suspended");
	snprintf(args, sizeof(args), "resume %s", st_identity(&c));
	cr_assert_eq(st_m2mctl(args), 0);
	cr_assert_eq(cli_handshake(&c, NULL, 0), M2M_OK);
	snprintf(args, sizeof(args), "revoke %s", st_identity(&c));
	cr_assert_eq(st_m2mctl(args), 0);
	cr_assert_eq(cli_handshake(&c, NULL, 0), M2M_E_IO, "no WELCOME once revoked");
	cli_close(&c);
}

Test(server, wrong_pseudonym_is_refused)
{
	struct cli a, b;
	double before = st_metric(MPORT, "m2md_handshakes_failed_total", "M2M_E_PROTO_IDENTITY");

	st_client(&a, 4, st_port());
	st_client(&b, 5, st_port());
	a.timeout_ms = 500;
	memcpy(a.cr.pseudonym, b.cr.pseudonym, b.cr.pseudonym_len);	/* B's, with A's keys */
	cr_assert_eq(cli_handshake(&a, NULL, 0), M2M_E_IO);
	cr_assert_eq(st_metric(MPORT, "m2md_handshakes_failed_total", "M2M_E_PROTO_IDENTITY"),
	    before + 1);
	cr_assert_eq(cli_handshake(&b, NULL, 0), M2M_OK, "B itself is unaffected");
	cli_close(&a);
	cli_close(&b);
}

/* A lost WELCOME or DATA_ACK: the module resends the same bytes and gets
 * its answer, and nothing is stored twice. A forged copy gets nothing,
 * and endless copies get a bounded number of answers. */
Test(server, resent_auth_and_data_are_answered_not_stored_twice)
{
	struct cli c;
	uint8_t auth[PROTO_DATAGRAM_MAX], in[PROTO_DATAGRAM_MAX], welcome[PROTO_DATAGRAM_MAX];
	uint8_t rec[PROTO_DATAGRAM_MAX], pt[PROTO_DATAGRAM_MAX];
	struct proto_record r;
	struct proto_ack_pt ack;
	size_t n, m, wl, rl, ptlen;
	uint64_t seq;
	long reports;
	double again, forged;

	st_client(&c, 6, st_port());
	cr_assert_eq(cli_hello(&c, (const uint8_t *)"x", 1, auth, &n), M2M_OK);
	cr_assert_eq(cli_auth(&c, auth, n), M2M_OK);
	reports = st_reports(&c);
	/* The same AUTH again: the same WELCOME (a lost one is answered), no
	 * new session, nothing stored twice. */
	cr_assert_eq(cli_send(&c, auth, n), M2M_OK);
	cr_assert_eq(cli_recv(&c, welcome, sizeof(welcome), &wl), M2M_OK);
	/* At least as long as its DATA_ACK (43 bytes), so that each resend
	 * earns its answer (doc/protocol.md, section 3). */
	cr_assert_eq(cli_data(&c, (const uint8_t *)"d=12345678", 10, &seq), M2M_OK);
	cr_assert_eq(st_reports(&c), reports + 1);
	/* The same DATA again, as after a lost DATA_ACK: a new DATA_ACK for
	 * the same seq, the report not stored again. */
	memcpy(rec, c.last, c.last_len);
	rl = c.last_len;
	again = st_metric(MPORT, "m2md_data_answered_again_total", NULL);
	cr_assert_eq(cli_send(&c, rec, rl), M2M_OK);
	cr_assert_eq(cli_recv(&c, in, sizeof(in), &m), M2M_OK);
	cr_assert_eq(proto_record_decode(in, m, &r), M2M_OK);
	cr_assert_eq(r.type, PROTO_DATA_ACK);
	cr_assert_eq(proto_session_open(c.ctx, &c.s, &r, in, pt, sizeof(pt), &ptlen), M2M_OK);
	cr_assert_eq(proto_ack_pt_decode(PROTO_DATA_ACK, pt, ptlen, &ack), M2M_OK);
	cr_assert_eq(ack.acked_seq, seq);
	cr_assert_eq(st_metric(MPORT, "m2md_data_answered_again_total", NULL), again + 1);
	cr_assert_eq(st_reports(&c), reports + 1);
	/* A copy with one bit of its tag changed: dropped, not answered. */
	rec[rl - 1] ^= 1;
	forged = st_metric(MPORT, "m2md_drops_total", "M2M_E_PROTO_DECRYPT");
	c.timeout_ms = 300;
	cr_assert_eq(cli_send(&c, rec, rl), M2M_OK);
	cr_assert_eq(cli_recv(&c, in, sizeof(in), &m), M2M_E_IO);
	cr_assert_eq(st_metric(MPORT, "m2md_drops_total", "M2M_E_PROTO_DECRYPT"), forged + 1);
	/* Eight answers per committed DATA (one given above), then none: a
	 * captured DATA replayed without end gets no more. */
	rec[rl - 1] ^= 1;
	c.timeout_ms = 5000;
	for (int i = 1; i < 8; i++) {
		cr_assert_eq(cli_send(&c, rec, rl), M2M_OK);
		cr_assert_eq(cli_recv(&c, in, sizeof(in), &m), M2M_OK, "answer %d", i + 1);
	}
	c.timeout_ms = 300;
	cr_assert_eq(cli_send(&c, rec, rl), M2M_OK);
	cr_assert_eq(cli_recv(&c, in, sizeof(in), &m), M2M_E_IO);
	cr_assert_eq(st_metric(MPORT, "m2md_data_answered_again_total", NULL), again + 8);
	cr_assert_eq(st_reports(&c), reports + 1);
	/* The session goes on. */
	c.timeout_ms = 5000;
	cr_assert_eq(cli_data(&c, (const uint8_t *)"e", 1, &seq), M2M_OK);
	cr_assert_eq(st_reports(&c), reports + 2);
	cli_close(&c);
}

/* A lost CHALLENGE: the HELLO resent as it was, from where it came, gets
 * the same CHALLENGE from the entry the first one made, and the AUTH built
 * on it completes. */
Test(server, resent_hello_gets_the_same_challenge)
{
	struct cli c;
	uint8_t auth[PROTO_DATAGRAM_MAX], in[PROTO_DATAGRAM_MAX], hello[PROTO_DATAGRAM_MAX];
	uint8_t token[PROTO_TOKEN_LEN];
	size_t n, m, hl;
	double resent;

	st_client(&c, 11, st_port());
	resent = st_metric(MPORT, "m2md_challenge_resent_total", NULL);
	cr_assert_eq(cli_hello(&c, (const uint8_t *)"h", 1, auth, &n), M2M_OK);
	memcpy(hello, c.hs.hello, c.hs.hello_len);	/* the module forgets it at WELCOME */
	hl = c.hs.hello_len;
	cr_assert_eq(cli_send(&c, hello, hl), M2M_OK);
	cr_assert_eq(cli_recv(&c, in, sizeof(in), &m), M2M_OK);
	cr_assert_eq(in[1], PROTO_CHALLENGE);
	cr_assert_arr_eq(in + PROTO_HDR_LEN, auth + PROTO_HDR_LEN, PROTO_TOKEN_LEN,
	    "the token of the first CHALLENGE");
	cr_assert_eq(st_metric(MPORT, "m2md_challenge_resent_total", NULL), resent + 1);
	cr_assert_eq(cli_auth(&c, auth, n), M2M_OK);
	/* Its entry answered the AUTH: the same HELLO now is not answered
	 * from it (a module never sends it again after its AUTH). */
	cr_assert_eq(cli_send(&c, hello, hl), M2M_OK);
	cr_assert_eq(cli_recv(&c, in, sizeof(in), &m), M2M_OK);
	cr_assert_eq(in[1], PROTO_CHALLENGE);
	cr_assert_arr_neq(in + PROTO_HDR_LEN, auth + PROTO_HDR_LEN, PROTO_TOKEN_LEN);
	cr_assert_eq(st_metric(MPORT, "m2md_challenge_resent_total", NULL), resent + 1);
	/* The same bytes from another port (whichever worker it reaches): not
	 * a resend of the entry just made, so whoever only saw the HELLO does
	 * not get that entry's token. */
	memcpy(token, in + PROTO_HDR_LEN, PROTO_TOKEN_LEN);
	cr_assert_eq(cli_rebind(&c), M2M_OK);
	cr_assert_eq(cli_send(&c, hello, hl), M2M_OK);
	cr_assert_eq(cli_recv(&c, in, sizeof(in), &m), M2M_OK);
	cr_assert_eq(in[1], PROTO_CHALLENGE);
	cr_assert_arr_neq(in + PROTO_HDR_LEN, token, PROTO_TOKEN_LEN);
	cr_assert_eq(st_metric(MPORT, "m2md_challenge_resent_total", NULL), resent + 1);
	cli_close(&c);
}

/* Garbage, unknown tokens, unknown sessions and unknown pseudonyms: all
 * dropped, none costs an HSM operation. */
Test(server, cheap_rejections_cost_no_hsm_operation)
{
	struct cli c, stranger;
	uint8_t buf[PROTO_DATAGRAM_MAX], auth[PROTO_DATAGRAM_MAX];
	size_t n;
	double derives = st_metric(MPORT, "m2md_hsm_derives_total", NULL);
	double drops = st_metric(MPORT, "m2md_drops_total", NULL);

	st_client(&c, 7, st_port());
	c.timeout_ms = 300;
	for (int i = 0; i < 50; i++) {
		proto_random(c.ctx, buf, sizeof(buf));
		buf[0] = PROTO_VERSION;
		buf[1] = (uint8_t)(PROTO_HELLO + i % PROTO_TYPE_MAX);
		cr_assert_eq(cli_send(&c, buf, (size_t)(20 + i * 7)), M2M_OK);
	}
	cr_assert_eq(cli_send(&c, buf, PROTO_DATAGRAM_MAX + 0), M2M_OK);
	/* A module that nobody enrolled: a CHALLENGE, but no HSM work. */
	stranger = c;
	proto_random(c.ctx, stranger.cr.pseudonym, stranger.cr.pseudonym_len);
	cr_assert_eq(cli_hello(&stranger, NULL, 0, auth, &n), M2M_OK);
	cr_assert_eq(cli_auth(&stranger, auth, n), M2M_E_IO);
	cr_assert_eq(st_metric(MPORT, "m2md_hsm_derives_total", NULL), derives);
	cr_assert_geq(st_metric(MPORT, "m2md_drops_total", NULL), drops + 51);
	cr_assert_eq(st_metric(MPORT, "m2md_handshakes_failed_total", "M2M_E_PROTO_UNKNOWN_MODULE"),
	    1 + 0 * drops);
	cli_close(&c);
}

Test(server, source_port_change_between_hello_and_auth)
{
	struct cli c;
	uint8_t auth[PROTO_DATAGRAM_MAX];
	uint64_t seq;
	size_t n;

	st_client(&c, 8, st_port());
	for (int i = 0; i < 4; i++) {	/* several ports: some hash to the other worker */
		cr_assert_eq(cli_hello(&c, NULL, 0, auth, &n), M2M_OK);
		cr_assert_eq(cli_rebind(&c), M2M_OK);
		cr_assert_eq(cli_auth(&c, auth, n), M2M_OK);
		cr_assert_eq(cli_rebind(&c), M2M_OK);
		cr_assert_eq(cli_data(&c, (const uint8_t *)"moved", 5, &seq), M2M_OK);
	}
	cli_close(&c);
}

Test(server, check_verdicts)
{
	char out[4096], conf[2048];
	const char *bad;

	cr_assert_eq(st_check(st_path("m2md.conf"), out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "configuration ok"), "%s", out);
	bad = st_write("bad-key.conf", "[server]\nwrokers = 2\n");
	cr_assert_eq(st_check(bad, out, sizeof(out)), 1);
	cr_assert_not_null(strstr(out, "unknown key 'wrokers'"), "%s", out);
	cr_assert_not_null(strstr(out, ":2:"), "names the line: %s", out);
	st_write("wrong.pin", "0000\n");
	snprintf(conf, sizeof(conf), "[hsm]\nmodule = %s\ntoken = m2m\nkey = server-1\n"
	    "pin_file = %s\n", getenv("SOFTHSM2_MODULE"), st_path("wrong.pin"));
	cr_assert_eq(st_check(st_write("wrong-pin.conf", conf), out, sizeof(out)), 1);
	cr_assert_not_null(strstr(out, "PIN"), "%s", out);
	snprintf(conf, sizeof(conf), "[hsm]\nmodule = %s\ntoken = nosuch\npin_file = %s\n",
	    getenv("SOFTHSM2_MODULE"), st_path("pin"));
	cr_assert_eq(st_check(st_write("no-token.conf", conf), out, sizeof(out)), 1);
	cr_assert_not_null(strstr(out, "m2m"), "lists the tokens present: %s", out);
	snprintf(conf, sizeof(conf), "[hsm]\nmodule = %s\ntoken = m2m\nkey = server-1\n"
	    "pin_file = %s\n[database]\nconninfo = host=127.0.0.1 port=1 connect_timeout=2\n",
	    getenv("SOFTHSM2_MODULE"), st_path("pin"));
	cr_assert_eq(st_check(st_write("no-db.conf", conf), out, sizeof(out)), 1);
	cr_assert_not_null(strstr(out, "database") != NULL ? out : NULL, "%s", out);
}

Test(server, two_nodes_share_database_and_key)
{
	int p1 = st_port() + 10, p2 = st_port() + 20;
	pid_t a = st_start_m2md("node1.conf", p1, 1, NULL);
	pid_t b = st_start_m2md("node2.conf", p2, 2, NULL);
	struct cli c;
	uint64_t seq;

	st_client(&c, 9, p1);
	for (int i = 0; i < 6; i++) {
		struct sockaddr_in *sa = (struct sockaddr_in *)&c.srv;

		sa->sin_port = htons((uint16_t)(i % 2 ? p2 : p1));
		cr_assert_eq(cli_handshake(&c, NULL, 0), M2M_OK, "handshake %d on node %d", i,
		    1 + i % 2);
		cr_assert_eq(c.s.id[0], 1 + i % 2, "the session id carries the node id");
		cr_assert_eq(cli_data(&c, (const uint8_t *)"n", 1, &seq), M2M_OK);
	}
	cr_assert_eq(st_stop_m2md(a, SIGTERM), 0);
	cr_assert_eq(st_stop_m2md(b, SIGTERM), 0);
	cli_close(&c);
}

/* Sends DATA "n=<i>" until the server stops answering; records which i
 * were acknowledged. */
struct pump {
	struct cli c;
	int sent, acked_n;
	char acked[4096];	/* 1 at index i: acknowledged */
};

static void
pump_run(struct pump *p)
{
	char payload[32];
	uint64_t seq;
	int n;

	p->c.timeout_ms = 1000;
	for (p->sent = 0; p->sent < (int)sizeof(p->acked); p->sent++) {
		n = snprintf(payload, sizeof(payload), "n=%d", p->sent);
		if (cli_data(&p->c, (const uint8_t *)payload, (size_t)n, &seq) != M2M_OK)
			break;
		p->acked[p->sent] = 1;
		p->acked_n++;
	}
}

static void *
pump_main(void *arg)
{
	pump_run(arg);
	return NULL;
}

/* How many of the module's reports of this run are stored, and whether
 * each acknowledged one is among them. */
static int
stored_check(struct pump *p, int *stored)
{
	char q[64];
	const char *params[2] = { st_identity(&p->c), q };
	int missing = 0;

	*stored = atoi(st_sql("SELECT count(*) FROM reports r JOIN modules m ON m.id = r.module_id"
	    " WHERE m.identity = $1 AND r.seq > 0", 1, params));
	for (int i = 0; i < p->sent; i++) {
		if (!p->acked[i])
			continue;
		snprintf(q, sizeof(q), "n=%d", i);
		missing += atoi(st_sql("SELECT count(*) FROM reports r JOIN modules m ON"
		    " m.id = r.module_id WHERE m.identity = $1 AND r.payload = convert_to($2, 'UTF8')",
		    2, params)) != 1;
	}
	return missing;
}

Test(server, every_acknowledged_report_is_stored_and_only_those)
{
	static struct pump p;
	int stored;

	st_client(&p.c, 10, st_port());
	cr_assert_eq(cli_handshake(&p.c, NULL, 0), M2M_OK);
	p.c.timeout_ms = 1000;
	for (p.sent = 0; p.sent < 300; p.sent++) {
		char payload[32];
		uint64_t seq;
		int n = snprintf(payload, sizeof(payload), "n=%d", p.sent);

		cr_assert_eq(cli_data(&p.c, (const uint8_t *)payload, (size_t)n, &seq), M2M_OK);
		p.acked[p.sent] = 1;
		p.acked_n++;
	}
	cr_assert_eq(stored_check(&p, &stored), 0);
	cr_assert_eq(stored, p.acked_n, "stored %d, acknowledged %d", stored, p.acked_n);
	cli_close(&p.c);
}

Test(server, sigterm_under_load_loses_nothing_acknowledged)
{
	static struct pump p[4];
	pthread_t t[4];
	int port = st_port() + 30, stored, acked = 0;
	pid_t pid = st_start_m2md("term.conf", port, 3, NULL);

	for (int i = 0; i < 4; i++) {
		st_client(&p[i].c, 11 + (size_t)i, port);
		cr_assert_eq(cli_handshake(&p[i].c, NULL, 0), M2M_OK);
		cr_assert_eq(pthread_create(&t[i], NULL, pump_main, &p[i]), 0);
	}
	usleep(400000);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0, "m2md exits 0 after SIGTERM");
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(stored_check(&p[i], &stored), 0, "an acknowledged report is missing");
		cr_assert_geq(stored, p[i].acked_n);
		cr_assert_leq(stored, p[i].sent + 1, "nothing stored that was never sent");
		acked += p[i].acked_n;
		cli_close(&p[i].c);
	}
	cr_log_info("SIGTERM under load: %d reports acknowledged, all stored", acked);
	cr_assert_gt(acked, 0);
}

Test(server, m2mctl_takes_token_settings_from_the_server_configuration)
{
	char cmd[1024];
	const char *clean = "env -u M2M_PKCS11_MODULE -u M2M_TOKEN -u M2M_KEY -u M2M_PIN_FILE"
	    " -u M2M_CONFIG";

	snprintf(cmd, sizeof(cmd), "%s '%s/m2mctl' -c '%s' hsm list >/dev/null 2>&1", clean,
	    TEST_BUILDDIR, st_path("m2md.conf"));
	cr_assert_eq(WEXITSTATUS(system(cmd)), 0, "%s", cmd);
	snprintf(cmd, sizeof(cmd), "%s M2M_CONFIG=/nonexistent '%s/m2mctl' hsm list >/dev/null 2>&1",
	    clean, TEST_BUILDDIR);
	cr_assert_neq(WEXITSTATUS(system(cmd)), 0, "without the file it has no token settings");
}

/* Runs m2md -f on a config that cannot work: it must exit 1 at once with
 * the cause, not start and drop every handshake. */
static int
start_fails(const char *conf, char *out, size_t len)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "timeout 20 '%s/m2md' -f -c '%s' 2>&1", TEST_BUILDDIR, conf);
	return st_capture(cmd, out, len);
}

Test(server, start_with_broken_configuration_exits_with_the_cause)
{
	char conf[2048], out[4096];

	snprintf(conf, sizeof(conf), "[server]\nlisten = 127.0.0.1:%d\n[hsm]\nmodule = %s\n"
	    "token = m2m\nkey = server-1\npin_file = %s\n[database]\n"
	    "conninfo = host=127.0.0.1 port=1 connect_timeout=2\n", st_port() + 40,
	    getenv("SOFTHSM2_MODULE"), st_path("pin"));
	cr_assert_eq(start_fails(st_write("start-no-db.conf", conf), out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "127.0.0.1"), "names the database: %s", out);
	st_write("start-wrong.pin", "9999\n");
	snprintf(conf, sizeof(conf), "[server]\nlisten = 127.0.0.1:%d\n[hsm]\nmodule = %s\n"
	    "token = m2m\nkey = server-1\npin_file = %s\n", st_port() + 40,
	    getenv("SOFTHSM2_MODULE"), st_path("start-wrong.pin"));
	cr_assert_eq(start_fails(st_write("start-wrong-pin.conf", conf), out, sizeof(out)), 1,
	    "%s", out);
	cr_assert_not_null(strstr(out, "PIN"), "names the PIN: %s", out);
}
