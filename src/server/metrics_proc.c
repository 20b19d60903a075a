/* SPDX-License-Identifier: Apache-2.0 */
/* The parts of the metrics page that are not the workers' counters: the
 * limits the alerts divide by (so that no rule hard-codes a setting),
 * m2md_build_info, and the process_* metrics Prometheus' client libraries
 * export, read from /proc/self. */
#include "config.h"

#include <dirent.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "src/server/srv.h"

#ifndef M2M_COMMIT
#define M2M_COMMIT "unknown"
#endif

static void
gauge(struct evbuffer *out, const char *name, const char *help, unsigned long long v)
{
	evbuffer_add_printf(out, "# HELP m2md_%s %s\n# TYPE m2md_%s gauge\nm2md_%s %llu\n",
	    name, help, name, name, v);
}

/* What the workers actually hold: each has its share of a setting,
 * rounded up, so the sum can exceed the configured figure a little. */
void
srv_metrics_limits(struct srv *s, struct evbuffer *out, const struct hsm_pool_stats *hs)
{
	unsigned long long ho = 0, ss = 0, retry = 0;

	for (unsigned i = 0; i < s->n_workers; i++) {
		ho += s->w[i]->ho.cap;
		ss += s->w[i]->sess.cap;
		retry += s->w[i]->retry_above;
	}
	gauge(out, "half_open_max", "half-open handshakes the workers can hold (limits.half_open_max)",
	    ho);
	gauge(out, "retry_above", "half-open handshakes above which HELLOs get RETRY (limits.retry_above)",
	    retry);
	gauge(out, "sessions_max", "sessions the workers can hold (limits.sessions_max)", ss);
	gauge(out, "inflight_max", "AUTH and records that may await HSM or database, all workers "
	    "(limits.inflight_max times workers)",
	    (unsigned long long)s->cfg->inflight_max * s->n_workers);
	gauge(out, "hsm_queue_size", "HSM requests the pool's queue holds before refusing "
	    "(hsm.pool_queue)", hs->queue_size);
	gauge(out, "hsm_threads", "HSM pool threads (hsm.pool_threads)", hs->threads);
	evbuffer_add_printf(out, "# HELP m2md_build_info m2md's version and the commit it was built "
	    "from, value 1\n# TYPE m2md_build_info gauge\n"
	    "m2md_build_info{version=\"%s\",commit=\"%s\"} 1\n", PACKAGE_VERSION, M2M_COMMIT);
}

static void
proc_metric(struct evbuffer *out, const char *name, const char *type, const char *help,
    double v)
{
	evbuffer_add_printf(out, "# HELP process_%s %s\n# TYPE process_%s %s\nprocess_%s %.17g\n",
	    name, help, name, type, name, v);
}

/* utime, stime (fields 14, 15) and starttime (22) of /proc/self/stat, in
 * clock ticks; the command (field 2) may hold spaces, so fields are
 * counted from its closing parenthesis. */
static int
proc_stat(unsigned long long *utime, unsigned long long *stime, unsigned long long *start)
{
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	return sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
	    "%*d %*d %*d %*d %*d %*d %llu", utime, stime, start) == 3 ? 0 : -1;
}

/* The boot time (btime of /proc/stat), in seconds since the epoch. */
static double
boot_time(void)
{
	char line[256];
	double bt = 0;
	FILE *f = fopen("/proc/stat", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %lf", &bt) == 1)
			break;
	fclose(f);
	return bt;
}

static unsigned
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0;	/* less the directory's own */
}

void
srv_metrics_process(struct evbuffer *out)
{
	unsigned long long ut, st, start, size, rss;
	double tck = (double)sysconf(_SC_CLK_TCK);
	struct rlimit rl;
	FILE *f;

	if (proc_stat(&ut, &st, &start) == 0) {
		proc_metric(out, "cpu_seconds_total", "counter", "user and system CPU time spent "
		    "in seconds", (double)(ut + st) / tck);
		proc_metric(out, "start_time_seconds", "gauge", "start time of the process since "
		    "unix epoch in seconds", boot_time() + (double)start / tck);
	}
	if ((f = fopen("/proc/self/statm", "r")) != NULL) {
		if (fscanf(f, "%llu %llu", &size, &rss) == 2) {
			double page = (double)sysconf(_SC_PAGESIZE);

			proc_metric(out, "virtual_memory_bytes", "gauge", "virtual memory size in "
			    "bytes", (double)size * page);
			proc_metric(out, "resident_memory_bytes", "gauge", "resident memory size in "
			    "bytes", (double)rss * page);
		}
		fclose(f);
	}
	proc_metric(out, "open_fds", "gauge", "number of open file descriptors", open_fds());
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		proc_metric(out, "max_fds", "gauge", "maximum number of open file descriptors",
		    rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur);
}
