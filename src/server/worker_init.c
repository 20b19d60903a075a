/* SPDX-License-Identifier: Apache-2.0 */
/* Setting a worker up and tearing it down: event base, sockets, tables,
 * its database connections and HSM pool client. */
#include "config.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/server/log.h"
#include "src/server/srv.h"

/* Two connections per worker: a lookup on the writer's pipeline would wait
 * for the commits queued before it to reach the disk, and each handshake
 * would pay a flush for its lookup as well as for its own commit. */
static const char *const db_role[2] = { "writes", "lookups" };

static void
db_state(struct worker *w, int role, enum m2m_err err, const char *detail)
{
	w->db_up[role] = err == M2M_OK;
	atomic_store(&w->m.db_up, w->db_up[0] && w->db_up[1]);
	if (err == M2M_OK)
		log_info("worker %u: database connected (%s)", w->idx, db_role[role]);
	else
		log_warn("worker %u: database unavailable (%s): %s%s%s", w->idx, db_role[role],
		    m2m_strerror(err), detail != NULL && *detail ? ": " : "",
		    detail != NULL ? detail : "");
}

static void
on_db_state(void *arg, enum m2m_err err, const char *detail)
{
	db_state(arg, 0, err, detail);
}

static void
on_db_rd_state(void *arg, enum m2m_err err, const char *detail)
{
	db_state(arg, 1, err, detail);
}

static void
on_db_error(void *arg, const struct db_error *e)
{
	struct worker *w = arg;

	srv_dberr_log(&w->dberr, w->idx, db_role[0], e, worker_now_ms());
}

static void
on_db_rd_error(void *arg, const struct db_error *e)
{
	struct worker *w = arg;

	srv_dberr_log(&w->dberr, w->idx, db_role[1], e, worker_now_ms());
}

static enum m2m_err
open_sockets(struct worker *w, char *err, size_t errlen)
{
	const struct srv_config *c = w->srv->cfg;
	struct sockaddr_storage ss;
	socklen_t len;
	enum m2m_err e;

	for (size_t i = 0; i < c->n_listen; i++) {
		/* The first worker checks that the address is ours alone; the
		 * others then share it with it. */
		if ((e = net_parse(c->listen[i], &ss, &len, err, errlen)) != M2M_OK ||
		    (w->idx == 0 && (e = net_claim_udp(&ss, len, err, errlen)) != M2M_OK) ||
		    (e = net_bind_udp(&ss, len, &w->fds[i], err, errlen)) != M2M_OK)
			return e;
		w->n_fds++;
		w->rd[i] = event_new(w->base, w->fds[i], EV_READ | EV_PERSIST, worker_on_read, w);
		if (w->rd[i] == NULL || event_add(w->rd[i], NULL) != 0)
			return M2M_E_NOMEM;
	}
	return M2M_OK;
}

static enum m2m_err
init_tables(struct worker *w)
{
	const struct srv_config *c = w->srv->cfg;
	unsigned n = w->srv->n_workers;
	size_t ho = (c->half_open_max + n - 1) / n, ss = (c->sessions_max + n - 1) / n;
	enum m2m_err e;

	w->retry_above = c->retry_above != 0 ? c->retry_above / n : (unsigned)(ho / 2);
	if ((e = ho_init(&w->ho, ho)) != M2M_OK || (e = sess_init(&w->sess, ss)) != M2M_OK)
		return e;
	if ((w->inbox.pkts = calloc(SRV_INBOX_CAP, sizeof(*w->inbox.pkts))) == NULL)
		return M2M_E_NOMEM;
	if ((e = srv_rx_new(&w->rx)) != M2M_OK)
		return e;
	pthread_mutex_init(&w->inbox.lock, NULL);
	return M2M_OK;
}

static enum m2m_err
init_events(struct worker *w)
{
	struct timeval period = { 0, 1000000 / SRV_TICKS_PER_S };

	w->inbox.ev = event_new(w->base, -1, 0, worker_on_inbox, w);
	w->tick = event_new(w->base, -1, EV_PERSIST, worker_on_tick, w);
	if (w->inbox.ev == NULL || w->tick == NULL || event_add(w->tick, &period) != 0)
		return M2M_E_NOMEM;
	return M2M_OK;
}

enum m2m_err
worker_new(struct srv *s, unsigned idx, struct worker **out, char *err, size_t errlen)
{
	struct worker *w = calloc(1, sizeof(*w));
	enum m2m_err e;

	*out = w;
	if (w == NULL)
		return M2M_E_NOMEM;
	w->srv = s;
	w->idx = idx;
	if ((w->base = event_base_new()) == NULL)
		return M2M_E_NOMEM;
	if ((e = proto_ctx_new(&w->ctx, NULL)) != M2M_OK || (e = init_tables(w)) != M2M_OK ||
	    (e = init_events(w)) != M2M_OK) {
		snprintf(err, errlen, "worker %u: %s", idx, m2m_strerror(e));
		return e;
	}
	if ((e = open_sockets(w, err, errlen)) != M2M_OK)
		return e;
	if ((e = hsm_pool_client_new(s->pool, w->base, &w->hsm)) != M2M_OK) {
		snprintf(err, errlen, "worker %u: HSM pool: %s", idx, m2m_strerror(e));
		return e;
	}
	if ((e = db_async_new(w->base, &s->cfg->db, on_db_state, w, &w->db, err, errlen)) != M2M_OK)
		return e;
	db_async_on_error(w->db, on_db_error, w);
	if ((e = db_async_new(w->base, &s->cfg->db, on_db_rd_state, w, &w->db_rd, err,
	    errlen)) != M2M_OK)
		return e;
	db_async_on_error(w->db_rd, on_db_rd_error, w);
	return M2M_OK;
}

void
worker_join_free(struct worker *w)
{
	if (w == NULL)
		return;
	if (w->thread)
		pthread_join(w->thread, NULL);
	/* Lookups first: one failing now starts no write. */
	if (w->db_rd != NULL)
		db_async_free(w->db_rd);
	if (w->db != NULL)
		db_async_free(w->db);
	if (w->hsm != NULL)
		hsm_pool_client_free(w->hsm);
	for (size_t i = 0; i < w->n_fds; i++) {
		event_free(w->rd[i]);
		close(w->fds[i]);
	}
	if (w->tick != NULL)
		event_free(w->tick);
	if (w->inbox.ev != NULL)
		event_free(w->inbox.ev);
	free(w->inbox.pkts);
	srv_rx_free(w->rx);
	ho_free(&w->ho);
	sess_free(&w->sess);
	proto_ctx_free(w->ctx);
	if (w->base != NULL)
		event_base_free(w->base);
	free(w);
}
