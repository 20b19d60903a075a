/* Small conversions the db files share: error detail, hex, big-endian. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "db/db_int.h"

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

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
db_bytea_from_text(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t i, n;

	if (s == NULL || s[0] != '\\' || s[1] != 'x')
		return -1;
	s += 2;
	n = strlen(s);
	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

void
db_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void
db_put_be64(uint8_t out[8], uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

uint64_t
db_get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
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
