/* SPDX-License-Identifier: Apache-2.0 */
/* The connection of struct db_async: non-blocking connect (PQconnectPoll
 * driven by the loop), pipeline mode, loss and reconnection with backoff. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "db/async_int.h"

static void start_connect(struct db_async *db);

int
db_link_usable(const struct db_async *db)
{
	return db->conn != NULL && !db->broken;
}

static void io_cb(evutil_socket_t fd, short what, void *arg);

void
db_link_watch(struct db_async *db, short what)
{
	int fd = PQsocket(db->conn);

	/* libpq may change sockets while connecting (several hosts). */
	if (db->ev_io != NULL && fd == db->fd && what == db->watching)
		return;
	if (db->ev_io != NULL)
		event_free(db->ev_io);
	db->fd = fd;
	db->watching = what;
	db->ev_io = event_new(db->base, fd, (short)(what | EV_PERSIST), io_cb, db);
	if (db->ev_io == NULL || event_add(db->ev_io, NULL) != 0)
		db_link_lost(db, M2M_E_NOMEM, "cannot watch the database socket");
}

/* Connected: non-blocking pipeline mode, then the statements. */
static void
connected(struct db_async *db)
{
	if (PQsetnonblocking(db->conn, 1) != 0 || !PQenterPipelineMode(db->conn)) {
		db_link_lost(db, M2M_E_DB_CONNECT, PQerrorMessage(db->conn));
		return;
	}
	db->link = LINK_SETUP;
	if (db_stmt_setup(db) != M2M_OK) {
		db_link_lost(db, M2M_E_DB_CONNECT, PQerrorMessage(db->conn));
		return;
	}
	db_pipe_flush(db);
}

static void
poll_connect(struct db_async *db)
{
	switch (PQconnectPoll(db->conn)) {
	case PGRES_POLLING_READING:
		db_link_watch(db, EV_READ);
		break;
	case PGRES_POLLING_WRITING:
		db_link_watch(db, EV_WRITE);
		break;
	case PGRES_POLLING_OK:
		connected(db);
		break;
	default:
		db_link_lost(db, M2M_E_DB_CONNECT, PQerrorMessage(db->conn));
		break;
	}
}

static void
io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_async *db = arg;

	(void)fd;
	if (!db_link_usable(db))
		return;
	if (db->link == LINK_CONNECTING) {
		poll_connect(db);
		return;
	}
	if (what & EV_READ)
		db_pipe_read(db);
	/* Also after reading: callbacks may have queued more to send. */
	db_pipe_flush(db);
}

/* Tears down: everything unanswered fails, then a reconnection is timed. */
static void
lost_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_async *db = arg;
	struct timeval tv;
	unsigned ms = db->backoff_ms;

	(void)fd;
	(void)what;
	if (db->ev_io != NULL)
		event_free(db->ev_io);
	db->ev_io = NULL;
	PQfinish(db->conn);
	db->conn = NULL;
	db->broken = 0;
	db->link = LINK_DOWN;
	db->due = 0;
	db_pipe_fail_all(db, M2M_E_DB_UNAVAILABLE);
	db_writer_fail_pending(db, M2M_E_DB_UNAVAILABLE);
	if (db->state_cb != NULL)
		db->state_cb(db->state_arg, db->lost_err, db->lost_detail);
	/* Jitter of up to a quarter spreads the reconnections of many workers. */
	ms += ms > 4 ? (unsigned)random() % (ms / 4) : 0;
	db->backoff_ms = db->backoff_ms * 2 > db->s.backoff_max_ms ?
	    db->s.backoff_max_ms : db->backoff_ms * 2;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(db->ev_retry, &tv);
}

void
db_link_lost(struct db_async *db, enum m2m_err err, const char *detail)
{
	struct timeval now = { 0, 0 };

	if (db->broken || db->conn == NULL)
		return;
	db->broken = 1;
	db->lost_err = err;
	db_detail(db->lost_detail, sizeof(db->lost_detail), "database connection", detail);
	evtimer_add(db->ev_lost, &now);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	((struct db_async *)arg)->st.reconnects++;
	start_connect(arg);
}

static void
start_connect(struct db_async *db)
{
	/* Keepalives first so that the caller's conninfo (expanded from
	 * "dbname") can override them; they detect a peer that vanished. The
	 * application name last, so that it names the node whatever the
	 * conninfo says: another node finds a duplicate node id by it. */
	const char *const keys[] = { "keepalives_idle", "keepalives_interval",
	    "keepalives_count", "dbname", "application_name", NULL };
	const char *const vals[] = { "10", "5", "3", db->s.conninfo, db->s.app_name, NULL };
	struct timeval tv = { 1, 0 };

	db->link = LINK_CONNECTING;
	db->fd = -1;
	if ((db->conn = PQconnectStartParams(keys, vals, 1)) == NULL) {
		evtimer_add(db->ev_retry, &tv);	/* out of memory: later */
		return;
	}
	if (PQstatus(db->conn) == CONNECTION_BAD) {
		db_link_lost(db, M2M_E_DB_CONNECT, PQerrorMessage(db->conn));
		return;
	}
	db_link_watch(db, EV_WRITE);
}

enum m2m_err
db_async_new(struct event_base *base, const struct db_settings *s, db_state_cb state_cb,
    void *arg, struct db_async **out, char *err, size_t errlen)
{
	struct db_async *db;

	*out = NULL;
	if (s->batch_max == 0 || s->inflight_max == 0 || s->queue_max == 0 ||
	    s->instr_max > PROTO_INSTR_MAX) {
		db_detail(err, errlen, "database settings", "batch, in-flight and queue sizes must be > 0");
		return M2M_E_CONFIG;
	}
	if ((db = calloc(1, sizeof(*db))) == NULL)
		return M2M_E_NOMEM;
	db->base = base;
	db->s = *s;
	db->state_cb = state_cb;
	db->state_arg = arg;
	db->backoff_ms = s->backoff_min_ms > 0 ? s->backoff_min_ms : 1;
	db->ev_retry = evtimer_new(base, retry_cb, db);
	db->ev_lost = evtimer_new(base, lost_cb, db);
	db->ev_delay = evtimer_new(base, db_writer_delay_cb, db);
	if (db->ev_retry == NULL || db->ev_lost == NULL || db->ev_delay == NULL) {
		db_async_free(db);
		return M2M_E_NOMEM;
	}
	start_connect(db);
	*out = db;
	return M2M_OK;
}

void
db_async_free(struct db_async *db)
{
	if (db == NULL)
		return;
	db->broken = 1;		/* callbacks below may not start anything */
	db->link = LINK_DOWN;
	db_pipe_fail_all(db, M2M_E_DB_SHUTDOWN);
	db_writer_fail_pending(db, M2M_E_DB_SHUTDOWN);
	if (db->ev_io != NULL)
		event_free(db->ev_io);
	if (db->ev_retry != NULL)
		event_free(db->ev_retry);
	if (db->ev_lost != NULL)
		event_free(db->ev_lost);
	if (db->ev_delay != NULL)
		event_free(db->ev_delay);
	PQfinish(db->conn);
	free(db);
}

void
db_async_on_error(struct db_async *db, db_error_cb cb, void *arg)
{
	db->error_cb = cb;
	db->error_arg = arg;
}

int
db_async_up(const struct db_async *db)
{
	return db->link == LINK_UP && db_link_usable(db);
}

int
db_async_backend_pid(const struct db_async *db)
{
	return db_async_up(db) ? PQbackendPID(db->conn) : 0;
}

void
db_async_get_stats(const struct db_async *db, struct db_async_stats *st)
{
	*st = db->st;
	st->queued = db->npend;
	st->inflight = db->inflight;
}
