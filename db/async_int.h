/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the non-blocking half: the connection object, pipeline jobs
 * and the group-commit queue shared by the async_*.c files. */
#ifndef M2M_DB_ASYNC_INT_H
#define M2M_DB_ASYNC_INT_H

#include <event2/event.h>

#include "db/db_int.h"

enum db_link { LINK_DOWN, LINK_CONNECTING, LINK_SETUP, LINK_UP };

/* One pipeline segment: its queries, then a Sync. Results come back in
 * order, so the jobs in flight form a FIFO. */
struct db_job;
struct db_job_ops {
	/* A successful result of query number idx (takes ownership of r). */
	void (*result)(struct db_async *db, struct db_job *j, int idx, PGresult *r);
	/* After the Sync (err M2M_OK: every query succeeded and the implicit
	 * transaction committed), or when the connection is lost or closed. */
	void (*done)(struct db_async *db, struct db_job *j, enum m2m_err err);
};
struct db_job {
	struct db_job *next;
	const struct db_job_ops *ops;
	int nres;			/* results seen */
	enum m2m_err err;		/* first failure in the segment */
	char detail[256];
};

/* A write waiting for, or in, a batch. A handshake or REKEY is one prepared
 * statement of its own, its parameters pointing into data. A DATA item
 * (stmt NULL) has no statement: the batch's DATA items all go into one
 * set-based call (async_batch.c); data holds its payload, then its acks. */
#define ITEM_PARAMS	9
struct db_item {
	struct db_item *next;
	const char *stmt;		/* NULL: a DATA item */
	db_write_cb cb;
	void *arg;
	int64_t module_id;
	PGresult *res;
	int nparams;
	const char *vals[ITEM_PARAMS];
	int lens[ITEM_PARAMS];
	int fmts[ITEM_PARAMS];
	uint8_t session[PROTO_SESSION_ID_LEN];	/* DATA only, like the three below */
	uint64_t seq;
	size_t payload_len;
	size_t n_acks;
	uint8_t data[];
};

/* Results come back in the order sent: the statement items' in batch
 * order, then the one of the DATA items (if any). */
struct db_batch {
	struct db_job job;
	struct db_item *items;
	size_t n;
	int nstmt;			/* statement items */
	int ndata;			/* DATA items */
	struct db_item *rcur;		/* the statement item of result ridx */
	int ridx;
	PGresult *data_res;		/* the DATA items' answer */
};

struct db_async {
	struct event_base *base;
	struct db_settings s;
	db_state_cb state_cb;
	void *state_arg;
	db_error_cb error_cb;
	void *error_arg;
	PGconn *conn;
	enum db_link link;
	int broken;			/* lost, teardown scheduled */
	char lost_detail[512];
	enum m2m_err lost_err;
	int fd;
	short watching;
	struct event *ev_io, *ev_retry, *ev_lost, *ev_delay;
	unsigned backoff_ms;
	struct db_job *head, *tail;	/* in flight */
	unsigned inflight;		/* jobs in flight */
	unsigned batches;		/* of which batches */
	struct db_item *pend, *pend_tail;	/* waiting for a batch */
	unsigned npend;
	unsigned nflight;		/* items in batches in flight */
	int due;			/* the delay of the oldest waiting item ran out */
	struct db_async_stats st;
};

/* async_pipe.c */
void db_pipe_push(struct db_async *db, struct db_job *j);
/* Flushes output and arms the socket event for what libpq waits on. */
void db_pipe_flush(struct db_async *db);
/* Reads and dispatches every complete result. */
void db_pipe_read(struct db_async *db);
/* Fails every job in flight with err. */
void db_pipe_fail_all(struct db_async *db, enum m2m_err err);

/* async_conn.c */
void db_link_watch(struct db_async *db, short what);
/* Schedules the teardown (from the loop, never inside a caller's request). */
void db_link_lost(struct db_async *db, enum m2m_err err, const char *detail);
int db_link_usable(const struct db_async *db);

/* async_stmt.c */
extern const char db_stmt_lookup_ps[], db_stmt_lookup_id[], db_stmt_handshake[],
    db_stmt_data_batch[], db_stmt_rekey[];
/* Sends the PREPAREs and a Sync as the setup job. */
enum m2m_err db_stmt_setup(struct db_async *db);

/* async_batch.c */
/* Sends the DATA items of b as one m2m_data_batch() call; 0 if libpq refused. */
int db_batch_send_data(struct db_async *db, const struct db_batch *b);
/* The answer of DATA item k (1-based, batch order) from res: M2M_OK with
 * r's instructions, M2M_E_DB_REJECTED, or M2M_E_DB_QUERY if res makes no
 * sense. *row: a cursor into res, 0 for k = 1, items asked in order. */
enum m2m_err db_batch_data_answer(const struct db_async *db, const PGresult *res, int k,
    int *row, struct db_write_result *r);

/* async_writer.c */
void db_writer_kick(struct db_async *db);
void db_writer_fail_pending(struct db_async *db, enum m2m_err err);
void db_writer_delay_cb(evutil_socket_t fd, short what, void *arg);

#endif
