/* SPDX-License-Identifier: Apache-2.0 */
/* m2md's process and worker structures. Each worker is a thread with its
 * own event_base, sockets (SO_REUSEPORT), tables, database connection and
 * HSM pool client; they share only the HSM pool and read-only settings. */
#ifndef M2M_SRV_H
#define M2M_SRV_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "db/db.h"
#include "hsm/hsm.h"
#include "src/proto/proto.h"
#include "src/server/conf.h"
#include "src/server/dberr.h"
#include "src/server/metrics.h"
#include "src/server/ratelimit.h"
#include "src/server/state.h"

#define SRV_INBOX_CAP	256
/* The tick sweeps idle sessions a slice at a time: ten small slices a
 * second stall the loop a tenth as long as one large one, for the same
 * cycle (SRV_SWEEP_CYCLE_S over the whole slab). */
#define SRV_TICKS_PER_S		10
#define SRV_SWEEP_CYCLE_S	8

struct event_base;
struct event;
struct evhttp;

/* A received datagram and where it came from. */
struct srv_pkt {
	uint8_t buf[PROTO_DATAGRAM_MAX + 1];
	size_t len;
	struct sockaddr_storage from;
	socklen_t fromlen;
	int fd;				/* the socket it came in on, to answer from */
};

/* Datagrams another worker received for this one's state (NAT rebinding
 * moves a module's port, and SO_REUSEPORT hashes it to another worker). */
struct srv_inbox {
	pthread_mutex_t lock;
	struct srv_pkt *pkts;
	size_t head, count;
	struct event *ev;
};

/* At most this many drops a second are logged by each worker (droplog.c). */
#define SRV_DROP_LOG_PER_S	20

struct srv_droplog {
	uint32_t second;		/* worker_now_s() of the lines counted */
	unsigned logged;
	unsigned long long unlogged;
};

struct worker {
	struct srv *srv;
	unsigned idx;
	pthread_t thread;
	struct event_base *base;
	int fds[SRV_LISTEN_MAX];
	struct event *rd[SRV_LISTEN_MAX];
	size_t n_fds;
	struct event *tick;
	struct proto_ctx *ctx;
	struct hsm_pool_client *hsm;
	struct db_async *db;			/* writes: group commit */
	struct db_async *db_rd;			/* lookups: never behind a flush */
	int db_up[2];				/* db, db_rd */
	struct srv_dberr dberr;			/* their failed statements, in the log */
	struct halfopen ho;
	struct sessions sess;
	struct srv_inbox inbox;
	struct srv_rx *rx;			/* rx.c: receive batch, kernel drop counts */
	unsigned inflight;
	unsigned retry_above;
	int stopping;
	struct srv_droplog droplog;
	struct srv_metrics m;
};

struct srv {
	struct srv_config *cfg;
	struct hsm *hsm;
	struct hsm_pool *pool;
	struct proto_srv_key keys[SRV_KEYS_MAX];
	size_t n_keys;
	uint8_t cookie_secret[32];
	/* HSM work per pseudonym and per source address, and HELLOs per source
	 * address (they only decide RETRY), one budget for all workers:
	 * SO_REUSEPORT spreads a source's ports over them, so a budget per
	 * worker would multiply by their number. */
	pthread_mutex_t rl_lock;
	struct ratelimit pseudo_rl, hsm_src_rl, hello_src_rl;
	struct worker **w;
	unsigned n_workers;
	struct event_base *main_base;
	struct event *stop_poll;
	pthread_t metrics_thread;
	struct event_base *metrics_base;
	struct evhttp *http;
	atomic_int workers_running;
	struct srv_control *control;		/* control.c; NULL: none */
};

/* worker.c */
enum m2m_err worker_new(struct srv *s, unsigned idx, struct worker **out, char *err, size_t errlen);
enum m2m_err worker_start(struct worker *w);
/* From the main thread: stop reading, finish what is in flight, exit. */
void worker_shutdown(struct worker *w);
void worker_join_free(struct worker *w);
/* Sends one datagram and counts it. */
void worker_send(struct worker *w, int fd, const struct sockaddr *to, socklen_t tolen,
    const uint8_t *buf, size_t len);
/* Passes one received datagram to its message kind's handler. */
void worker_dispatch(struct worker *w, const struct srv_pkt *p);
/* Hands a datagram to the worker that owns its state. */
void worker_handoff(struct worker *w, unsigned to, const struct srv_pkt *p);
/* Event callbacks, for worker_init.c. */
void worker_on_read(int fd, short what, void *arg);
void worker_on_inbox(int fd, short what, void *arg);
void worker_on_tick(int fd, short what, void *arg);
uint32_t worker_now_s(void);
uint32_t worker_now_ms(void);
uint64_t worker_now_ns(void);

/* droplog.c: counts a dropped datagram by reason (srv_count_drop) and logs
 * it at debug level with the source address, within the worker's budget of
 * lines a second; with module, as a failed handshake of that module ("":
 * one the lookup did not find). */
void srv_drop(struct worker *w, const struct sockaddr_storage *from, enum m2m_err why);
void srv_drop_as(struct worker *w, const struct sockaddr_storage *from, enum m2m_err why,
    const char *module);
/* From the tick: says how many drops of the last second went unlogged. */
void srv_drop_tick(struct worker *w);

/* hello.c, auth.c, record.c: one message kind each. */
void srv_on_hello(struct worker *w, const struct srv_pkt *p);
void srv_on_auth(struct worker *w, const struct srv_pkt *p);
void srv_on_record(struct worker *w, const struct srv_pkt *p);
/* The worker index a token or session id routes to; -1: not this node's. */
int srv_route(const struct worker *w, const uint8_t *id);
uint16_t srv_route_of(const struct worker *w);

/* rx.c */
struct srv_rx;
enum m2m_err srv_rx_new(struct srv_rx **out);
void srv_rx_free(struct srv_rx *rx);

/* net.c */
enum m2m_err net_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
    char *err, size_t errlen);
/* node.c: the live sessions of another m2md with the same node id (stale
 * ones left by a crash or a reboot aside), and where they connect from. */
enum m2m_err srv_node_peers(struct db_admin *a, const struct srv_config *cfg, unsigned *live,
    char *from, size_t fromlen, char *err, size_t errlen);

/* M2M_E_IO with a message when another process serves the address. */
enum m2m_err net_claim_udp(const struct sockaddr_storage *ss, socklen_t len, char *err,
    size_t errlen);
enum m2m_err net_bind_udp(const struct sockaddr_storage *ss, socklen_t len, int *fd,
    char *err, size_t errlen);
/* The address bytes that cookies and resend credit key on (with_port: IP
 * then port) and rate limits key on (without: IPv4 address, IPv6 /64). */
size_t net_addr_bytes(const struct sockaddr_storage *ss, uint8_t out[18], int with_port);
uint16_t net_port(const struct sockaddr_storage *ss);
const char *net_ntop(const struct sockaddr_storage *ss, char *buf, size_t len);

#endif
