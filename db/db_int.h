/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by the files of db/: the blocking admin connection and
 * helpers around libpq. The one header that includes libpq-fe.h. */
#ifndef M2M_DB_INT_H
#define M2M_DB_INT_H

#include <libpq-fe.h>

#include "db/db.h"

struct db_admin {
	PGconn *conn;
	struct proto_ctx *ctx;		/* decodes module keys (pubkey_full) */
};

/* The uncompressed form of a module key for module_keys.pubkey_full. */
enum m2m_err db_key_full(struct db_admin *a, const uint8_t pub[PROTO_POINT_LEN],
    uint8_t full[PROTO_POINT_FULL_LEN], char *err, size_t errlen);

/* A migration file found on disk. */
struct db_mfile {
	unsigned version;
	char name[128];
};
/* The NNN_name.sql files of dir, sorted by number (caller frees *out). */
enum m2m_err db_migration_scan(const char *dir, struct db_mfile **out, size_t *n,
    char *err, size_t errlen);
/* A file's text (caller frees), its SHA-256 (without the m2md-compat line)
 * and what that line declares: 1 yes, 0 no, -1 no such line. */
enum m2m_err db_migration_read(const char *dir, const char *name, char **text,
    uint8_t sum[32], int *compat, char *err, size_t errlen);

/* Writes "what: msg" into err, without libpq's trailing newline. */
void db_detail(char *err, size_t errlen, const char *what, const char *msg);
/* Maps a failed result to an m2m_err (SQLSTATE 23505 -> M2M_E_DB_DUPLICATE,
 * 23xxx -> M2M_E_INVALID_ARG, else M2M_E_DB_QUERY), fills err and clears r. */
enum m2m_err db_result_fail(PGresult *r, const char *what, char *err, size_t errlen);
/* PQexecParams with text parameters and text results; NULL params allowed. */
PGresult *db_query(struct db_admin *a, const char *sql, int n, const char *const *vals);
/* Same with per-parameter lengths and formats (1 = binary, for bytea). */
PGresult *db_query_bin(struct db_admin *a, const char *sql, int n,
    const char *const *vals, const int *lens, const int *fmts);
/* Runs a command expecting no rows; M2M_OK or the mapped failure. */
enum m2m_err db_command(struct db_admin *a, const char *sql, int n,
    const char *const *vals, const char *what, char *err, size_t errlen);

/* Decodes a bytea in PostgreSQL's text output ("\x0a0b"); 0 on success. */
int db_bytea_from_text(const char *s, uint8_t *out, size_t cap, size_t *len);

/* Copies a text value, truncating to cap - 1. */
void db_strlcpy(char *dst, const char *src, size_t cap);

#endif
