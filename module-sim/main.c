/* SPDX-License-Identifier: Apache-2.0 */
/* m2m-sim's main: checks the request against credentials and system, runs and
 * supervises the threads (progress, signals), reports, saves the pseudonyms. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/thread.h>

#include "module-sim/sim.h"

static int
usage_error(const char *detail)
{
	fprintf(stderr, "m2m-sim: %s\n", detail);
	return 2;
}

static uint64_t
total_slots(const struct sim_opts *o, size_t n_modules)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < o->threads; i++)
		n += sim_thread_slots(o, n_modules, i);
	return n;
}

static int __attribute__((format(printf, 3, 4)))
setup_error(char *d, size_t dl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d, dl, fmt, ap);
	va_end(ap);
	return 2;
}

/* What only the credentials and the system can tell: exit status 2. */
static int
check_setup(struct sim_opts *o, const struct sim_creds *cr, char *d, size_t dl)
{
	size_t c1, c2, total;
	uint64_t slots, limit;

	if (o->threads > cr->n)
		return setup_error(d, dl, "--threads %u exceeds the %zu modules in %s", o->threads,
		    cr->n, o->creds_path);
	if (o->rate == 0 && o->concurrency > cr->n)
		return setup_error(d, dl, "--concurrency %u needs as many modules, %s has %zu (a "
		    "module never runs two sessions at once)", o->concurrency, o->creds_path,
		    cr->n);
	if (proto_auth_layout(cr->max_identity, o->payload, PROTO_DATAGRAM_MAX, &c1, &c2,
	    &total) != M2M_OK)
		return setup_error(d, dl, "--payload %u does not fit in an AUTH with a %zu-byte "
		    "identity", o->payload, cr->max_identity);
	o->inflight_cap = slots = total_slots(o, cr->n);
	limit = sim_raise_nofile();
	if (slots + SIM_FD_RESERVE > limit)
		return setup_error(d, dl, "%llu sessions in flight need %llu file descriptors "
		    "(a socket each, %d more for the rest), but the open-file limit is %llu: "
		    "lower --concurrency or raise the hard limit (ulimit -Hn)",
		    (unsigned long long)slots, (unsigned long long)(slots + SIM_FD_RESERVE),
		    SIM_FD_RESERVE, (unsigned long long)limit);
	return 0;
}

static void
merge(struct sim_stats *into, struct sim_thread **t, unsigned n)
{
	sim_stats_init(into);
	for (unsigned i = 0; i < n; i++)
		sim_stats_add(into, sim_thread_stats(t[i]));
}

static int
all_done(struct sim_thread **t, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!sim_thread_done(t[i]))
			return 0;
	return 1;
}

static void
stop_all(struct sim_thread **t, unsigned n, int hard)
{
	for (unsigned i = 0; i < n; i++)
		sim_thread_stop(t[i], hard);
}

/* Progress once a second; the first SIGINT/SIGTERM drains, a second one
 * stops at once. Threads wake us with SIGUSR1 when they end. */
static void
supervise(struct sim_thread **t, unsigned n, const struct sim_run *run,
    struct sim_stats *snap)
{
	struct sim_progress p = { .last_ns = run->t0_ns };
	uint64_t next = run->t0_ns + 1000000000u, now, d;
	struct timespec ts;
	sigset_t set;
	int sig, stops = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	while (!all_done(t, n)) {
		if ((now = sim_now_ns()) >= next) {
			if (!run->o->quiet) {
				merge(snap, t, n);
				sim_report_progress(stderr, &p, snap, now, run->t0_ns);
			}
			while (next <= now)
				next += 1000000000u;
		}
		d = next - now;
		ts.tv_sec = (time_t)(d / 1000000000u);
		ts.tv_nsec = (long)(d % 1000000000u);
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM) {
			stops++;
			if (!run->o->quiet)
				fprintf(stderr, "m2m-sim: %s\n", stops == 1 ? "stopping: finishing "
				    "the exchanges in flight (again to stop now)" : "stopping now");
			stop_all(t, n, stops > 1);
		}
	}
}

static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Threads are made in turn, each preparing its share of --precompute;
 * the clock starts after the last one. */
static int
run_threads(struct sim_run *run, struct sim_stats *total, struct sim_times *tm, char *d,
    size_t dl)
{
	const struct sim_opts *o = run->o;
	struct sim_thread **t;
	unsigned started = 0;
	uint64_t made_ns = sim_now_ns();
	double cpu0;
	int rc = 0;

	if ((t = calloc(o->threads, sizeof(*t))) == NULL) {
		snprintf(d, dl, "out of memory");
		return 1;
	}
	for (unsigned i = 0; i < o->threads && rc == 0; i++)
		if (sim_thread_new(&t[i], run, i, d, dl) != M2M_OK)
			rc = 1;
	run->t0_ns = sim_now_ns();
	cpu0 = cpu_s();
	tm->precompute_s = o->precompute > 0 ? (double)(run->t0_ns - made_ns) / 1e9 : 0;
	if (rc == 0 && o->precompute > 0)
		fprintf(stderr, "m2m-sim: %llu keys precomputed in %.3f s, starting\n",
		    (unsigned long long)o->precompute, tm->precompute_s);
	for (; rc == 0 && started < o->threads; started++)
		if ((rc = sim_thread_start(t[started])) != 0) {
			snprintf(d, dl, "cannot start a thread: %s", strerror(rc));
			rc = 1;
		}
	if (rc != 0)
		stop_all(t, started, 1);
	else
		supervise(t, o->threads, run, total);
	for (unsigned i = 0; i < started; i++)
		sim_thread_join(t[i]);
	tm->elapsed_s = (double)(sim_now_ns() - run->t0_ns) / 1e9;
	tm->cpu_s = cpu_s() - cpu0;
	merge(total, t, started);
	for (unsigned i = 0; i < o->threads; i++)
		sim_thread_free(t[i]);
	free(t);
	return rc;
}

/* A device persists the pseudonym the server gave it: so do we. */
static int
save(const struct sim_opts *o, const struct sim_creds *cr)
{
	char detail[SIM_DETAIL_LEN];
	size_t i;

	for (i = 0; i < cr->n && !cr->mods[i].renamed; i++)
		;
	if (o->no_save || i == cr->n)
		return 0;
	if (sim_creds_save(cr, o->creds_path, detail, sizeof(detail)) != M2M_OK) {
		fprintf(stderr, "m2m-sim: cannot save the new pseudonyms: %s\n", detail);
		return 1;
	}
	return 0;
}

static int
run(struct sim_opts *o, struct sim_creds *cr)
{
	char detail[SIM_DETAIL_LEN];
	struct sim_addr addr;
	struct sim_run r = { .o = o, .addr = &addr, .creds = cr };
	struct sim_stats *total;
	struct sim_times tm = { 0 };
	sigset_t set;
	int rc;

	if (sim_resolve(o->server, &addr, detail, sizeof(detail)) != M2M_OK ||
	    check_setup(o, cr, detail, sizeof(detail)) != 0)
		return usage_error(detail);
	if (evthread_use_pthreads() != 0 || (total = malloc(sizeof(*total))) == NULL) {
		fprintf(stderr, "m2m-sim: cannot set up libevent threading\n");
		return 1;
	}
	/* Blocked before the threads exist, so that only sigtimedwait sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	r.main_thread = pthread_self();
	if ((rc = run_threads(&r, total, &tm, detail, sizeof(detail))) != 0)
		fprintf(stderr, "m2m-sim: %s\n", detail);
	else
		sim_report_final(stdout, o, &addr, total, &tm);
	if (rc == 0 && sim_stats_errors(total) != 0)
		rc = 1;
	if (save(o, cr) != 0)
		rc = 1;
	free(total);
	return rc;
}

int
main(int argc, char **argv)
{
	char detail[SIM_DETAIL_LEN];
	struct sim_opts o;
	struct sim_creds cr;
	int rc;

	if ((rc = sim_opts_parse(&o, argc, argv, detail, sizeof(detail))) != 0)
		return rc == 1 ? 0 : usage_error(detail);
	if (sim_creds_load(&cr, o.creds_path, detail, sizeof(detail)) != M2M_OK)
		return usage_error(detail);
	rc = run(&o, &cr);
	sim_creds_free(&cr);
	return rc;
}
