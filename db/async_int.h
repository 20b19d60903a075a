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

/* A write waiting for, or in, a batch. Parameters point into data. */
#define ITEM_PARAMS	8
struct db_item {
	struct db_item *next;
	const char *stmt;
	db_write_cb cb;
	void *arg;
	int64_t module_id;
	PGresult *res;
	int nparams;
	const char *vals[ITEM_PARAMS];
	int lens[ITEM_PARAMS];
	int fmts[ITEM_PARAMS];
	uint8_t data[];
};

struct db_batch {
	struct db_job job;
	struct db_item *items;
	size_t n;
};

struct db_async {
	struct event_base *base;
	struct db_settings s;
	db_state_cb state_cb;
	void *state_arg;
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
    db_stmt_data[], db_stmt_rekey[];
/* Sends the PREPAREs and a Sync as the setup job. */
enum m2m_err db_stmt_setup(struct db_async *db);

/* async_writer.c */
void db_writer_kick(struct db_async *db);
void db_writer_fail_pending(struct db_async *db, enum m2m_err err);
void db_writer_delay_cb(evutil_socket_t fd, short what, void *arg);

#endif
