/* SPDX-License-Identifier: Apache-2.0 */
/* m2mctl bench db, setup and cleanup: enrolls throwaway bench modules (one
 * COPY) and removes them, with their reports, afterwards. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/ctl/ctl.h"
#include "src/ctl/ctl_db.h"
#include "src/ctl/bench_db.h"

static void
show_settings(struct db_admin *a)
{
	static const char *const names[] = { "server_version", "synchronous_commit", "fsync",
	    "wal_sync_method" };
	char v[64], err[CTL_ERRLEN];
	size_t i;

	printf("PostgreSQL");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *p[1] = { names[i] };

		if (db_admin_exec(a, "SELECT current_setting($1)", 1, p, v, sizeof(v), NULL,
		    err, sizeof(err)) == M2M_OK)
			printf("%s %s=%s", i ? "," : "", names[i], v);
	}
	printf("\n");
}

/* Keys and pseudonyms made here; the ids read back one by one. */
static enum m2m_err
enroll(struct bench_db *b, struct proto_ctx *ctx, char *err, size_t errlen)
{
	uint8_t priv[PROTO_SCALAR_LEN], pub[PROTO_POINT_LEN];
	char id[PROTO_IDENTITY_MAX + 1];
	struct db_module_info m;
	size_t n;
	enum m2m_err e;
	long i;

	if ((e = db_admin_begin(b->admin, err, errlen)) != M2M_OK)
		return e;
	if ((e = db_admin_bulk_start(b->admin, err, errlen)) != M2M_OK)
		goto fail;
	for (i = 0; i < b->nmod && e == M2M_OK; i++) {
		snprintf(id, sizeof(id), "%s%06ld", b->prefix, i);
		if ((e = proto_p256_keygen(ctx, priv, pub)) == M2M_OK &&
		    (e = proto_random(ctx, b->ps[i], PROTO_PSEUDONYM_LEN)) == M2M_OK)
			e = db_admin_bulk_row(b->admin, id, pub, b->ps[i], err, errlen);
	}
	proto_wipe(priv, sizeof(priv));
	if (e != M2M_OK || (e = db_admin_bulk_end(b->admin, &n, err, errlen)) != M2M_OK ||
	    (e = db_admin_commit(b->admin, err, errlen)) != M2M_OK)
		goto fail;
	/* Fresh statistics, or the planner scans instead of using the indexes. */
	if ((e = db_admin_exec(b->admin, "ANALYZE modules, module_keys", 0, NULL, NULL, 0, NULL,
	    err, errlen)) != M2M_OK)
		return e;
	for (i = 0; i < b->nmod && e == M2M_OK; i++) {
		snprintf(id, sizeof(id), "%s%06ld", b->prefix, i);
		if ((e = db_admin_module(b->admin, id, &m, err, errlen)) == M2M_OK)
			b->ids[i] = m.id;
	}
	return e;
fail:
	db_admin_rollback(b->admin);
	return e;
}

enum m2m_err
bench_db_setup(struct bench_db *b)
{
	struct proto_ctx *ctx = NULL;
	char err[CTL_ERRLEN] = "";
	enum m2m_err e;

	snprintf(b->prefix, sizeof(b->prefix), "bench-%ld-", (long)getpid());
	b->ids = calloc((size_t)b->nmod, sizeof(*b->ids));
	b->ps = calloc((size_t)b->nmod, sizeof(*b->ps));
	if (b->ids == NULL || b->ps == NULL || proto_ctx_new(&ctx, NULL) != M2M_OK)
		return ctl_db_fail(M2M_E_NOMEM, NULL), M2M_E_NOMEM;
	if ((e = ctl_db_connect(b->dbarg, &b->admin)) == M2M_OK) {
		show_settings(b->admin);
		if ((e = enroll(b, ctx, err, sizeof(err))) != M2M_OK)
			ctl_db_fail(e, err);
	}
	proto_ctx_free(ctx);
	return e;
}

void
bench_db_cleanup(struct bench_db *b)
{
	static const char *const sql[] = {
		"DELETE FROM reports WHERE module_id IN (SELECT id FROM modules WHERE identity LIKE $1 || '%')",
		"DELETE FROM instructions WHERE module_id IN (SELECT id FROM modules WHERE identity LIKE $1 || '%')",
		"DELETE FROM module_keys WHERE module_id IN (SELECT id FROM modules WHERE identity LIKE $1 || '%')",
		"DELETE FROM modules WHERE identity LIKE $1 || '%'",
	};
	const char *p[1] = { b->prefix };
	char err[CTL_ERRLEN];
	size_t i;

	for (i = 0; b->admin != NULL && i < sizeof(sql) / sizeof(sql[0]); i++)
		if (db_admin_exec(b->admin, sql[i], 1, p, NULL, 0, NULL, err, sizeof(err)) != M2M_OK)
			ctl_db_fail(M2M_E_DB_QUERY, err);
	db_admin_close(b->admin);
	free(b->ids);
	free(b->ps);
}
