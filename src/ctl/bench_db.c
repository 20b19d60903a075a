/* SPDX-License-Identifier: Apache-2.0 */
/* m2mctl bench db: rows/s committed by the group-commit writer at batch
 * sizes 1, 16, 128 and 1024, and lookups/s, against a migrated database
 * (use a scratch one: it enrolls bench modules and deletes them after). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "src/ctl/ctl.h"
#include "src/ctl/ctl_db.h"
#include "src/ctl/bench_db.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
state_cb(void *arg, enum m2m_err err, const char *detail)
{
	struct bench_db *b = arg;

	if (err != M2M_OK && b->verbose)
		fprintf(stderr, "m2mctl: %s\n", detail);
}

/* Runs the loop until the connection is up (or 10 s passed). */
static enum m2m_err
connect_async(struct bench_db *b, unsigned batch)
{
	struct db_settings s;
	char err[CTL_ERRLEN] = "";
	enum m2m_err e;
	double t0;

	db_settings_init(&s);
	if ((e = db_settings_conninfo(&s, b->dbarg, err, sizeof(err))) != M2M_OK)
		return ctl_db_fail(e, err), e;
	s.batch_max = batch;
	s.batch_delay_us = 200;
	s.queue_max = 1u << 22;
	if ((e = db_async_new(b->base, &s, state_cb, b, &b->db, err, sizeof(err))) != M2M_OK)
		return ctl_db_fail(e, err), e;
	/* Not loopexit: its timer would outlive this call and cut a run short. */
	t0 = now_s();
	while (!db_async_up(b->db) && now_s() - t0 < 10)
		event_base_loop(b->base, EVLOOP_ONCE);
	if (!db_async_up(b->db)) {
		db_async_free(b->db);
		b->db = NULL;
		ctl_errx("database not reachable from the event loop, or schema missing");
		return M2M_E_DB_CONNECT;
	}
	return M2M_OK;
}

static void
write_cb(void *arg, enum m2m_err err, const struct db_write_result *r)
{
	struct bench_db *b = arg;

	b->done++;
	b->failed += err != M2M_OK;
	if (err != M2M_OK && b->verbose)
		fprintf(stderr, "m2mctl: write: %s: %s\n", m2m_strerror(err), r->detail);
	if (b->done == b->target)
		event_base_loopbreak(b->base);
}

/* N data items (one report row each), all queued at once. */
static double
bench_writes(struct bench_db *b, unsigned batch, long n)
{
	struct db_data d;
	uint8_t payload[64];
	double t0;
	long i;

	if (connect_async(b, batch) != M2M_OK)
		return -1;
	memset(&d, 0, sizeof(d));
	memset(payload, 0x5a, sizeof(payload));
	d.payload = payload;
	d.payload_len = sizeof(payload);
	b->done = b->failed = 0;
	b->target = n;
	t0 = now_s();
	for (i = 0; i < n; i++) {
		d.module_id = b->ids[i % b->nmod];
		d.seq = (uint64_t)i + 1;
		if (db_write_data(b->db, &d, write_cb, b) != M2M_OK)
			b->target--, b->failed++;
	}
	if (b->done < b->target)
		event_base_dispatch(b->base);
	t0 = now_s() - t0;
	db_async_free(b->db);
	b->db = NULL;
	return b->failed > 0 ? -1 : (double)n / t0;
}

static void
lookup_cb(void *arg, enum m2m_err err, const struct db_module *m)
{
	struct bench_db *b = arg;

	(void)m;
	b->done++;
	b->failed += err != M2M_OK;
	if (err != M2M_OK && b->verbose)
		fprintf(stderr, "m2mctl: lookup: %s\n", m2m_strerror(err));
	if (b->sent < b->target) {
		b->sent++;
		if (db_lookup_pseudonym(b->db, b->ps[b->sent % b->nmod], PROTO_PSEUDONYM_LEN,
		    lookup_cb, b) != M2M_OK)
			b->failed++, b->done++;
	}
	if (b->done >= b->target)
		event_base_loopbreak(b->base);
}

/* n lookups by pseudonym, with depth outstanding at any time. */
static double
bench_lookups(struct bench_db *b, long n, long depth)
{
	double t0;
	long i;

	if (connect_async(b, 1) != M2M_OK)
		return -1;
	b->done = b->failed = 0;
	b->target = n;
	b->sent = depth < n ? depth : n;
	t0 = now_s();
	for (i = 0; i < b->sent; i++)
		if (db_lookup_pseudonym(b->db, b->ps[i % b->nmod], PROTO_PSEUDONYM_LEN,
		    lookup_cb, b) != M2M_OK)
			b->failed++, b->done++;
	event_base_dispatch(b->base);
	t0 = now_s() - t0;
	db_async_free(b->db);
	b->db = NULL;
	return b->failed > 0 ? -1 : (double)n / t0;
}

static int
report(struct bench_db *b)
{
	static const unsigned sizes[] = { 1, 16, 128, 1024 };
	static const long depths[] = { 1, 64, 512 };
	double r;
	size_t i;

	printf("%-34s %12s\n", "group commit (64-byte reports)", "rows/s");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		long n = sizes[i] == 1 ? b->rows / 10 : b->rows;

		if ((r = bench_writes(b, sizes[i], n)) < 0)
			return ctl_db_fail(M2M_E_DB_BATCH, "writes failed"), 1;
		printf("  batch %-4u (%7ld rows)%11s %12.0f\n", sizes[i], n, "", r);
	}
	printf("%-34s %12s\n", "lookups by pseudonym", "lookups/s");
	for (i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		if ((r = bench_lookups(b, b->lookups, depths[i])) < 0)
			return ctl_db_fail(M2M_E_DB_QUERY, "lookups failed"), 1;
		printf("  %-4ld in flight (%7ld lookups)%4s %12.0f\n", depths[i], b->lookups, "", r);
	}
	return 0;
}

int
ctl_bench_db(int argc, char **argv)
{
	static const struct option opts[] = { CTL_DB_LONGOPTS,
		{ "rows", required_argument, NULL, 'r' }, { "lookups", required_argument, NULL, 'l' },
		{ "modules", required_argument, NULL, 'm' }, { NULL, 0, NULL, 0 } };
	struct bench_db b;
	int c, rc = 1;

	memset(&b, 0, sizeof(b));
	b.rows = 20480;
	b.lookups = 50000;
	b.nmod = 1000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		switch (c) {
		case 'd': b.dbarg = optarg; break;
		case 'r': b.rows = ctl_number(optarg, 100000000); break;
		case 'l': b.lookups = ctl_number(optarg, 100000000); break;
		case 'm': b.nmod = ctl_number(optarg, 1000000); break;
		case 'v': b.verbose = 1; break;
		case 'h':
			printf("usage: m2mctl bench db [--rows N] [--lookups N] [--modules N]\n"
			    CTL_DB_USAGE);
			return 0;
		default: return 2;
		}
	}
	if (b.rows < 10 || b.lookups == 0 || b.nmod == 0 || optind != argc) {
		ctl_errx("bench db: bad option (rows >= 10, lookups and modules > 0)");
		return 2;
	}
	if ((b.base = event_base_new()) == NULL)
		return ctl_db_fail(M2M_E_NOMEM, NULL);
	if (bench_db_setup(&b) == M2M_OK)
		rc = report(&b);
	bench_db_cleanup(&b);
	event_base_free(b.base);
	return rc;
}
