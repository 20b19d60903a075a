/* SPDX-License-Identifier: Apache-2.0 */
/* The statements m2md prepares on every (re)connection, and the setup job
 * that prepares them. Values reach them only as parameters. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db/async_int.h"

const char db_stmt_lookup_ps[] = "m2m_lookup_ps";
const char db_stmt_lookup_id[] = "m2m_lookup_id";
const char db_stmt_handshake[] = "m2m_handshake";
const char db_stmt_data_batch[] = "m2m_data_batch";
const char db_stmt_rekey[] = "m2m_rekey";

/* Each key is one probe of the partial unique index module_keys_one_current
 * or _pending by construction (LIMIT 1 keeps the planner from turning the
 * lateral subquery into a join); as plain joins, the plan's shape followed
 * the statistics (with few pending keys it read them all at every lookup). */
#define LOOKUP_SQL "SELECT m.id, m.identity, m.status, kc.pubkey," \
	" (SELECT k.pubkey FROM module_keys k WHERE k.module_id = m.id AND k.state = 'pending')," \
	" kc.pubkey_full FROM modules m LEFT JOIN LATERAL (SELECT k.pubkey, k.pubkey_full" \
	" FROM module_keys k WHERE k.module_id = m.id AND k.state = 'current' LIMIT 1) kc" \
	" ON true WHERE "

static const struct {
	const char *name, *sql;
} stmts[] = {
	{ db_stmt_lookup_ps, LOOKUP_SQL "m.pseudonym = $1::bytea OR m.previous_pseudonym = $1::bytea" },
	{ db_stmt_lookup_id, LOOKUP_SQL "m.identity = $1::text" },
	/* Rotates only from the current pseudonym; row 0 has the WELCOME's (009). */
	/* $9: the AUTH's source address, stored as last_address (011). */
	{ db_stmt_handshake, "SELECT ok, instr_id, body, pseudonym FROM m2m_commit_handshake("
	    "$1::bigint, $2::bytea, $3::bytea, $4::bytea, $5::bytea, $6::bytea, $7::integer,"
	    " $8::integer, $9::inet)" },
	/* All the DATA items of a batch, as arrays (migration 005). */
	{ db_stmt_data_batch, "SELECT item, instr_id, body FROM m2m_data_batch($1::bigint[],"
	    " $2::bytea[], $3::bigint[], $4::bytea[], $5::integer[], $6::bigint[], $7::integer,"
	    " $8::integer)" },
	{ db_stmt_rekey, "SELECT ok, instr_id, body FROM m2m_rekey($1::bigint, $2::bytea,"
	    " $3::bytea)" },
};

static void
setup_result(struct db_async *db, struct db_job *j, int idx, PGresult *r)
{
	(void)db;
	(void)j;
	(void)idx;
	PQclear(r);
}

/* Prepared: the link is up. Otherwise the schema is probably not there. */
static void
setup_done(struct db_async *db, struct db_job *j, enum m2m_err err)
{
	char detail[sizeof(j->detail)];

	memcpy(detail, j->detail, sizeof(detail));
	free(j);
	if (err == M2M_OK) {
		db->link = LINK_UP;
		db->backoff_ms = db->s.backoff_min_ms;
		if (db->state_cb != NULL)
			db->state_cb(db->state_arg, M2M_OK, "connected");
		return;
	}
	if (err == M2M_E_DB_QUERY && strstr(detail, "does not exist") != NULL)
		err = M2M_E_DB_SCHEMA;
	db_link_lost(db, err, detail);
}

static const struct db_job_ops setup_ops = { setup_result, setup_done };

enum m2m_err
db_stmt_setup(struct db_async *db)
{
	struct db_job *j = calloc(1, sizeof(*j));
	size_t i;

	if (j == NULL)
		return M2M_E_NOMEM;
	j->ops = &setup_ops;
	db_pipe_push(db, j);
	for (i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++)
		if (!PQsendPrepare(db->conn, stmts[i].name, stmts[i].sql, 0, NULL))
			return M2M_E_DB_UNAVAILABLE;
	if (!PQpipelineSync(db->conn))
		return M2M_E_DB_UNAVAILABLE;
	return M2M_OK;
}
