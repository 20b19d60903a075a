/* SPDX-License-Identifier: Apache-2.0 */
/* The Prometheus text page: sums of the workers' counters and latency
 * histograms, gauges, the HSM pool's figures. Served on its own thread so
 * a slow scraper never touches the workers' loops. */
#include "config.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "src/server/srv.h"

static uint64_t
sum(struct srv *s, size_t off)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < s->n_workers; i++)
		t += atomic_load_explicit((atomic_uint_least64_t *)((char *)&s->w[i]->m + off),
		    memory_order_relaxed);
	return t;
}

#define OFF(field) offsetof(struct srv_metrics, field)

/* From a fast lookup to a stalled database, finest where a handshake's
 * answer is expected (under 10 ms), in nanoseconds. */
static const uint64_t bounds[SRV_HIST_BOUNDS] = {
	25000, 50000, 100000, 200000, 350000, 500000, 750000,
	1000000, 1500000, 2000000, 3000000, 5000000, 7500000, 10000000,
	15000000, 20000000, 30000000, 50000000, 75000000, 100000000,
	250000000, 500000000, 1000000000, 2500000000,
};

void
srv_observe(struct srv_metrics *m, enum srv_hist_id h, uint64_t ns)
{
	unsigned i = 0;

	while (i < SRV_HIST_BOUNDS && ns > bounds[i])
		i++;
	atomic_fetch_add_explicit(&m->h[h].bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->h[h].sum_ns, ns, memory_order_relaxed);
}

/* Prometheus' histogram: cumulative buckets, then the sum and the count. */
static void
histograms(struct srv *s, struct evbuffer *out)
{
	static const char *const names[] = {
#define X(n, h) #n,
		SRV_HISTS(X)
#undef X
	};
	static const char *const help[] = {
#define X(n, h) h,
		SRV_HISTS(X)
#undef X
	};

	for (int h = 0; h < SRV_H_COUNT; h++) {
		size_t base = OFF(h) + (size_t)h * sizeof(struct srv_hist);
		uint64_t n = 0;

		evbuffer_add_printf(out, "# HELP m2md_%s_seconds %s\n# TYPE m2md_%s_seconds histogram\n",
		    names[h], help[h], names[h]);
		for (int i = 0; i <= SRV_HIST_BOUNDS; i++) {
			char le[32];

			n += sum(s, base + offsetof(struct srv_hist, bucket) +
			    (size_t)i * sizeof(atomic_uint_least64_t));
			if (i < SRV_HIST_BOUNDS)
				snprintf(le, sizeof(le), "%g", (double)bounds[i] / 1e9);
			else
				snprintf(le, sizeof(le), "+Inf");
			evbuffer_add_printf(out, "m2md_%s_seconds_bucket{le=\"%s\"} %llu\n",
			    names[h], le, (unsigned long long)n);
		}
		evbuffer_add_printf(out, "m2md_%s_seconds_sum %.9f\nm2md_%s_seconds_count %llu\n",
		    names[h], (double)sum(s, base + offsetof(struct srv_hist, sum_ns)) / 1e9,
		    names[h], (unsigned long long)n);
	}
}

static void
counters(struct srv *s, struct evbuffer *out)
{
	static const char *const names[] = {
#define X(n, h) #n,
		SRV_COUNTERS(X)
#undef X
	};
	static const char *const help[] = {
#define X(n, h) h,
		SRV_COUNTERS(X)
#undef X
	};

	for (int i = 0; i < SRV_C_COUNT; i++)
		evbuffer_add_printf(out, "# HELP m2md_%s_total %s\n# TYPE m2md_%s_total counter\n"
		    "m2md_%s_total %llu\n", names[i], help[i], names[i], names[i],
		    (unsigned long long)sum(s, OFF(c) + (size_t)i * sizeof(atomic_uint_least64_t)));
}

static void
by_reason(struct srv *s, struct evbuffer *out, const char *name, const char *help, size_t off)
{
	uint64_t v;

	evbuffer_add_printf(out, "# HELP m2md_%s_total %s\n# TYPE m2md_%s_total counter\n",
	    name, help, name);
	for (int e = 1; e < M2M_ERR_COUNT; e++)
		if ((v = sum(s, off + (size_t)e * sizeof(atomic_uint_least64_t))) != 0)
			evbuffer_add_printf(out, "m2md_%s_total{reason=\"%s\"} %llu\n", name,
			    m2m_errname((enum m2m_err)e), (unsigned long long)v);
}

void
srv_count_key(struct worker *w, const uint8_t key_id[4])
{
	const struct srv *s = w->srv;

	for (size_t i = 0; i < s->n_keys; i++)
		if (memcmp(s->keys[i].key_id, key_id, PROTO_KEY_ID_LEN) == 0) {
			atomic_fetch_add_explicit(&w->m.hs_key[i], 1, memory_order_relaxed);
			return;
		}
}

/* Every key served, at 0 too: the page shows which keys this node serves. */
static void
by_key(struct srv *s, struct evbuffer *out)
{
	const char *name = "server_key_handshakes";

	evbuffer_add_printf(out, "# HELP m2md_%s_total handshakes completed, by the server key id "
	    "the module named\n# TYPE m2md_%s_total counter\n", name, name);
	for (size_t i = 0; i < s->n_keys; i++) {
		const uint8_t *id = s->keys[i].key_id;

		evbuffer_add_printf(out, "m2md_%s_total{key_id=\"%02x%02x%02x%02x\"} %llu\n", name,
		    id[0], id[1], id[2], id[3],
		    (unsigned long long)sum(s, OFF(hs_key) + i * sizeof(atomic_uint_least64_t)));
	}
}

static void
gauge(struct evbuffer *out, const char *name, const char *help, unsigned long long v)
{
	evbuffer_add_printf(out, "# HELP m2md_%s %s\n# TYPE m2md_%s gauge\nm2md_%s %llu\n",
	    name, help, name, name, v);
}

static void
counter(struct evbuffer *out, const char *name, const char *help, unsigned long long v)
{
	evbuffer_add_printf(out, "# HELP m2md_%s_total %s\n# TYPE m2md_%s_total counter\n"
	    "m2md_%s_total %llu\n", name, help, name, name, v);
}

/* The token's state: up, outages, re-opens (hsm/pool_token.c). */
static void
hsm_token(struct evbuffer *out, const struct hsm_pool_stats *hs)
{
	gauge(out, "hsm_up", "1 while the token serves, 0 from its loss until the module is "
	    "re-opened", (unsigned long long)hs->token_ok);
	gauge(out, "hsm_token_ok", "the same as m2md_hsm_up (older name)",
	    (unsigned long long)hs->token_ok);
	counter(out, "hsm_token_lost", "times the token was lost (outages)", hs->token_lost);
	counter(out, "hsm_reopens", "outages healed by re-opening the module", hs->reopens);
	counter(out, "hsm_reopen_failures", "re-open attempts that failed", hs->reopen_failures);
	counter(out, "hsm_rejected_down", "HSM requests refused at once while the token was lost",
	    hs->rejected_down);
}

void
srv_metrics_render(struct srv *s, struct evbuffer *out)
{
	struct hsm_pool_stats hs;

	counters(s, out);
	histograms(s, out);
	by_reason(s, out, "drops", "datagrams dropped, by reason", OFF(drops));
	by_reason(s, out, "handshakes_failed", "handshakes failed after AUTH, by reason",
	    OFF(hs_failed));
	by_key(s, out);
	gauge(out, "half_open", "half-open handshakes held", sum(s, OFF(half_open)));
	gauge(out, "sessions", "established sessions held", sum(s, OFF(sessions)));
	gauge(out, "inflight", "AUTH and records awaiting HSM or database", sum(s, OFF(inflight)));
	gauge(out, "workers", "worker threads running",
	    (unsigned long long)atomic_load(&s->workers_running));
	gauge(out, "db_up", "workers whose database connections (writes, lookups) are both up",
	    sum(s, OFF(db_up)));
	counter(out, "db_batches", "group-commit transactions", sum(s, OFF(db_batches)));
	counter(out, "db_batch_items", "items in those transactions", sum(s, OFF(db_items)));
	hsm_pool_stats(s->pool, &hs);
	gauge(out, "hsm_queue_depth", "HSM requests waiting", hs.queue_depth);
	gauge(out, "hsm_in_flight", "HSM requests being served", hs.in_flight);
	counter(out, "hsm_rejected_full", "HSM requests refused with a full queue",
	    hs.rejected_full);
	counter(out, "hsm_derive_failed", "HSM derives that failed", hs.derive_failed);
	hsm_token(out, &hs);
	srv_metrics_limits(s, out, &hs);
	srv_metrics_process(out);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct evbuffer *out = evbuffer_new();

	if (out == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	if (strcmp(evhttp_request_get_uri(req), "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, "metrics are at /metrics");
		evbuffer_free(out);
		return;
	}
	srv_metrics_render(arg, out);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "text/plain; version=0.0.4");
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
}

static void *
metrics_main(void *arg)
{
	struct srv *s = arg;

	event_base_dispatch(s->metrics_base);
	return NULL;
}

enum m2m_err
srv_metrics_parse(const char *addr, struct sockaddr_storage *ss, socklen_t *len, char *err,
    size_t errlen)
{
	char what[256];
	enum m2m_err e;

	if ((e = net_parse(addr, ss, len, what, sizeof(what))) != M2M_OK) {
		snprintf(err, errlen, "metrics %s", what);
		return e;
	}
	if (net_port(ss) == 0) {
		snprintf(err, errlen, "metrics address '%s': port 0 is not a port to scrape", addr);
		return M2M_E_CONFIG;
	}
	return M2M_OK;
}

/* Our own socket, so that a failure says why (in use, not an address of
 * this machine, ...). */
static enum m2m_err
metrics_listen(struct srv *s, const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;
	enum m2m_err e;

	if ((e = srv_metrics_parse(addr, &ss, &len, err, errlen)) != M2M_OK)
		return e;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 64) != 0 ||
	    evhttp_accept_socket(s->http, fd) != 0) {
		snprintf(err, errlen, "metrics address '%s': cannot listen: %s", addr,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return M2M_E_IO;
	}
	return M2M_OK;
}

enum m2m_err
srv_metrics_start(struct srv *s, const char *addr, char *err, size_t errlen)
{
	enum m2m_err e;

	if ((s->metrics_base = event_base_new()) == NULL ||
	    (s->http = evhttp_new(s->metrics_base)) == NULL)
		return M2M_E_NOMEM;
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET);
	evhttp_set_gencb(s->http, on_request, s);
	if ((e = metrics_listen(s, addr, err, errlen)) != M2M_OK)
		return e;
	if (pthread_create(&s->metrics_thread, NULL, metrics_main, s) != 0)
		return M2M_E_IO;
	pthread_setname_np(s->metrics_thread, "m2md-metrics");
	return M2M_OK;
}

void
srv_metrics_stop(struct srv *s)
{
	if (s->metrics_base == NULL)
		return;
	event_base_loopbreak(s->metrics_base);
	if (s->metrics_thread)
		pthread_join(s->metrics_thread, NULL);
	evhttp_free(s->http);
	event_base_free(s->metrics_base);
	s->metrics_base = NULL;
}
