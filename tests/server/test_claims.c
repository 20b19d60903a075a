/* SPDX-License-Identifier: Apache-2.0 */
/* Where the server and doc/protocol.md used to disagree, end to end on the
 * running m2md: sequence numbers of 2^63 and above are stored, empty
 * payloads store no row, a malformed REKEY is dropped unanswered, and a
 * half-open slot is free as soon as its handshake ends, with the table's
 * and the inbox's fullness counted apart. Each test enrolls its own
 * modules. */
#include "config.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/server/srvtest.h"

#define MPORT	(st_port() + 1)

/* A module enrolled for this test alone (file NAME in the world). */
static void
fresh(struct cli *c, const char *name, int port)
{
	struct proto_mod_creds cr;
	char args[640];
	const char *path = st_path(name);

	snprintf(args, sizeof(args), "enroll --count 1 --out '%s' --prefix %s-", path, name);
	cr_assert_eq(st_m2mctl(args), 0, "%s", args);
	cr_assert_eq(cli_creds(path, 0, &cr), M2M_OK);
	cr_assert_eq(cli_open(c, ST_HOST, port, &cr), M2M_OK);
}

static const char *
rows(const struct cli *c, const char *what)
{
	char id[PROTO_IDENTITY_MAX + 1], sql[512];
	const char *p[] = { id };

	memcpy(id, c->cr.identity, c->cr.identity_len);
	id[c->cr.identity_len] = '\0';
	snprintf(sql, sizeof(sql), "SELECT coalesce(string_agg(%s, ',' ORDER BY r.id), '')"
	    " FROM reports r JOIN modules m ON m.id = r.module_id WHERE m.identity = $1", what);
	return st_sql(sql, 1, p);
}

static double
drops(int mport, const char *reason)
{
	char label[96];

	snprintf(label, sizeof(label), "\"%s\"", reason);
	return st_metric(mport, "m2md_drops_total", label);
}

/* Waits until the drop counter of reason reaches want (a database or HSM
 * step may come first). */
static void
await_drops(int mport, const char *reason, double want)
{
	for (int i = 0; i < 200 && drops(mport, reason) < want; i++)
		usleep(25000);
	cr_assert_eq(drops(mport, reason), want, "%s", reason);
}

/* doc/protocol.md 5 and 10.4: sequence numbers run to 2^64 - 2; reports.seq
 * keeps their 64 bits (migration 013) and m2m_seq() reads them back. */
Test(claims, data_seq_2_63_and_above_is_stored)
{
	struct cli c;
	uint64_t seq;

	fresh(&c, "cl-seq", st_port());
	cr_assert_eq(cli_handshake(&c, (const uint8_t *)"0", 1), M2M_OK);
	c.s.tx_next = (uint64_t)1 << 63;
	cr_assert_eq(cli_data(&c, (const uint8_t *)"a", 1, &seq), M2M_OK, "2^63 is acknowledged");
	c.s.tx_next = UINT64_MAX - 1;
	cr_assert_eq(cli_data(&c, (const uint8_t *)"b", 1, &seq), M2M_OK, "2^64 - 2 too");
	cr_assert_str_eq(rows(&c, "m2m_seq(r.seq)::text || ':' || convert_from(r.payload, 'UTF8')"),
	    "0:0,9223372036854775808:a,18446744073709551614:b");
	cli_close(&c);
}

/* doc/protocol.md 10.4, doc/applications.md: a DATA or first data with an
 * empty payload is acknowledged (its confirmations count) but stores no
 * row. */
Test(claims, empty_payload_is_acknowledged_and_stores_no_row)
{
	struct cli c;
	uint64_t seq;

	fresh(&c, "cl-empty", st_port());
	cr_assert_eq(cli_handshake(&c, NULL, 0), M2M_OK);
	cr_assert_eq(cli_data(&c, NULL, 0, &seq), M2M_OK, "an empty DATA is acknowledged");
	cr_assert_str_eq(rows(&c, "r.seq::text"), "", "no row for either");
	cr_assert_eq(cli_data(&c, (const uint8_t *)"x", 1, &seq), M2M_OK);
	cr_assert_str_eq(rows(&c, "r.seq::text"), "2");
	cli_close(&c);
}

/* Seals a REKEY with plaintext pt; expects no answer. */
static void
rekey_unanswered(struct cli *c, const uint8_t *pt, size_t len)
{
	uint8_t out[PROTO_DATAGRAM_MAX], in[PROTO_DATAGRAM_MAX];
	size_t n, m;
	uint64_t seq;

	cr_assert_eq(proto_session_seal(c->ctx, &c->s, PROTO_REKEY, pt, len, out, sizeof(out),
	    &n, &seq), M2M_OK);
	cr_assert_eq(cli_send(c, out, n), M2M_OK);
	c->timeout_ms = 400;
	cr_assert_eq(cli_recv(c, in, sizeof(in), &m), M2M_E_IO, "no REKEY_ACK");
	c->timeout_ms = 5000;
}

/* doc/protocol.md 6.5, 10.4 and 13: a REKEY whose plaintext is not 33
 * bytes is dropped as M2M_E_PROTO_PAYLOAD, one that is not a point as
 * M2M_E_PROTO_POINT; neither is answered, and the session goes on. */
Test(claims, malformed_rekey_is_dropped_and_not_answered)
{
	struct cli c;
	uint8_t pt[PROTO_POINT_LEN + 1];
	uint64_t seq;
	double payload = drops(MPORT, "M2M_E_PROTO_PAYLOAD");
	double point = drops(MPORT, "M2M_E_PROTO_POINT");

	fresh(&c, "cl-rekey", st_port());
	cr_assert_eq(cli_handshake(&c, (const uint8_t *)"0", 1), M2M_OK);
	memcpy(pt, c.cr.pub, PROTO_POINT_LEN);
	rekey_unanswered(&c, pt, PROTO_POINT_LEN - 1);
	await_drops(MPORT, "M2M_E_PROTO_PAYLOAD", payload + 1);
	rekey_unanswered(&c, pt, sizeof(pt));
	await_drops(MPORT, "M2M_E_PROTO_PAYLOAD", payload + 2);
	pt[0] = 0x05;		/* neither 02 nor 03 */
	rekey_unanswered(&c, pt, PROTO_POINT_LEN);
	await_drops(MPORT, "M2M_E_PROTO_POINT", point + 1);
	cr_assert_eq(cli_data(&c, (const uint8_t *)"on", 2, &seq), M2M_OK, "the session goes on");
	cli_close(&c);
}

/* doc/protocol.md 1: every answer goes to the source address and port of
 * the datagram it answers, whatever the state remembers: the HELLO's
 * CHALLENGE, the AUTH's WELCOME and each record's acknowledgement each
 * reach the socket that sent them. */
Test(claims, answers_go_to_the_source_of_what_they_answer)
{
	struct cli c;
	uint8_t auth[PROTO_DATAGRAM_MAX], status;
	size_t n;
	uint64_t seq;

	fresh(&c, "cl-src", st_port());
	cr_assert_eq(cli_hello(&c, (const uint8_t *)"0", 1, auth, &n), M2M_OK);
	cr_assert_eq(cli_rebind(&c), M2M_OK);
	cr_assert_eq(cli_auth(&c, auth, n), M2M_OK, "the WELCOME reaches the AUTH's port");
	cr_assert_eq(cli_rebind(&c), M2M_OK);
	cr_assert_eq(cli_data(&c, (const uint8_t *)"a", 1, &seq), M2M_OK, "the DATA_ACK too");
	cr_assert_eq(cli_rebind(&c), M2M_OK);
	cr_assert_eq(cli_rekey(&c, &status), M2M_OK, "and the REKEY_ACK");
	cr_assert_eq(status, 0);
	cli_close(&c);
}

/* ---- the half-open table: slots, and the two kinds of full ---- */

#define HO_PORT		(st_port() + 200)
#define HO_LIMITS	"[limits]\nhalf_open_max = 16\nhalf_open_timeout = 120\n" \
	"retry_above = 16777216\nsource_rate = 100000\nsource_burst = 100000\n" \
	"pseudonym_rate = 100000\npseudonym_burst = 100000\nhsm_source_rate = 100000\n" \
	"hsm_source_burst = 100000\n"

/* HELLOs with a pseudonym no module has, from one socket, until one gets
 * no CHALLENGE; the AUTHs the CHALLENGEs earned go to auth[]. */
static size_t
fill(struct cli *c, uint8_t auth[][PROTO_DATAGRAM_MAX], size_t *auth_len, size_t cap)
{
	size_t n = 0;

	c->timeout_ms = 400;
	while (n < cap && cli_hello(c, (const uint8_t *)"", 0, auth[n], &auth_len[n]) == M2M_OK)
		n++;
	c->timeout_ms = 5000;
	return n;
}

/* doc/protocol.md 10.2, m2md.conf(5): a handshake that ends early (here:
 * three AUTHs whose pseudonym no module has, so the entry is dropped)
 * frees its slot for the next HELLO at once, not at its expiry; a HELLO
 * that finds every slot live is dropped as M2M_E_SRV_HALF_OPEN_FULL, not
 * M2M_E_FULL (which also meant a full inbox between workers). */
Test(claims, half_open_slot_is_free_when_its_handshake_ends)
{
	static uint8_t auth[20][PROTO_DATAGRAM_MAX];
	size_t len[20], n, again;
	struct cli c;
	double unknown;
	pid_t pid = st_start_m2md("cl-ho.conf", HO_PORT, 30, HO_LIMITS);
	int mport = HO_PORT + 1;

	st_client(&c, 0, HO_PORT);
	memset(c.cr.pseudonym, 0x5a, c.cr.pseudonym_len);
	n = fill(&c, auth, len, 20);
	cr_assert(n >= 8 && n < 20, "%zu CHALLENGEs before the table is full", n);
	cr_assert_geq(drops(mport, "M2M_E_SRV_HALF_OPEN_FULL"), 1);
	cr_assert_eq(drops(mport, "M2M_E_FULL"), 0);
	unknown = drops(mport, "M2M_E_PROTO_UNKNOWN_MODULE");
	for (int attempt = 0; attempt < PROTO_AUTH_ATTEMPTS; attempt++)
		for (size_t i = 0; i < n; i++) {
			cr_assert_eq(cli_send(&c, auth[i], len[i]), M2M_OK);
			unknown++;
			await_drops(mport, "M2M_E_PROTO_UNKNOWN_MODULE", unknown);
		}
	for (int i = 0; i < 100 && st_metric(mport, "m2md_half_open", NULL) != 0; i++)
		usleep(50000);
	cr_assert_eq(st_metric(mport, "m2md_half_open", NULL), 0, "every entry dropped");
	again = fill(&c, auth, len, 20);
	cr_assert_eq(again, n, "the freed slots take as many HELLOs again (%zu of %zu)", again, n);
	cli_close(&c);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}

/* ---- privacy ---- */

/* doc/security.md (a leaked database dump): reports.session_id is not the
 * session id that travels in clear, so a dump and recorded traffic cannot
 * be joined on it; it still names the session: the same for the reports of
 * one session, another for the next session. */
Test(claims, reports_do_not_store_the_wire_session_id)
{
	struct cli c;
	uint64_t seq;
	char wire[2][2 * PROTO_SESSION_ID_LEN + 1];
	const char *stored;

	fresh(&c, "cl-sid", st_port());
	for (int k = 0; k < 2; k++) {
		cr_assert_eq(cli_handshake(&c, (const uint8_t *)"0", 1), M2M_OK);
		cr_assert_eq(cli_data(&c, (const uint8_t *)"a", 1, &seq), M2M_OK);
		for (size_t i = 0; i < PROTO_SESSION_ID_LEN; i++)
			snprintf(wire[k] + 2 * i, 3, "%02x", c.s.id[i]);
	}
	stored = rows(&c, "encode(r.session_id, 'hex')");
	cr_log_info("wire %s %s, stored %s", wire[0], wire[1], stored);
	cr_assert_null(strstr(stored, wire[0]), "the first session's wire id is not stored");
	cr_assert_null(strstr(stored, wire[1]), "nor the second's");
	cr_assert_eq(strlen(stored), 4 * 16 + 3);
	cr_assert_eq(strncmp(stored, stored + 17, 16), 0, "one id for the reports of a session");
	cr_assert_neq(strncmp(stored, stored + 34, 16), 0, "another for the next session");
	cr_assert_eq(strncmp(stored + 34, stored + 51, 16), 0);
	cli_close(&c);
}

/* doc/protocol.md 12.1: whoever drops every WELCOME freezes the module's
 * pseudonym: each retry presents the same one (linkable), which the
 * server still takes as the previous one without rotating again, and the
 * first WELCOME that gets through carries the pseudonym the first commit
 * made current. Frozen, never locked out. */
Test(claims, dropped_welcomes_freeze_the_pseudonym_without_locking_out)
{
	struct cli c;
	uint8_t auth[PROTO_DATAGRAM_MAX], in[PROTO_DATAGRAM_MAX], first[PROTO_PSEUDONYM_MAX];
	uint8_t type;
	size_t n, m, first_len;
	char hex[2 * PROTO_PSEUDONYM_MAX + 1], cur[2][2 * PROTO_PSEUDONYM_MAX + 1];
	const char *p[1];

	fresh(&c, "cl-frozen", st_port());
	memcpy(first, c.cr.pseudonym, c.cr.pseudonym_len);
	first_len = c.cr.pseudonym_len;
	for (int k = 0; k < 3; k++) {
		cr_assert_eq(cli_hello(&c, (const uint8_t *)"0", 1, auth, &n), M2M_OK);
		cr_assert_eq(cli_send(&c, auth, n), M2M_OK);
		/* The WELCOME comes, and is "dropped": the module never opens it. */
		cr_assert_eq(cli_recv(&c, in, sizeof(in), &m), M2M_OK);
		cr_assert_eq(proto_peek(in, m, &type), M2M_OK);
		cr_assert_eq(type, PROTO_WELCOME);
		cr_assert_eq(c.cr.pseudonym_len, first_len);
		cr_assert_arr_eq(c.cr.pseudonym, first, first_len, "the same pseudonym every time");
		for (size_t i = 0; i < first_len; i++)
			snprintf(hex + 2 * i, 3, "%02x", first[i]);
		p[0] = hex;
		snprintf(cur[k > 0], sizeof(cur[0]), "%s", st_sql("SELECT encode(pseudonym, 'hex')"
		    " FROM modules WHERE previous_pseudonym = decode($1, 'hex')", 1, p));
		cr_assert_neq(cur[k > 0][0], '\0', "the presented one is the previous one");
		if (k > 0)
			cr_assert_str_eq(cur[1], cur[0], "no second rotation");
	}
	cr_assert_eq(cli_hello(&c, (const uint8_t *)"0", 1, auth, &n), M2M_OK);
	cr_assert_eq(cli_auth(&c, auth, n), M2M_OK, "a WELCOME let through completes");
	for (size_t i = 0; i < c.cr.pseudonym_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", c.cr.pseudonym[i]);
	cr_assert_str_eq(hex, cur[0], "with the pseudonym the first commit made current");
	cli_close(&c);
}

/* ---- bounded sessions ---- */

#define BOUND_PORT	(st_port() + 210)

/* A DATA that gets no answer on the ended session, then what a module
 * does: a new handshake, and the same data again there. */
static void
resend_in_a_new_session(struct cli *c, const char *payload)
{
	uint64_t seq;
	int timeout = c->timeout_ms;

	c->timeout_ms = 500;
	cr_assert_eq(cli_data(c, (const uint8_t *)payload, strlen(payload), &seq), M2M_E_IO,
	    "%s: no answer past the bound", payload);
	cr_assert_eq(cli_send(c, c->last, c->last_len), M2M_OK);	/* and its resend */
	cr_assert_eq(cli_recv(c, c->data, sizeof(c->data), &(size_t){0}), M2M_E_IO);
	c->timeout_ms = timeout;
	cr_assert_eq(cli_handshake(c, (const uint8_t *)"h", 1), M2M_OK, "a new handshake");
	cr_assert_eq(cli_data(c, (const uint8_t *)payload, strlen(payload), &seq), M2M_OK);
	cr_assert_eq(seq, 1, "in the new session");
}

/* doc/protocol.md 10.4, m2md.conf(5): a session takes session_max_records
 * records, and the next one ends it; the module continues in a new
 * session, and every report is stored once. */
Test(claims, session_ends_after_its_record_count)
{
	struct cli c;
	uint64_t seq;
	pid_t pid = st_start_m2md("cl-bound-n.conf", BOUND_PORT, 31,
	    "[limits]\nsession_max_records = 3\n");
	double ended = drops(BOUND_PORT + 1, "M2M_E_SRV_SESSION_LIMIT");

	fresh(&c, "cl-bound-n", BOUND_PORT);
	cr_assert_eq(cli_handshake(&c, (const uint8_t *)"h", 1), M2M_OK);
	for (int i = 1; i <= 3; i++)
		cr_assert_eq(cli_data(&c, (const uint8_t *)"abc" + i - 1, 1, &seq), M2M_OK);
	resend_in_a_new_session(&c, "d");
	cr_assert_eq(drops(BOUND_PORT + 1, "M2M_E_SRV_SESSION_LIMIT"), ended + 1,
	    "the first record past the bound ended the session");
	cr_assert_str_eq(rows(&c, "convert_from(r.payload, 'UTF8')"), "h,a,b,c,h,d");
	cli_close(&c);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}

/* The same for session_max_age. */
Test(claims, session_ends_at_its_maximum_age)
{
	struct cli c;
	uint64_t seq;
	pid_t pid = st_start_m2md("cl-bound-t.conf", BOUND_PORT + 5, 32,
	    "[limits]\nsession_max_age = 2\n");

	fresh(&c, "cl-bound-t", BOUND_PORT + 5);
	cr_assert_eq(cli_handshake(&c, (const uint8_t *)"h", 1), M2M_OK);
	cr_assert_eq(cli_data(&c, (const uint8_t *)"a", 1, &seq), M2M_OK);
	sleep(3);
	resend_in_a_new_session(&c, "b");
	cr_assert_eq(drops(BOUND_PORT + 6, "M2M_E_SRV_SESSION_LIMIT"), 1);
	cr_assert_str_eq(rows(&c, "convert_from(r.payload, 'UTF8')"), "h,a,h,b");
	cli_close(&c);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}
