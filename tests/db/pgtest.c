/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers of tests/db: per-test databases and SQL assertions. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/event.h>

#include "tests/db/pgtest.h"

void
pgt_fresh(char *conninfo, size_t len, struct db_admin **a)
{
	static int seq;
	char name[64], sql[128], err[1024] = "";
	struct db_admin *root;
	enum m2m_err e = M2M_OK;
	int i;

	/* with-pg set PGHOST, PGPORT, PGUSER, PGPASSWORD for the cluster. */
	cr_assert_eq(db_admin_open("", &root, err, sizeof(err)), M2M_OK, "%s", err);
	snprintf(name, sizeof(name), "m2mt_%ld_%d", (long)getpid(), seq++);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	/* Parallel tests may collide on the template database: retry. */
	for (i = 0; i < 50; i++) {
		if ((e = db_admin_exec(root, sql, 0, NULL, NULL, 0, NULL, err, sizeof(err))) == M2M_OK)
			break;
		usleep(100000);
	}
	cr_assert_eq(e, M2M_OK, "%s", err);
	db_admin_close(root);
	snprintf(conninfo, len, "dbname=%s", name);
	cr_assert_eq(db_admin_open(conninfo, a, err, sizeof(err)), M2M_OK, "%s", err);
}

void
pgt_migrated(char *conninfo, size_t len, struct db_admin **a)
{
	char err[1024] = "";
	unsigned n;

	pgt_fresh(conninfo, len, a);
	cr_assert_eq(db_migrate(*a, PGT_MIGRATIONS, NULL, NULL, &n, err, sizeof(err)), M2M_OK,
	    "%s", err);
}

const char *
pgt_sql(struct db_admin *a, const char *sql, int n, const char *const *p)
{
	static char out[1024];
	char err[1024] = "";

	cr_assert_eq(db_admin_exec(a, sql, n, p, out, sizeof(out), NULL, err, sizeof(err)),
	    M2M_OK, "%s: %s", sql, err);
	return out;
}

const char *
pgt_sqlstate(struct db_admin *a, const char *sql, int n, const char *const *p)
{
	static char state[6];
	char err[1024] = "";

	cr_assert_neq(db_admin_exec(a, sql, n, p, NULL, 0, state, err, sizeof(err)), M2M_OK,
	    "expected to fail: %s", sql);
	return state;
}

int64_t
pgt_module(struct db_admin *a, const char *identity, const uint8_t ps[16], uint8_t pub[33])
{
	struct proto_ctx *ctx;
	uint8_t priv[32];
	char err[1024] = "";
	int64_t id = 0;

	cr_assert_eq(proto_ctx_new(&ctx, NULL), M2M_OK);
	cr_assert_eq(proto_p256_keygen(ctx, priv, pub), M2M_OK);
	proto_ctx_free(ctx);
	cr_assert_eq(db_admin_enroll(a, identity, pub, ps, 16, &id, err, sizeof(err)), M2M_OK,
	    "%s", err);
	return id;
}

void
pgt_run_until(struct event_base *base, const int *flag, int ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!*flag) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (!*flag)
			usleep(200);
		cr_assert((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms,
		    "timed out after %d ms", ms);
	}
}

void
pgt_hex(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}
