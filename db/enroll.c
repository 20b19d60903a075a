/* SPDX-License-Identifier: Apache-2.0 */
/* Enrollment: a module row with its first pseudonym and current key, one
 * at a time (INSERT) or by the hundred thousand (COPY into a staging table). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"
#include "src/common/hex.h"

/* Turns a failed insert into a sentence naming what collided. */
static enum m2m_err
enroll_fail(PGresult *r, const char *identity, char *err, size_t errlen)
{
	const char *cn = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
	const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
	char msg[256], c[64];
	enum m2m_err e;

	/* Copied: db_result_fail frees the result these point into. */
	snprintf(c, sizeof(c), "%s", cn != NULL ? cn : "");
	snprintf(msg, sizeof(msg), "%s", detail != NULL ? detail : "");
	e = db_result_fail(r, "enroll", err, errlen);
	if (strcmp(c, "modules_identity_key") == 0 && identity != NULL)
		db_detail(err, errlen, identity, "this identity is already enrolled");
	else if (strcmp(c, "modules_identity_key") == 0)
		db_detail(err, errlen, "identity already enrolled, nothing changed", msg);
	else if (strcmp(c, "module_keys_pubkey_key") == 0)
		db_detail(err, errlen, "public key", "already enrolled for another module");
	else if (strcmp(c, "modules_identity_check") == 0)
		db_detail(err, errlen, "identity",
		    "must be 1 to 64 bytes without spaces or control characters");
	return e;
}

enum m2m_err
db_admin_enroll(struct db_admin *a, const char *identity, const uint8_t pub[33],
    const uint8_t *pseudonym, size_t pseudonym_len, int64_t *id, char *err, size_t errlen)
{
	/* One statement: the module and its key exist together or not at all. */
	const char *sql =
	    "WITH m AS (INSERT INTO modules (identity, pseudonym) VALUES ($1, $2) RETURNING id)"
	    " INSERT INTO module_keys (module_id, pubkey, pubkey_full, state, valid_from)"
	    " SELECT id, $3, $4, 'current', now() FROM m RETURNING module_id";
	uint8_t full[PROTO_POINT_FULL_LEN];
	const char *vals[4] = { identity, (const char *)pseudonym, (const char *)pub,
	    (const char *)full };
	const int lens[4] = { 0, (int)pseudonym_len, 33, PROTO_POINT_FULL_LEN };
	const int fmts[4] = { 0, 1, 1, 1 };
	enum m2m_err e;
	PGresult *r;

	if ((e = db_key_full(a, pub, full, err, errlen)) != M2M_OK)
		return e;
	r = db_query_bin(a, sql, 4, vals, lens, fmts);

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		return enroll_fail(r, identity, err, errlen);
	*id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return M2M_OK;
}

enum m2m_err
db_admin_bulk_start(struct db_admin *a, char *err, size_t errlen)
{
	PGresult *r;
	enum m2m_err e;

	if ((e = db_command(a, "CREATE TEMP TABLE m2m_enroll (identity text NOT NULL,"
	    " pseudonym bytea NOT NULL, pubkey bytea NOT NULL, pubkey_full bytea NOT NULL)"
	    " ON COMMIT DROP",
	    0, NULL, "staging table", err, errlen)) != M2M_OK)
		return e;
	r = PQexec(a->conn, "COPY m2m_enroll FROM STDIN");
	if (PQresultStatus(r) != PGRES_COPY_IN)
		return db_result_fail(r, "COPY", err, errlen);
	PQclear(r);
	return M2M_OK;
}

enum m2m_err
db_admin_bulk_row(struct db_admin *a, const char *identity, const uint8_t pub[33],
    const uint8_t pseudonym[PROTO_PSEUDONYM_LEN], char *err, size_t errlen)
{
	/* COPY text format: tab-separated, backslash escapes, bytea as \\x. */
	char line[2 * PROTO_IDENTITY_MAX + 2 * (PROTO_PSEUDONYM_LEN + 33 + 65) + 24];
	uint8_t full[PROTO_POINT_FULL_LEN];
	size_t n = 0, i;
	enum m2m_err e;

	if ((e = db_key_full(a, pub, full, err, errlen)) != M2M_OK)
		return e;
	for (i = 0; identity[i] != '\0' && i < PROTO_IDENTITY_MAX; i++) {
		if (identity[i] == '\\')
			line[n++] = '\\';
		line[n++] = identity[i];
	}
	memcpy(line + n, "\t\\\\x", 4);
	m2m_hex(pseudonym, PROTO_PSEUDONYM_LEN, line + n + 4);
	n += 4 + 2 * PROTO_PSEUDONYM_LEN;
	memcpy(line + n, "\t\\\\x", 4);
	m2m_hex(pub, 33, line + n + 4);
	n += 4 + 66;
	memcpy(line + n, "\t\\\\x", 4);
	m2m_hex(full, PROTO_POINT_FULL_LEN, line + n + 4);
	n += 4 + 2 * PROTO_POINT_FULL_LEN;
	line[n++] = '\n';
	if (PQputCopyData(a->conn, line, (int)n) != 1) {
		db_detail(err, errlen, "COPY", PQerrorMessage(a->conn));
		return M2M_E_DB_QUERY;
	}
	return M2M_OK;
}

/* Ends the COPY and moves the staged rows into modules and module_keys. */
enum m2m_err
db_admin_bulk_end(struct db_admin *a, size_t *n, char *err, size_t errlen)
{
	PGresult *r;

	*n = 0;
	if (PQputCopyEnd(a->conn, NULL) != 1) {
		db_detail(err, errlen, "COPY", PQerrorMessage(a->conn));
		return M2M_E_DB_QUERY;
	}
	r = PQgetResult(a->conn);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		return db_result_fail(r, "COPY", err, errlen);
	PQclear(r);
	while ((r = PQgetResult(a->conn)) != NULL)
		PQclear(r);
	r = db_query(a, "INSERT INTO modules (identity, pseudonym)"
	    " SELECT identity, pseudonym FROM m2m_enroll", 0, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		return enroll_fail(r, NULL, err, errlen);
	*n = strtoul(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	r = db_query(a, "INSERT INTO module_keys (module_id, pubkey, pubkey_full, state, valid_from)"
	    " SELECT m.id, e.pubkey, e.pubkey_full, 'current', now() FROM m2m_enroll e"
	    " JOIN modules m USING (identity)", 0, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		return enroll_fail(r, NULL, err, errlen);
	PQclear(r);
	return M2M_OK;
}
