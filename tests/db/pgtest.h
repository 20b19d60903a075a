/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the tests of tests/db: a fresh database per test in the
 * throwaway cluster that with-pg started, and loop helpers. */
#ifndef M2M_TEST_PGTEST_H
#define M2M_TEST_PGTEST_H

#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

#define PGT_MIGRATIONS	TEST_SRCDIR "/../db/migrations"
#define PGT_M2MCTL	TEST_BUILDDIR "/m2mctl"

struct event_base;

/* Creates an empty database, fills conninfo ("dbname=..."), connects a. */
void pgt_fresh(char *conninfo, size_t len, struct db_admin **a);
/* The same, migrated. */
void pgt_migrated(char *conninfo, size_t len, struct db_admin **a);
/* Runs SQL, asserts success; returns the first value (static buffer). */
const char *pgt_sql(struct db_admin *a, const char *sql, int n, const char *const *p);
/* Runs SQL expected to fail; returns its SQLSTATE (static buffer). */
const char *pgt_sqlstate(struct db_admin *a, const char *sql, int n, const char *const *p);
/* Enrolls a module with a fresh key pair; returns its id. */
int64_t pgt_module(struct db_admin *a, const char *identity, const uint8_t ps[16],
    uint8_t pub[33]);
/* Runs the loop until *flag is non-zero; fails the test after ms. */
void pgt_run_until(struct event_base *base, const int *flag, int ms);
void pgt_hex(const uint8_t *p, size_t n, char *out);

#endif
