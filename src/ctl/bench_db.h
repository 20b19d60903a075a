/* SPDX-License-Identifier: Apache-2.0 */
/* State of m2mctl bench db, shared by the runner and its setup file. */
#ifndef M2M_CTL_BENCH_DB_H
#define M2M_CTL_BENCH_DB_H

#include "db/db.h"

struct bench_db {
	const char *dbarg;
	struct event_base *base;
	struct db_async *db;
	struct db_admin *admin;
	long rows, lookups, nmod;
	int64_t *ids;
	uint8_t (*ps)[PROTO_PSEUDONYM_LEN];
	char prefix[32];
	long sent, done, failed, target;
	int verbose;
};

/* Prints the server's durability settings, enrolls nmod bench modules. */
enum m2m_err bench_db_setup(struct bench_db *b);
/* Deletes the bench modules, their reports and keys. */
void bench_db_cleanup(struct bench_db *b);

#endif
