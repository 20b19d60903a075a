/* SPDX-License-Identifier: Apache-2.0 */
/* The server's life: the HSM and its keys, the pool, the workers and the
 * metrics thread up; signals; an orderly stop that finishes what is in
 * flight so nothing acknowledged is lost. */
#include "config.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "src/server/control.h"
#include "src/server/log.h"
#include "src/server/server.h"
#include "src/server/srv.h"

static void
on_hsm_log(void *arg, enum hsm_log_level level, const char *msg)
{
	(void)arg;
	if (level == HSM_LOG_WARN)
		log_warn("HSM: %s", msg);
	else if (level == HSM_LOG_INFO)
		log_info("HSM: %s", msg);
	else
		log_debug("HSM: %s", msg);
}

/* The configured key, or every usable P-256 key while keys rotate. */
enum m2m_err
srv_load_keys(struct hsm *h, const struct srv_config *c, struct proto_srv_key *keys,
    size_t *n, char *err, size_t errlen)
{
	struct hsm_key_info info[SRV_KEYS_MAX];
	size_t found = 0;
	enum m2m_err e;

	*n = 0;
	if (c->hsm.key != NULL) {
		if ((e = hsm_key_find(h, NULL, &info[0], err, errlen)) != M2M_OK)
			return e;
		found = 1;
	} else if ((e = hsm_key_list(h, info, SRV_KEYS_MAX, &found, err, errlen)) != M2M_OK) {
		return e;
	}
	for (size_t i = 0; i < found; i++) {
		if (!info[i].has_pub || !info[i].p256 || !info[i].derive)
			continue;
		memcpy(keys[*n].key_id, info[i].key_id, PROTO_KEY_ID_LEN);
		memcpy(keys[*n].pub, info[i].pub, PROTO_POINT_LEN);
		(*n)++;
	}
	if (*n == 0) {
		snprintf(err, errlen, "no usable P-256 derive key with a public half in the token");
		return M2M_E_HSM_KEY_NOT_FOUND;
	}
	return M2M_OK;
}

static enum m2m_err
start_hsm(struct srv *s, char *err, size_t errlen)
{
	enum m2m_err e;

	if ((e = hsm_open(&s->hsm, &s->cfg->hsm, err, errlen)) != M2M_OK ||
	    (e = srv_load_keys(s->hsm, s->cfg, s->keys, &s->n_keys, err, errlen)) != M2M_OK)
		return e;
	for (size_t i = 0; i < s->n_keys; i++)
		log_info("serving key id %02x%02x%02x%02x from token %s", s->keys[i].key_id[0],
		    s->keys[i].key_id[1], s->keys[i].key_id[2], s->keys[i].key_id[3],
		    hsm_token_name(s->hsm));
	return hsm_pool_new(s->hsm, s->cfg->hsm.pool_threads, s->cfg->hsm.pool_queue, on_hsm_log,
	    s, &s->pool, err, errlen);
}

static enum m2m_err
start_workers(struct srv *s, char *err, size_t errlen)
{
	enum m2m_err e;

	s->n_workers = s->cfg->workers;
	if ((e = rl_init(&s->pseudo_rl, 65536, s->cfg->pseudonym_rate,
	    s->cfg->pseudonym_burst)) != M2M_OK ||
	    (e = rl_init(&s->hsm_src_rl, 65536, s->cfg->hsm_source_rate,
	    s->cfg->hsm_source_burst)) != M2M_OK ||
	    (e = rl_init(&s->hello_src_rl, 65536, s->cfg->source_rate,
	    s->cfg->source_burst)) != M2M_OK)
		return e;
	if ((s->w = calloc(s->n_workers, sizeof(*s->w))) == NULL)
		return M2M_E_NOMEM;
	for (unsigned i = 0; i < s->n_workers; i++)
		if ((e = worker_new(s, i, &s->w[i], err, errlen)) != M2M_OK)
			return e;
	if (s->cfg->metrics != NULL &&
	    (e = srv_metrics_start(s, s->cfg->metrics, err, errlen)) != M2M_OK)
		return e;
	for (unsigned i = 0; i < s->n_workers; i++)
		if ((e = worker_start(s->w[i])) != M2M_OK)
			return e;
	return M2M_OK;
}

static void
on_stop_poll(evutil_socket_t fd, short what, void *arg)
{
	struct srv *s = arg;

	(void)fd, (void)what;
	if (atomic_load(&s->workers_running) == 0)
		event_base_loopbreak(s->main_base);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct srv *s = arg;
	struct srv_config fresh;
	struct timeval poll = { 0, 50000 }, grace = { (time_t)s->cfg->shutdown_grace_s, 0 };
	char err[512];

	(void)what;
	if (sig == SIGHUP) {
		/* Only the log can change without a restart (m2md(8)). */
		if (s->cfg->path != NULL && srv_config_load(&fresh, s->cfg->path, err,
		    sizeof(err)) == M2M_OK) {
			srv_log_reopen(fresh.log_level, fresh.log_syslog);
			if (srv_config_changed(s->cfg, &fresh, err, sizeof(err)) > 0)
				log_warn("SIGHUP: log reopened; changed, but only a restart "
				    "applies them: %s", err);
			else
				log_info("SIGHUP: log reopened; no other setting changed");
			srv_config_free(&fresh);
		} else if (s->cfg->path != NULL) {
			log_err("SIGHUP: configuration not reloaded: %s", err);
		}
		return;
	}
	log_info("stopping: finishing what is in flight");
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, "STOPPING=1");
#endif
	for (unsigned i = 0; i < s->n_workers; i++)
		worker_shutdown(s->w[i]);
	if (s->stop_poll == NULL)
		s->stop_poll = event_new(s->main_base, -1, EV_PERSIST, on_stop_poll, s);
	if (s->stop_poll != NULL)
		event_add(s->stop_poll, &poll);
	event_base_loopexit(s->main_base, &grace);
}

static enum m2m_err
run_signals(struct srv *s)
{
	int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct event *ev[3];

	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < 3; i++)
		if ((ev[i] = evsignal_new(s->main_base, sigs[i], on_signal, s)) == NULL ||
		    event_add(ev[i], NULL) != 0)
			return M2M_E_NOMEM;
#ifdef HAVE_LIBSYSTEMD
	sd_notify(0, "READY=1");
#endif
	log_info("m2md %s ready: %u workers, %zu listen addresses", PACKAGE_VERSION,
	    s->n_workers, s->cfg->n_listen);
	event_base_dispatch(s->main_base);
	for (int i = 0; i < 3; i++)
		event_free(ev[i]);
	return M2M_OK;
}

static void
stop_all(struct srv *s)
{
	for (unsigned i = 0; s->w != NULL && i < s->n_workers; i++)
		if (s->w[i] != NULL && s->w[i]->thread)
			worker_shutdown(s->w[i]);
	for (unsigned i = 0; s->w != NULL && i < s->n_workers; i++)
		worker_join_free(s->w[i]);
	srv_control_stop(s);
	free(s->w);
	rl_free(&s->pseudo_rl);
	rl_free(&s->hsm_src_rl);
	rl_free(&s->hello_src_rl);
	srv_metrics_stop(s);
	if (s->pool != NULL)
		hsm_pool_free(s->pool);
	if (s->hsm != NULL)
		hsm_close(s->hsm);
	if (s->stop_poll != NULL)
		event_free(s->stop_poll);
	if (s->main_base != NULL)
		event_base_free(s->main_base);
}

enum m2m_err
srv_run(struct srv_config *cfg, char *err, size_t errlen)
{
	struct srv s;
	enum m2m_err e;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	pthread_mutex_init(&s.rl_lock, NULL);
	if (evthread_use_pthreads() != 0 || (s.main_base = event_base_new()) == NULL)
		return M2M_E_NOMEM;
	if (RAND_bytes(s.cookie_secret, sizeof(s.cookie_secret)) != 1)
		return M2M_E_CRYPTO;
	/* A database that is unreachable or not migrated is a start-up error
	 * with its cause, not a server that drops every handshake. */
	if ((e = start_hsm(&s, err, errlen)) == M2M_OK &&
	    (e = srv_check_db(cfg, s.keys, s.n_keys, NULL, err, errlen)) == M2M_OK &&
	    (e = start_workers(&s, err, errlen)) == M2M_OK &&
	    (e = srv_control_start(&s, err, errlen)) == M2M_OK)
		e = run_signals(&s);
	stop_all(&s);
	pthread_mutex_destroy(&s.rl_lock);
	proto_wipe(s.cookie_secret, sizeof(s.cookie_secret));
	if (e == M2M_OK)
		log_info("stopped");
	return e;
}
