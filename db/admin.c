/* SPDX-License-Identifier: Apache-2.0 */
/* The blocking admin connection: open, transactions, one-off statements. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"
#include "src/proto/crypto.h"

enum m2m_err
db_admin_open(const char *conninfo, struct db_admin **out, char *err, size_t errlen)
{
	/* expand_dbname lets "dbname" carry a whole conninfo or URI; the
	 * fallback name shows m2mctl in pg_stat_activity. */
	const char *const keys[] = { "dbname", "fallback_application_name", NULL };
	const char *const vals[] = { conninfo != NULL ? conninfo : "", "m2mctl", NULL };
	struct db_admin *a;
	PGresult *r;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return M2M_E_NOMEM;
	a->conn = PQconnectdbParams(keys, vals, 1);
	if (a->conn == NULL || PQstatus(a->conn) != CONNECTION_OK) {
		db_detail(err, errlen, "cannot connect to the database",
		    a->conn != NULL ? PQerrorMessage(a->conn) : "out of memory");
		db_admin_close(a);
		return M2M_E_DB_CONNECT;
	}
	/* Quiet NOTICEs (e.g. "relation exists, skipping") on the admin's terminal. */
	r = PQexec(a->conn, "SET client_min_messages = warning");
	PQclear(r);
	*out = a;
	return M2M_OK;
}

enum m2m_err
db_key_full(struct db_admin *a, const uint8_t pub[PROTO_POINT_LEN],
    uint8_t full[PROTO_POINT_FULL_LEN], char *err, size_t errlen)
{
	enum m2m_err e;

	if (a->ctx == NULL && (e = proto_ctx_new(&a->ctx, NULL)) != M2M_OK) {
		db_detail(err, errlen, "module key", m2m_strerror(e));
		return e;
	}
	if ((e = proto_p256_decompress(a->ctx, pub, PROTO_POINT_LEN, full)) != M2M_OK)
		db_detail(err, errlen, "module key", "not a P-256 point");
	return e;
}

void
db_admin_close(struct db_admin *a)
{
	if (a == NULL)
		return;
	PQfinish(a->conn);
	proto_ctx_free(a->ctx);
	free(a);
}

enum m2m_err
db_admin_begin(struct db_admin *a, char *err, size_t errlen)
{
	return db_command(a, "BEGIN", 0, NULL, "BEGIN", err, errlen);
}

enum m2m_err
db_admin_commit(struct db_admin *a, char *err, size_t errlen)
{
	PGresult *r = PQexec(a->conn, "COMMIT");

	/* COMMIT of a failed transaction answers ROLLBACK, not an error. */
	if (PQresultStatus(r) != PGRES_COMMAND_OK || strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		if (PQresultStatus(r) == PGRES_COMMAND_OK) {
			db_detail(err, errlen, "COMMIT", "the transaction had failed and was rolled back");
			PQclear(r);
			return M2M_E_DB_QUERY;
		}
		return db_result_fail(r, "COMMIT", err, errlen);
	}
	PQclear(r);
	return M2M_OK;
}

void
db_admin_rollback(struct db_admin *a)
{
	PQclear(PQexec(a->conn, "ROLLBACK"));
}

enum m2m_err
db_admin_exec(struct db_admin *a, const char *sql, int nparams,
    const char *const *params, char *out, size_t outlen, char *sqlstate,
    char *err, size_t errlen)
{
	PGresult *r = db_query(a, sql, nparams, params);
	ExecStatusType st = PQresultStatus(r);
	const char *code;

	if (sqlstate != NULL)
		sqlstate[0] = '\0';
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		if (sqlstate != NULL && code != NULL)
			db_strlcpy(sqlstate, code, 6);
		return db_result_fail(r, "query", err, errlen);
	}
	if (out != NULL)
		db_strlcpy(out, PQntuples(r) > 0 && PQnfields(r) > 0 ?
		    PQgetvalue(r, 0, 0) : "", outlen);
	PQclear(r);
	return M2M_OK;
}
