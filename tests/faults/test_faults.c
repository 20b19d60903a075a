/* SPDX-License-Identifier: Apache-2.0 */
/* Faults under a running m2md, each test with its own server process, real
 * PostgreSQL, real SoftHSM2 token (behind the test PKCS#11 module where the
 * HSM misbehaves), and real clients on the protocol core:
 *  - PostgreSQL stopped and started again during a load run: m2md keeps
 *    answering what needs no database, reconnects by itself, and every
 *    report it acknowledged before, during and after is in the database,
 *    and no module is left holding a pseudonym the database does not
 *    accept (tests/server/lockout.c);
 *  - the HSM failing (device removed, derive errors) and slow: handshakes
 *    fail cleanly meanwhile and succeed again after, same m2md process;
 *  - a commit held up in PostgreSQL: the lookups of other handshakes go on
 *    (they have their own connection), and both finish once it is free.
 * Assertions are about behaviour; the figures are printed. */
#include "config.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "tests/faults/faults.h"
#include "tests/server/lockout.h"

/* ---- PostgreSQL restarted under load ---- */

#define PG_THREADS	8
#define PG_ACKED_MAX	200000

enum phase { BEFORE, DURING, AFTER, PHASES };
static const char *const phase_name[] = { "before", "during", "after" };

static struct {
	pthread_mutex_t mu;
	char **acked;			/* payloads whose WELCOME or DATA_ACK came */
	size_t n;
	unsigned by_phase[PHASES], failed[PHASES];
	atomic_int phase, stop;
	struct proto_mod_creds held[PG_THREADS + 2];	/* what each module ends with */
	const char *creds;
	int port;
} pg = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void
acked(const char *payload, int ok)
{
	int ph = atomic_load(&pg.phase);

	pthread_mutex_lock(&pg.mu);
	if (ok && pg.n < PG_ACKED_MAX) {
		pg.acked[pg.n++] = strdup(payload);
		pg.by_phase[ph]++;
	} else if (!ok) {
		pg.failed[ph]++;
	}
	pthread_mutex_unlock(&pg.mu);
}

/* One module: handshake (first data), then DATA until something fails,
 * then a new handshake. Every payload is unique; only what m2md answered
 * counts as acknowledged. */
static void *
pg_load(void *arg)
{
	size_t idx = (size_t)(uintptr_t)arg;
	char payload[64];
	struct cli c;
	uint64_t seq;
	unsigned n = 0;
	int up = 0, ok;

	st_open(&c, pg.creds, idx, pg.port);
	c.timeout_ms = 1000;
	while (!atomic_load(&pg.stop)) {
		snprintf(payload, sizeof(payload), "%c-%zu-%u", up ? 'd' : 'h', idx, n++);
		if (!up)
			ok = cli_handshake(&c, (const uint8_t *)payload, strlen(payload)) == M2M_OK;
		else
			ok = cli_data(&c, (const uint8_t *)payload, strlen(payload), &seq) == M2M_OK;
		acked(payload, ok);
		up = ok;
		if (!ok) {
			usleep(50000);
			cli_rebind(&c);		/* a late answer must not be taken for the next */
		}
	}
	pg.held[idx] = c.cr;
	cli_close(&c);
	return NULL;
}

static void
pg_ctl(const char *action)
{
	char cmd[256];

	/* pg_virtualenv's cluster: the only one pg_lsclusters lists here. */
	snprintf(cmd, sizeof(cmd), "pg_ctlcluster $(pg_lsclusters -h | awk 'NR==1 {print $1, $2}')"
	    " %s %s >/dev/null 2>&1", action, strcmp(action, "stop") == 0 ? "-m fast" : "");
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* The acknowledged payloads missing from the reports table. */
static long
missing_reports(void)
{
	size_t len = 3;
	char *arr, *p;
	const char *params[1];
	long missing;

	for (size_t i = 0; i < pg.n; i++)
		len += strlen(pg.acked[i]) + 1;
	cr_assert_not_null(arr = malloc(len));
	p = arr;
	*p++ = '{';
	for (size_t i = 0; i < pg.n; i++)
		p += sprintf(p, "%s%s", i ? "," : "", pg.acked[i]);
	strcpy(p, "}");
	params[0] = arr;
	missing = atol(st_sql("SELECT count(*) FROM unnest($1::text[]) a(p) WHERE NOT EXISTS"
	    " (SELECT 1 FROM reports r WHERE r.payload = convert_to(a.p, 'UTF8'))", 1, params));
	if (missing > 0)
		printf("missing: %s\n", st_sql("SELECT string_agg(a.p, ' ') FROM (SELECT p FROM"
		    " unnest($1::text[]) a(p) WHERE NOT EXISTS (SELECT 1 FROM reports r WHERE"
		    " r.payload = convert_to(a.p, 'UTF8')) LIMIT 20) a", 1, params));
	free(arr);
	return missing;
}

static void
wait_db_up(int mport, double want, double secs)
{
	double t0 = ft_now();

	while (st_metric(mport, "m2md_db_up", NULL) != want && ft_now() - t0 < secs)
		usleep(50000);
	cr_assert_eq(st_metric(mport, "m2md_db_up", NULL), want, "m2md_db_up never became %g",
	    want);
}

/* A DATA the outage kept from being stored, resent byte for byte after it:
 * answered for its own seq, and stored once. */
static void
resend_after_outage(struct cli *c, const uint8_t *rec, size_t len, uint64_t seq)
{
	uint8_t in[PROTO_DATAGRAM_MAX], pt[PROTO_DATAGRAM_MAX];
	struct proto_record r;
	struct proto_ack_pt ack;
	size_t m, ptlen;

	cr_assert_eq(cli_send(c, rec, len), M2M_OK);
	cr_assert_eq(cli_recv(c, in, sizeof(in), &m), M2M_OK, "the resend is answered");
	cr_assert_eq(proto_record_decode(in, m, &r), M2M_OK);
	cr_assert_eq(proto_session_open(c->ctx, &c->s, &r, in, pt, sizeof(pt), &ptlen), M2M_OK);
	cr_assert_eq(proto_ack_pt_decode(PROTO_DATA_ACK, pt, ptlen, &ack), M2M_OK);
	cr_assert_eq(ack.acked_seq, seq);
	cr_assert_str_eq(st_sql("SELECT count(*) FROM reports WHERE payload = 'kept back'", 0,
	    NULL), "1");
}

Test(faults, postgres_restart_under_load_loses_no_acknowledged_report, .timeout = 90)
{
	pthread_t t[PG_THREADS];
	struct cli probe, early;
	uint8_t auth[PROTO_DATAGRAM_MAX], kept[PROTO_DATAGRAM_MAX];
	char ids[512] = "";
	size_t n, kept_len;
	uint64_t kept_seq;
	unsigned during_before;
	pid_t pid;
	int mport;

	pg.port = ft_port(1);
	mport = pg.port + 1;
	pg.creds = st_enroll("creds-pg", PG_THREADS + 2);
	cr_assert_not_null(pg.acked = calloc(PG_ACKED_MAX, sizeof(char *)));
	pid = ft_start_m2md("m2md-pg.conf", pg.port,
	    "[limits]\nsource_rate = 1000000\nsource_burst = 1000000\n"
	    "pseudonym_rate = 1000\npseudonym_burst = 1000\n");
	for (size_t i = 0; i < PG_THREADS; i++)
		pthread_create(&t[i], NULL, pg_load, (void *)(uintptr_t)i);
	st_open(&early, pg.creds, PG_THREADS + 1, pg.port);
	cr_assert_eq(cli_handshake(&early, NULL, 0), M2M_OK);
	sleep(3);
	atomic_store(&pg.phase, DURING);
	pg_ctl("stop");
	/* Down: the load goes on failing; what needs no database still works. */
	sleep(1);
	wait_db_up(mport, 0, 10);
	early.timeout_ms = 500;
	cr_assert_eq(cli_data(&early, (const uint8_t *)"kept back", 9, &kept_seq), M2M_E_IO,
	    "no DATA_ACK while the database is down");
	memcpy(kept, early.last, early.last_len);
	kept_len = early.last_len;
	st_open(&probe, pg.creds, PG_THREADS, pg.port);
	cr_assert_eq(cli_hello(&probe, NULL, 0, auth, &n), M2M_OK,
	    "HELLO answered with a CHALLENGE while the database is down");
	pg.held[PG_THREADS] = probe.cr;
	cli_close(&probe);
	sleep(2);
	pg_ctl("start");
	wait_db_up(mport, 2, 20);
	early.timeout_ms = 5000;
	resend_after_outage(&early, kept, kept_len, kept_seq);
	pg.held[PG_THREADS + 1] = early.cr;
	cli_close(&early);
	during_before = pg.by_phase[DURING];
	atomic_store(&pg.phase, AFTER);
	sleep(3);
	atomic_store(&pg.stop, 1);
	for (size_t i = 0; i < PG_THREADS; i++)
		pthread_join(t[i], NULL);
	for (int ph = 0; ph < PHASES; ph++)
		printf("postgres restart: %s: %u acknowledged, %u unanswered\n", phase_name[ph],
		    pg.by_phase[ph], pg.failed[ph]);
	printf("postgres restart: m2md_handshakes_failed_total %g, reconnected workers %g\n",
	    st_metric(mport, "m2md_handshakes_failed_total", NULL),
	    st_metric(mport, "m2md_db_up", NULL));
	cr_assert(ft_alive(pid), "m2md survived the restart");
	cr_assert_gt(pg.by_phase[BEFORE], 0);
	cr_assert_gt(pg.failed[DURING], 0, "the outage was seen by the load");
	cr_assert_gt(pg.by_phase[AFTER], 0, "m2md serves again after reconnecting");
	(void)during_before;
	cr_assert_eq(missing_reports(), 0, "every acknowledged report is stored");
	cr_assert_eq(st_locked_out(pg.held, PG_THREADS + 2, ids, sizeof(ids)), 0,
	    "modules left holding a pseudonym the database does not accept: %s", ids);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}

/* ---- a commit held up: lookups go on ---- */

struct blocked {
	struct cli c;
	const uint8_t *auth;		/* NULL: a DATA */
	size_t auth_len;
	enum m2m_err err;
};

static void *
blocked_main(void *arg)
{
	struct blocked *b = arg;
	uint64_t seq;

	b->c.timeout_ms = 20000;
	b->err = b->auth != NULL ? cli_auth(&b->c, b->auth, b->auth_len) :
	    cli_data(&b->c, (const uint8_t *)"held", 4, &seq);
	return NULL;
}

static double
wait_metric_above(int mport, const char *name, double than, double secs)
{
	double t0 = ft_now(), v;

	while ((v = st_metric(mport, name, NULL)) <= than && ft_now() - t0 < secs)
		usleep(20000);
	return v;
}

/* One worker, so the DATA's commit and the second module's lookup meet on
 * the same worker; a lock on reports holds the commit. */
Test(faults, lookups_are_not_held_behind_a_commit, .timeout = 60)
{
	const char *creds = st_enroll("creds-lk", 2);
	int port = ft_port(10), mport = port + 1;
	struct blocked data = { 0 }, hs = { 0 };
	uint8_t auth[PROTO_DATAGRAM_MAX];
	pthread_t td, th;
	struct db_admin *a;
	char out[64], err[256];
	double derives;
	pid_t pid;

	pid = ft_start_m2md("m2md-lk.conf", port, "[server]\nworkers = 1\n");
	st_open(&data.c, creds, 0, port);
	cr_assert_eq(cli_handshake(&data.c, NULL, 0), M2M_OK);

	cr_assert_eq(db_admin_open("", &a, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(db_admin_begin(a, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(db_admin_exec(a, "LOCK TABLE reports IN EXCLUSIVE MODE", 0, NULL, out,
	    sizeof(out), NULL, err, sizeof(err)), M2M_OK, "%s", err);
	pthread_create(&td, NULL, blocked_main, &data);
	for (int i = 0; i < 250 && atoi(st_sql("SELECT count(*) FROM pg_locks WHERE NOT granted",
	    0, NULL)) == 0; i++)
		usleep(20000);
	cr_assert_gt(atoi(st_sql("SELECT count(*) FROM pg_locks WHERE NOT granted", 0, NULL)), 0,
	    "the DATA's commit waits for the lock");

	derives = st_metric(mport, "m2md_hsm_derives_total", NULL);
	st_open(&hs.c, creds, 1, port);
	cr_assert_eq(cli_hello(&hs.c, NULL, 0, auth, &hs.auth_len), M2M_OK);
	hs.auth = auth;
	pthread_create(&th, NULL, blocked_main, &hs);
	cr_assert_gt(wait_metric_above(mport, "m2md_hsm_derives_total", derives, 5), derives,
	    "the second module's lookup answered and its HSM step ran while a commit waits");

	db_admin_rollback(a);
	db_admin_close(a);
	pthread_join(td, NULL);
	pthread_join(th, NULL);
	cr_assert_eq(data.err, M2M_OK, "the DATA is acknowledged once the lock is gone");
	cr_assert_eq(hs.err, M2M_OK, "and the handshake welcomed");
	cli_close(&data.c);
	cli_close(&hs.c);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}

/* The idle-session sweep: a session with no record for the timeout ends
 * within one sweep cycle (8 s) after it, one that keeps sending stays; the
 * ended one's DATA is refused and its module's next handshake works. */
Test(faults, idle_sessions_end_and_active_ones_stay, .timeout = 60)
{
	const char *creds = st_enroll("creds-idle", 2);
	int port = ft_port(9), mport = port + 1;
	struct cli idle, busy;
	double unknown, t0, t;
	uint64_t seq;
	pid_t pid;

	pid = ft_start_m2md("m2md-idle.conf", port, "[limits]\nsession_idle_timeout = 5\n");
	st_open(&idle, creds, 0, port);
	st_open(&busy, creds, 1, port);
	cr_assert_eq(cli_handshake(&idle, NULL, 0), M2M_OK);
	cr_assert_eq(cli_handshake(&busy, NULL, 0), M2M_OK);
	t0 = ft_now();
	for (int i = 0; i < 20 && st_metric(mport, "m2md_sessions", NULL) != 2; i++)
		usleep(50000);
	cr_assert_eq(st_metric(mport, "m2md_sessions", NULL), 2);
	while ((t = ft_now() - t0) < 20 && st_metric(mport, "m2md_sessions", NULL) == 2) {
		cr_assert_eq(cli_data(&busy, (const uint8_t *)"alive", 5, &seq), M2M_OK,
		    "the active session stays (%.1f s)", t);
		usleep(500000);
	}
	cr_assert_eq(st_metric(mport, "m2md_sessions", NULL), 1,
	    "the idle session ended within the timeout and a sweep cycle (%.1f s)", t);
	cr_assert_geq(t, 4.0, "not before its timeout (%.1f s)", t);

	unknown = st_metric(mport, "m2md_drops_total", "M2M_E_SRV_UNKNOWN_SESSION");
	idle.timeout_ms = 300;
	cr_assert_neq(cli_data(&idle, (const uint8_t *)"late", 4, &seq), M2M_OK);
	cr_assert_gt(st_metric(mport, "m2md_drops_total", "M2M_E_SRV_UNKNOWN_SESSION"), unknown);
	idle.timeout_ms = 2000;
	cr_assert_eq(cli_handshake(&idle, NULL, 0), M2M_OK, "a new handshake starts over");
	cr_assert_eq(cli_data(&busy, (const uint8_t *)"alive", 5, &seq), M2M_OK);
	cli_close(&idle);
	cli_close(&busy);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}

/* ---- HSM faults through the test PKCS#11 module ---- */

static void
shim_set(const char *ctl, const char *text)
{
	FILE *f = fopen(ctl, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	usleep(20000);		/* past the file system's mtime granularity */
}

/* One handshake of module idx; 1 when the WELCOME came. */
static int
handshake(const char *creds, size_t idx, int port, int timeout_ms, double *ms)
{
	struct cli c;
	double t0 = ft_now();
	int ok;

	st_open(&c, creds, idx, port);
	c.timeout_ms = timeout_ms;
	ok = cli_handshake(&c, (const uint8_t *)"hsm", 3) == M2M_OK;
	if (ms != NULL)
		*ms = (ft_now() - t0) * 1000;
	cli_close(&c);
	return ok;
}

#define HSM_REASON(r)	"reason=\"" r "\""

Test(faults, hsm_failures_fail_handshakes_cleanly_and_heal_without_restart, .timeout = 60)
{
	const char *creds = st_enroll("creds-hsm", 40);
	char ctl[512];
	int port = ft_port(2), mport = port + 1;
	double ms, f0, d0;
	size_t next = 0;
	int ok_after = -1;
	pid_t pid;

	snprintf(ctl, sizeof(ctl), "%s", st_path("shim.ctl"));
	shim_set(ctl, "M2M_SHIM_LATENCY_US=20000\n");
	pid = ft_start_shim_m2md("m2md-hsm.conf", port, ctl,
	    "[limits]\nsource_rate = 1000000\nsource_burst = 1000000\n");

	/* A slow HSM (20 ms per ECDH): slower, still correct. */
	for (int i = 0; i < 3; i++, next++) {
		cr_assert(handshake(creds, next, port, 5000, &ms), "with 20 ms HSM latency");
		printf("hsm: handshake with 20 ms injected latency: %.1f ms\n", ms);
		cr_assert_geq(ms, 20.0, "the latency went through the shim");
	}

	/* Device removed: every PKCS#11 call fails. */
	shim_set(ctl, "M2M_SHIM_LATENCY_US=0\nM2M_SHIM_DOWN=1\n");
	f0 = st_metric(mport, "m2md_handshakes_failed_total", HSM_REASON("M2M_E_HSM_TOKEN_FAILED"));
	for (int i = 0; i < 4; i++, next++)
		cr_assert_not(handshake(creds, next, port, 700, NULL), "no WELCOME while the HSM is down");
	cr_assert_geq(st_metric(mport, "m2md_handshakes_failed_total",
	    HSM_REASON("M2M_E_HSM_TOKEN_FAILED")) - f0, 4, "each failure counted with its reason");
	cr_assert_eq(st_metric(mport, "m2md_hsm_token_ok", NULL), 0);
	cr_assert(ft_alive(pid));

	/* Back: the pool reopens its sessions (backoff at most 1 s) by itself. */
	shim_set(ctl, "M2M_SHIM_DOWN=0\n");
	for (int i = 0; i < 10 && ok_after < 0; i++, next++)
		if (handshake(creds, next, port, 2000, NULL))
			ok_after = i;
		else
			usleep(300000);
	cr_assert_geq(ok_after, 0, "handshakes succeed again once the HSM is back");
	printf("hsm: first success %d attempt(s) after the token came back\n", ok_after + 1);
	for (int i = 0; i < 3; i++, next++)
		cr_assert(handshake(creds, next, port, 5000, NULL));
	cr_assert_eq(st_metric(mport, "m2md_hsm_token_ok", NULL), 1);

	/* Three derives refused (not a token failure): exactly the next three
	 * handshakes fail, the fourth succeeds. */
	d0 = st_metric(mport, "m2md_hsm_derive_failed_total", NULL);
	shim_set(ctl, "M2M_SHIM_FAIL_RV=0x68\nM2M_SHIM_FAIL_DERIVE=3\n");
	for (int i = 0; i < 3; i++, next++)
		cr_assert_not(handshake(creds, next, port, 700, NULL), "derive %d refused", i);
	cr_assert_eq(st_metric(mport, "m2md_hsm_derive_failed_total", NULL) - d0, 3);
	cr_assert(handshake(creds, next++, port, 5000, NULL), "the next derive works");
	cr_assert(ft_alive(pid), "the same m2md process all along");
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}
