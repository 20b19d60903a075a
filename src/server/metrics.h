/* SPDX-License-Identifier: Apache-2.0 */
/* Counters and latency histograms each worker keeps and the Prometheus text
 * page that sums them, served by libevent's evhttp on its own thread. */
#ifndef M2M_SRV_METRICS_H
#define M2M_SRV_METRICS_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "src/common/err.h"

/* name, help */
#define SRV_COUNTERS(X) \
	X(datagrams_in, "UDP datagrams received") \
	X(datagrams_out, "UDP datagrams sent") \
	X(bytes_in, "UDP payload bytes received") \
	X(bytes_out, "UDP payload bytes sent") \
	X(send_errors, "datagrams the kernel refused to send") \
	X(rcvbuf_drops, "datagrams the kernel dropped before m2md read them (receive buffer full)") \
	X(hello, "HELLO messages accepted for an answer") \
	X(retry_sent, "RETRY messages sent (load or source rate)") \
	X(challenge_sent, "CHALLENGE messages sent") \
	X(challenge_resent, "CHALLENGE sent again for a retransmitted HELLO (no second entry)") \
	X(handshakes_started, "AUTH messages that passed the token check") \
	X(handshakes_completed, "handshakes committed and answered with WELCOME") \
	X(welcome_resent, "WELCOME resent for a retransmitted AUTH") \
	X(hsm_derives, "ECDH operations asked of the HSM") \
	X(db_commits, "writes committed by the database") \
	X(data_acked, "DATA messages committed and acknowledged") \
	X(data_answered_again, "DATA resent after a lost DATA_ACK: answered again, not stored again") \
	X(rekeys, "REKEY requests recorded") \
	X(sessions_ended_inactive, "sessions ended: the database refused a DATA (module suspended or revoked)") \
	X(handoffs, "datagrams handed to the worker that owns their state")

enum srv_counter {
#define X(n, h) SRV_C_##n,
	SRV_COUNTERS(X)
#undef X
	SRV_C_COUNT
};

/* Latency histograms, each a stage an answer can wait in: name, help. */
#define SRV_HISTS(X) \
	X(rx_wait, "time a datagram waited in the kernel's receive queue before m2md read it") \
	X(handshake, "time from reading an AUTH to sending its WELCOME") \
	X(db_lookup, "time from a module lookup to its answer") \
	X(hsm_derive, "time from an HSM request to its result, the pool's queue included") \
	X(db_commit, "time from a write (handshake, DATA, REKEY) to its commit")

enum srv_hist_id {
#define X(n, h) SRV_H_##n,
	SRV_HISTS(X)
#undef X
	SRV_H_COUNT
};

/* Fixed bounds (metrics.c), so workers' histograms add up and Prometheus'
 * histogram_quantile() reads them; the last bucket is +Inf. */
#define SRV_HIST_BOUNDS	24

struct srv_hist {
	atomic_uint_least64_t bucket[SRV_HIST_BOUNDS + 1];
	atomic_uint_least64_t sum_ns;
};

/* The server keys one node serves at once (several during a rotation);
 * handshakes are counted for each. */
#define SRV_KEYS_MAX	8

struct srv_metrics {
	atomic_uint_least64_t c[SRV_C_COUNT];
	struct srv_hist h[SRV_H_COUNT];
	atomic_uint_least64_t drops[M2M_ERR_COUNT];		/* by reason */
	atomic_uint_least64_t hs_failed[M2M_ERR_COUNT];	/* by reason */
	atomic_uint_least64_t hs_key[SRV_KEYS_MAX];	/* completed, by srv.keys index */
	/* Gauges, written by the owning worker. */
	atomic_uint_least64_t half_open, sessions, inflight, db_up;
	atomic_uint_least64_t db_batches, db_items;
};

static inline void
srv_count(struct srv_metrics *m, enum srv_counter c, uint64_t n)
{
	atomic_fetch_add_explicit(&m->c[c], n, memory_order_relaxed);
}

static inline void
srv_count_drop(struct srv_metrics *m, enum m2m_err why)
{
	atomic_fetch_add_explicit(&m->drops[why], 1, memory_order_relaxed);
}

struct worker;
/* One handshake completed with the server key that key_id names. */
void srv_count_key(struct worker *w, const uint8_t key_id[4]);

/* Records one duration in nanoseconds. */
void srv_observe(struct srv_metrics *m, enum srv_hist_id h, uint64_t ns);

struct srv;
struct evbuffer;
/* Appends the whole page. */
void srv_metrics_render(struct srv *s, struct evbuffer *out);
/* metrics_proc.c: the limits, m2md_build_info, the process_* metrics. */
struct hsm_pool_stats;
void srv_metrics_limits(struct srv *s, struct evbuffer *out, const struct hsm_pool_stats *hs);
void srv_metrics_process(struct evbuffer *out);
/* The metrics address: numeric HOST:PORT or [IPv6]:PORT, port 1 to 65535. */
enum m2m_err srv_metrics_parse(const char *addr, struct sockaddr_storage *ss,
    socklen_t *len, char *err, size_t errlen);
/* Starts the HTTP listener thread on addr ("127.0.0.1:9433"). */
enum m2m_err srv_metrics_start(struct srv *s, const char *addr, char *err, size_t errlen);
void srv_metrics_stop(struct srv *s);

#endif
