/* SPDX-License-Identifier: Apache-2.0 */
/* Instructions and reports as the admin tool sees them: queue one, list a
 * module's instructions, show recent reports. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"

enum m2m_err
db_admin_instruct(struct db_admin *a, const char *identity, const uint8_t *body,
    size_t len, int64_t *id, char *err, size_t errlen)
{
	const char *p[2] = { identity, (const char *)body };
	const int lens[2] = { 0, (int)len }, fmts[2] = { 0, 1 };
	const char *st;
	PGresult *r;

	if (len > DB_INSTR_BODY_MAX) {
		db_detail(err, errlen, "instruction", "body longer than 1000 bytes");
		return M2M_E_INVALID_ARG;
	}
	r = db_query_bin(a, "SELECT m2m_instruct($1, $2)", 2, p, lens, fmts);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		if (st != NULL && strcmp(st, "P0002") == 0) {	/* no_data_found */
			PQclear(r);
			db_detail(err, errlen, identity, "no module has this identity");
			return M2M_E_DB_NOT_FOUND;
		}
		/* m2m_instruct()'s refusals (migration 012) say why themselves. */
		if (st != NULL && (strcmp(st, "55000") == 0 || strcmp(st, "22023") == 0)) {
			enum m2m_err e = st[0] == '5' ? M2M_E_DB_STATE : M2M_E_INVALID_ARG;

			snprintf(err, errlen, "%s", PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
			PQclear(r);
			return e;
		}
		return db_result_fail(r, "instruct", err, errlen);
	}
	*id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return M2M_OK;
}

enum m2m_err
db_admin_instructions(struct db_admin *a, int64_t module_id, long limit, int open_only,
    db_instr_cb cb, void *arg, char *err, size_t errlen)
{
	char id[24], lim[24];
	const char *p[3] = { id, lim, open_only ? "true" : "false" };
	struct db_instr_info in;
	uint8_t body[DB_INSTR_BODY_MAX];
	PGresult *r;
	int i;

	snprintf(id, sizeof(id), "%lld", (long long)module_id);
	snprintf(lim, sizeof(lim), "%ld", limit > 0 ? limit : 20);
	r = db_query(a, "SELECT id, state, date_trunc('second', created_at)::text,"
	    " coalesce(date_trunc('second', sent_at)::text, ''),"
	    " coalesce(date_trunc('second', acknowledged_at)::text, ''), sent_count, body"
	    " FROM instructions WHERE module_id = $1"
	    " AND (NOT $3::boolean OR state <> 'acknowledged')"
	    " ORDER BY id DESC LIMIT $2::bigint", 3, p);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return db_result_fail(r, "instructions", err, errlen);
	for (i = 0; i < PQntuples(r); i++) {
		memset(&in, 0, sizeof(in));
		in.id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		db_strlcpy(in.state, PQgetvalue(r, i, 1), sizeof(in.state));
		db_strlcpy(in.created_at, PQgetvalue(r, i, 2), sizeof(in.created_at));
		db_strlcpy(in.sent_at, PQgetvalue(r, i, 3), sizeof(in.sent_at));
		db_strlcpy(in.acknowledged_at, PQgetvalue(r, i, 4), sizeof(in.acknowledged_at));
		in.sent_count = atoi(PQgetvalue(r, i, 5));
		if (db_bytea_from_text(PQgetvalue(r, i, 6), body, sizeof(body), &in.body_len) != 0)
			in.body_len = 0;
		in.body = body;
		cb(arg, &in);
	}
	PQclear(r);
	return M2M_OK;
}

enum m2m_err
db_admin_reports(struct db_admin *a, const char *identity, long limit, db_report_cb cb,
    void *arg, char *err, size_t errlen)
{
	char lim[24];
	const char *p[2] = { identity, lim };
	struct db_report_info rep;
	uint8_t payload[PROTO_DATAGRAM_MAX];
	PGresult *r;
	size_t n;
	int i;

	snprintf(lim, sizeof(lim), "%ld", limit > 0 ? limit : 20);
	/* Ordered by id through reports_id: newest first without a sort of
	 * the whole (partitioned) table. */
	r = db_query(a, "SELECT r.id, m.identity, r.received_at::text, r.session_id, m2m_seq(r.seq),"
	    " r.payload FROM reports r JOIN modules m ON m.id = r.module_id"
	    " WHERE $1::text IS NULL OR r.module_id = (SELECT id FROM modules WHERE identity = $1)"
	    " ORDER BY r.id DESC LIMIT $2::bigint", 2, p);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return db_result_fail(r, "reports", err, errlen);
	for (i = 0; i < PQntuples(r); i++) {
		memset(&rep, 0, sizeof(rep));
		rep.id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		db_strlcpy(rep.identity, PQgetvalue(r, i, 1), sizeof(rep.identity));
		db_strlcpy(rep.received_at, PQgetvalue(r, i, 2), sizeof(rep.received_at));
		db_bytea_from_text(PQgetvalue(r, i, 3), rep.session_id, sizeof(rep.session_id), &n);
		rep.seq = strtoull(PQgetvalue(r, i, 4), NULL, 10);
		/* Reports come from DATA records: they fit a datagram. */
		if (db_bytea_from_text(PQgetvalue(r, i, 5), payload, sizeof(payload),
		    &rep.payload_len) != 0)
			rep.payload_len = 0;
		rep.payload = payload;
		cb(arg, &rep);
	}
	PQclear(r);
	return M2M_OK;
}
