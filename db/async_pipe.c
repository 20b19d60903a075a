/* SPDX-License-Identifier: Apache-2.0 */
/* The pipeline pump: jobs in flight as a FIFO, output flushing without
 * blocking, and the dispatch of results to the job they belong to. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "db/async_int.h"

void
db_pipe_push(struct db_async *db, struct db_job *j)
{
	j->next = NULL;
	j->nres = 0;
	j->err = M2M_OK;
	j->detail[0] = '\0';
	if (db->tail != NULL)
		db->tail->next = j;
	else
		db->head = j;
	db->tail = j;
	db->inflight++;
}

static struct db_job *
pipe_pop(struct db_async *db)
{
	struct db_job *j = db->head;

	if (j != NULL) {
		db->head = j->next;
		if (db->head == NULL)
			db->tail = NULL;
		db->inflight--;
	}
	return j;
}

void
db_pipe_flush(struct db_async *db)
{
	int r;

	if (!db_link_usable(db))
		return;
	/* Non-blocking: 1 means the socket is full, wait until writable. */
	r = PQflush(db->conn);
	if (r < 0) {
		db_link_lost(db, M2M_E_DB_UNAVAILABLE, PQerrorMessage(db->conn));
		return;
	}
	db_link_watch(db, (short)(EV_READ | (r == 1 ? EV_WRITE : 0)));
}

/* A failed query: the server skips the rest of the segment and rolls the
 * implicit transaction back; remember why, for every item of the job, and
 * tell the caller's error callback once, with the SQLSTATE. The primary
 * message only: libpq's full one spans lines (DETAIL may quote a whole row). */
static void
job_error(struct db_async *db, struct db_job *j, PGresult *r)
{
	const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	struct db_error e;

	if (j->err == M2M_OK && PQresultStatus(r) != PGRES_PIPELINE_ABORTED) {
		j->err = M2M_E_DB_QUERY;
		db_strlcpy(e.sqlstate, code != NULL ? code : "", sizeof(e.sqlstate));
		db_strlcpy(e.message, msg != NULL ? msg : PQresultErrorMessage(r),
		    sizeof(e.message));
		e.message[strcspn(e.message, "\r\n")] = '\0';
		snprintf(j->detail, sizeof(j->detail), "SQLSTATE %s: %s", e.sqlstate[0] ?
		    e.sqlstate : "none", e.message);
		if (db->error_cb != NULL)
			db->error_cb(db->error_arg, &e);
	} else if (j->err == M2M_OK) {
		j->err = M2M_E_DB_QUERY;
		db_detail(j->detail, sizeof(j->detail), "query", "aborted by an earlier error");
	}
	PQclear(r);
}

static void
dispatch(struct db_async *db, PGresult *r)
{
	struct db_job *j = db->head;

	switch (PQresultStatus(r)) {
	case PGRES_PIPELINE_SYNC:
		PQclear(r);
		pipe_pop(db);
		j->ops->done(db, j, j->err);
		break;
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
		j->ops->result(db, j, j->nres++, r);
		break;
	default:
		j->nres++;
		job_error(db, j, r);
		break;
	}
}

void
db_pipe_read(struct db_async *db)
{
	PGresult *r;
	int nulls = 0;

	if (!db_link_usable(db))
		return;
	if (!PQconsumeInput(db->conn)) {
		db_link_lost(db, M2M_E_DB_UNAVAILABLE, PQerrorMessage(db->conn));
		return;
	}
	/* PQisBusy first: PQgetResult would block when a result is incomplete.
	 * A NULL ends one query's results; two in a row mean nothing is left. */
	while (db->head != NULL && db_link_usable(db) && !PQisBusy(db->conn)) {
		if ((r = PQgetResult(db->conn)) == NULL) {
			if (++nulls > 1)
				break;
			continue;
		}
		nulls = 0;
		dispatch(db, r);
	}
	if (db_link_usable(db) && PQstatus(db->conn) == CONNECTION_BAD)
		db_link_lost(db, M2M_E_DB_UNAVAILABLE, PQerrorMessage(db->conn));
}

void
db_pipe_fail_all(struct db_async *db, enum m2m_err err)
{
	struct db_job *j;

	while ((j = pipe_pop(db)) != NULL)
		j->ops->done(db, j, err);
}
