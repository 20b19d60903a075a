/* SPDX-License-Identifier: Apache-2.0 */
/* Small conversions the db files share: error detail, hex, big-endian. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "db/db_int.h"
#include "src/common/hex.h"

void
db_detail(char *err, size_t errlen, const char *what, const char *msg)
{
	size_t n;

	if (err == NULL || errlen == 0)
		return;
	snprintf(err, errlen, "%s: %s", what, msg != NULL ? msg : "");
	n = strlen(err);
	while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
		err[--n] = '\0';
}

enum m2m_err
db_result_fail(PGresult *r, const char *what, char *err, size_t errlen)
{
	const char *st = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	enum m2m_err e = M2M_E_DB_QUERY;

	if (st != NULL && strcmp(st, "23505") == 0)
		e = M2M_E_DB_DUPLICATE;
	else if (st != NULL && strncmp(st, "23", 2) == 0)
		e = M2M_E_INVALID_ARG;
	else if (st != NULL && strncmp(st, "08", 2) == 0)
		e = M2M_E_DB_CONNECT;
	db_detail(err, errlen, what, r != NULL ? PQresultErrorMessage(r) : "no result");
	PQclear(r);
	return e;
}

PGresult *
db_query(struct db_admin *a, const char *sql, int n, const char *const *vals)
{
	return PQexecParams(a->conn, sql, n, NULL, vals, NULL, NULL, 0);
}

PGresult *
db_query_bin(struct db_admin *a, const char *sql, int n, const char *const *vals,
    const int *lens, const int *fmts)
{
	return PQexecParams(a->conn, sql, n, NULL, vals, lens, fmts, 0);
}

enum m2m_err
db_command(struct db_admin *a, const char *sql, int n, const char *const *vals,
    const char *what, char *err, size_t errlen)
{
	PGresult *r = db_query(a, sql, n, vals);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return db_result_fail(r, what, err, errlen);
	PQclear(r);
	return M2M_OK;
}


int
db_bytea_from_text(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	if (s == NULL || s[0] != '\\' || s[1] != 'x')
		return -1;
	return m2m_unhex(s + 2, strlen(s + 2), out, cap, len);
}

void
db_strlcpy(char *dst, const char *src, size_t cap)
{
	size_t n;

	if (cap == 0)
		return;
	n = src != NULL ? strlen(src) : 0;
	if (n >= cap)
		n = cap - 1;
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}
