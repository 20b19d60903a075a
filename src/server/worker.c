/* SPDX-License-Identifier: Apache-2.0 */
/* A worker thread: its event loop, its sockets, the receive path that sorts
 * datagrams by type, the handoff inbox and the tick (ten a second:
 * expiry, the idle-session sweep, the gauges). */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/server/log.h"
#include "src/server/srv.h"

uint64_t
worker_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint32_t
worker_now_ms(void)
{
	return (uint32_t)(worker_now_ns() / 1000000u);
}

uint32_t
worker_now_s(void)
{
	return (uint32_t)(worker_now_ns() / 1000000000u);
}

uint16_t
srv_route_of(const struct worker *w)
{
	return (uint16_t)(w->srv->cfg->node_id << 8 | w->idx);
}

int
srv_route(const struct worker *w, const uint8_t *id)
{
	if (id[0] != w->srv->cfg->node_id || id[1] >= w->srv->n_workers)
		return -1;
	return id[1];
}

void
worker_send(struct worker *w, int fd, const struct sockaddr *to, socklen_t tolen,
    const uint8_t *buf, size_t len)
{
	if (sendto(fd, buf, len, 0, to, tolen) < 0) {
		srv_count(&w->m, SRV_C_send_errors, 1);
		log_debug("worker %u: sendto: %s", w->idx, strerror(errno));
		return;
	}
	srv_count(&w->m, SRV_C_datagrams_out, 1);
	srv_count(&w->m, SRV_C_bytes_out, len);
}

void
worker_dispatch(struct worker *w, const struct srv_pkt *p)
{
	uint8_t type;
	enum m2m_err err;

	if ((err = proto_peek(p->buf, p->len, &type)) != M2M_OK) {
		srv_drop(w, &p->from, err);
		return;
	}
	switch (type) {
	case PROTO_HELLO:
		srv_on_hello(w, p);
		break;
	case PROTO_AUTH:
		srv_on_auth(w, p);
		break;
	case PROTO_DATA:
	case PROTO_REKEY:
		srv_on_record(w, p);
		break;
	default:		/* what only a server sends */
		srv_drop(w, &p->from, M2M_E_PROTO_DIRECTION);
	}
}

void
worker_handoff(struct worker *w, unsigned to, const struct srv_pkt *p)
{
	struct worker *dst = w->srv->w[to];
	struct srv_inbox *in = &dst->inbox;
	int queued = 0;

	pthread_mutex_lock(&in->lock);
	if (in->count < SRV_INBOX_CAP) {
		in->pkts[(in->head + in->count) % SRV_INBOX_CAP] = *p;
		in->count++;
		queued = 1;
	}
	pthread_mutex_unlock(&in->lock);
	if (!queued) {
		srv_drop(w, &p->from, M2M_E_SRV_INBOX_FULL);
		return;
	}
	srv_count(&w->m, SRV_C_handoffs, 1);
	event_active(in->ev, EV_READ, 0);
}

void
worker_on_inbox(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct srv_pkt p;

	(void)fd, (void)what;
	for (;;) {
		pthread_mutex_lock(&w->inbox.lock);
		if (w->inbox.count == 0) {
			pthread_mutex_unlock(&w->inbox.lock);
			return;
		}
		p = w->inbox.pkts[w->inbox.head];
		w->inbox.head = (w->inbox.head + 1) % SRV_INBOX_CAP;
		w->inbox.count--;
		pthread_mutex_unlock(&w->inbox.lock);
		worker_dispatch(w, &p);
	}
}

static void
publish_gauges(struct worker *w)
{
	struct db_async_stats st;

	atomic_store(&w->m.half_open, ho_count(&w->ho));
	atomic_store(&w->m.sessions, sess_count(&w->sess));
	atomic_store(&w->m.inflight, w->inflight);
	if (w->db != NULL) {
		db_async_get_stats(w->db, &st);
		atomic_store(&w->m.db_batches, st.batches);
		atomic_store(&w->m.db_items, st.items_committed + st.items_failed);
	}
}

void
worker_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	uint32_t now = worker_now_s();
	const struct srv_config *c = w->srv->cfg;
	size_t budget = w->sess.cap / (SRV_SWEEP_CYCLE_S * SRV_TICKS_PER_S) + 8;

	(void)fd, (void)what;
	ho_expire(&w->ho, now);
	srv_drop_tick(w);
	sess_sweep(&w->sess, now > c->session_idle_s ? now - c->session_idle_s : 0, budget);
	publish_gauges(w);
	srv_dberr_flush(&w->dberr, w->idx, worker_now_ms());
	if (w->stopping && w->inflight == 0)
		event_base_loopexit(w->base, NULL);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	event_base_dispatch(w->base);
	publish_gauges(w);
	atomic_fetch_sub(&w->srv->workers_running, 1);
	return NULL;
}

enum m2m_err
worker_start(struct worker *w)
{
	char name[16];

	atomic_fetch_add(&w->srv->workers_running, 1);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		atomic_fetch_sub(&w->srv->workers_running, 1);
		return M2M_E_IO;
	}
	/* For top -H and /proc/PID/task: which thread spends what. */
	snprintf(name, sizeof(name), "m2md-w%u", w->idx % 100000u);
	pthread_setname_np(w->thread, name);
	return M2M_OK;
}

static void
on_shutdown(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd, (void)what;
	struct timeval grace = { (time_t)w->srv->cfg->shutdown_grace_s, 0 };

	w->stopping = 1;
	for (size_t i = 0; i < w->n_fds; i++)
		event_del(w->rd[i]);
	/* Normally the tick ends the loop once nothing is in flight; past the
	 * grace period what is left fails unacknowledged. */
	event_base_loopexit(w->base, w->inflight == 0 ? NULL : &grace);
}

void
worker_shutdown(struct worker *w)
{
	/* Runs on the worker's own thread so no lock is needed. */
	event_base_once(w->base, -1, EV_TIMEOUT, on_shutdown, w, NULL);
}
