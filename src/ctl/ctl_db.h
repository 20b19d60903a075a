/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by m2mctl's database subcommands (ctl_db*.c, ctl_enroll*.c,
 * ctl_module.c, ctl_instruct.c, ctl_reports.c, bench_db.c). */
#ifndef M2M_CTL_DB_H
#define M2M_CTL_DB_H

#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

#define CTL_ERRLEN	1024

/* Options every database subcommand takes. */
#define CTL_DB_LONGOPTS { "db", required_argument, NULL, 'd' }, \
	{ "help", no_argument, NULL, 'h' }
#define CTL_DB_USAGE "  --db CONNINFO   libpq connection string or URI (else $M2M_DB, else PG* variables)\n"

/* Settings from the config layer, $M2M_DB and --db (NULL if not given),
 * then a blocking connection. On failure prints why; returns the error. */
enum m2m_err ctl_db_connect(const char *dbarg, struct db_admin **a);
/* Prints "m2mctl: detail" (or the code's sentence) and returns exit status 1. */
int ctl_db_fail(enum m2m_err e, const char *detail);

/* Hex of exactly len bytes (odd lengths, stray characters refused). */
/* Exactly 2 * len hex digits into out; otherwise err says what is wrong
 * with `what` (a bad digit and where, or the count). */
enum m2m_err ctl_unhex(const char *what, const char *s, uint8_t *out, size_t len, char *err,
    size_t errlen);
/* A P-256 public key from a PEM file (SubjectPublicKeyInfo) or SEC1 hex
 * (compressed or uncompressed), validated, returned compressed. Exactly one
 * of pem and hex is non-NULL. */
enum m2m_err ctl_pubkey(const char *pem, const char *hex, uint8_t pub[PROTO_POINT_LEN],
    char *err, size_t errlen);
/* The server key to provision: --server-key HEX, --server-key-file PEM,
 * else the newest active one registered in the database. */
enum m2m_err ctl_server_key(struct db_admin *a, const char *hex, const char *pem,
    struct proto_srv_key *key, char *err, size_t errlen);
/* enroll --count: generates key pairs, writes the credentials file. */
int ctl_enroll_bulk(struct db_admin *a, const struct proto_srv_key *key, long count,
    const char *prefix, const char *out, int json);

/* Resolves a positive count or limit; 0 on error. */
long ctl_number(const char *s, long max);

#endif
