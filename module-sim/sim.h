/* SPDX-License-Identifier: Apache-2.0 */
/* m2m-sim: options, counters and the interfaces between its files
 * (main, opts, net, thread, vmod, report). */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "module-sim/creds.h"
#include "module-sim/hist.h"

#define SIM_DETAIL_LEN	512
#define SIM_PAYLOAD_MAX	1000	/* first data and DATA payload, bytes */
#define SIM_FD_RESERVE	64	/* descriptors kept for everything but sockets */
#define SIM_PRECOMPUTE_MAX 10000000	/* about 130 bytes each */

struct sim_opts {
	const char *server;		/* HOST:PORT or [V6]:PORT */
	const char *creds_path;
	unsigned threads;
	unsigned concurrency;		/* closed loop: sessions in flight; open loop: cap */
	int concurrency_set;
	double rate;			/* open loop when > 0: sessions started per second */
	double duration;		/* seconds; 0 = until count */
	uint64_t count;			/* handshakes; 0 = until duration */
	unsigned data;			/* DATA per session; with interval 0 = until the end */
	unsigned interval_ms;		/* long-lived sessions: DATA every interval */
	unsigned payload;
	double ramp_up;
	unsigned retries;
	unsigned timeout_ms;
	double loss;			/* percent of datagrams lost each way */
	uint64_t precompute;		/* ephemeral keys made before the run, all threads */
	int json, quiet, no_save;
	uint64_t inflight_cap;		/* set by main: sessions in flight at most */
};

/* Parses argv. Returns 0 to run, 1 when --help/--version printed, 2 on bad
 * usage (detail holds the message). */
int sim_opts_parse(struct sim_opts *o, int argc, char **argv, char *detail, size_t dlen);
void sim_usage(FILE *fp);

/* Kinds of error, counted separately and reported by name. */
enum sim_errkind {
	SIM_ERR_TIMEOUT,		/* handshake: retries exhausted */
	SIM_ERR_DATA_TIMEOUT,		/* DATA: retries exhausted */
	SIM_ERR_WELCOME,		/* WELCOME does not verify */
	SIM_ERR_DECRYPT,		/* DATA_ACK does not open or is malformed */
	SIM_ERR_SEND,			/* send() failed */
	SIM_ERR_REFUSED,		/* ICMP port unreachable */
	SIM_ERR_INTERNAL,		/* the protocol core refused to build a message */
	SIM_ERR_COUNT
};
const char *sim_errkind_name(enum sim_errkind k);

/* One thread's counters: written by it, read by the progress line. */
struct sim_stats {
	_Atomic uint64_t hs_started, hs_ok, data_sent, data_ok;
	_Atomic uint64_t retransmits, retry_msgs, ignored, inflight, unstarted, lost, prepared;
	_Atomic uint64_t resumed;		/* sessions the server ended, continued in a new one */
	_Atomic uint64_t err[SIM_ERR_COUNT];
	struct sim_hist hs_lat, data_lat;
	struct sim_hist read_lag;	/* a datagram's arrival to m2m-sim reading it */
};
void sim_stats_init(struct sim_stats *s);
void sim_stats_add(struct sim_stats *dst, const struct sim_stats *src);
uint64_t sim_stats_errors(const struct sim_stats *s);
#define SIM_INC(field) atomic_fetch_add_explicit(&(field), 1, memory_order_relaxed)
#define SIM_GET(field) atomic_load_explicit(&(field), memory_order_relaxed)

/* net.c: resolving once, sockets, the descriptor limit. */
struct sim_addr {
	struct sockaddr_storage sa;
	socklen_t len;
	char text[128];
};
enum m2m_err sim_resolve(const char *hostport, struct sim_addr *a, char *detail, size_t dlen);
/* A non-blocking UDP socket connected to a, or -1 (errno set). */
int sim_socket(const struct sim_addr *a);
/* Raises RLIMIT_NOFILE to its hard limit; returns the new soft limit. */
uint64_t sim_raise_nofile(void);
/* The monotonic and the wall clock read together: the kernel stamps
 * arrivals with the wall clock, latencies are on the monotonic one. */
struct sim_clock {
	uint64_t mono_ns, real_ns;
};
void sim_clock_pair(struct sim_clock *c);
/* When the datagram just received arrived, on the monotonic clock: its
 * SO_TIMESTAMPNS stamp, or c->mono_ns when it has none. */
uint64_t sim_arrival_ns(struct msghdr *mh, const struct sim_clock *c);

/* thread.c: a worker with its own event loop, modules and sockets. */
struct sim_thread;
struct sim_run {
	const struct sim_opts *o;
	const struct sim_addr *addr;
	struct sim_creds *creds;
	uint64_t t0_ns;			/* common start, set before the threads start */
	pthread_t main_thread;		/* woken with SIGUSR1 when a thread ends */
};
enum m2m_err sim_thread_new(struct sim_thread **out, struct sim_run *run, unsigned index,
    char *detail, size_t dlen);
int sim_thread_start(struct sim_thread *t);
void sim_thread_stop(struct sim_thread *t, int hard);	/* from another thread */
int sim_thread_done(const struct sim_thread *t);
void sim_thread_join(struct sim_thread *t);
struct sim_stats *sim_thread_stats(struct sim_thread *t);
void sim_thread_free(struct sim_thread *t);
unsigned sim_thread_slots(const struct sim_opts *o, size_t n_modules, unsigned index);

/* report.c: the progress line and the final report. */
struct sim_progress {
	uint64_t last_ns;
	uint64_t last_hs, last_data, last_err;
};
void sim_report_progress(FILE *fp, struct sim_progress *p, const struct sim_stats *total,
    uint64_t now_ns, uint64_t t0_ns);
/* The run's clock: preparation (--precompute) comes before it starts. */
struct sim_times {
	double elapsed_s;		/* from the common start to the last thread's end */
	double cpu_s;			/* m2m-sim's CPU over that time, all threads */
	double precompute_s;		/* wall time of the preparation */
};
void sim_report_final(FILE *fp, const struct sim_opts *o, const struct sim_addr *a,
    const struct sim_stats *total, const struct sim_times *tm);

uint64_t sim_now_ns(void);

#endif
