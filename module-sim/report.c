/* SPDX-License-Identifier: Apache-2.0 */
/* What m2m-sim prints: the counters' bookkeeping, one progress line per
 * second, and the final report as text or JSON. */
#include "config.h"

#include <string.h>

#include "module-sim/sim.h"

static const char *const errnames[SIM_ERR_COUNT] = {
	[SIM_ERR_TIMEOUT] = "timeout",
	[SIM_ERR_DATA_TIMEOUT] = "data_timeout",
	[SIM_ERR_WELCOME] = "welcome_invalid",
	[SIM_ERR_DECRYPT] = "decrypt",
	[SIM_ERR_SEND] = "send",
	[SIM_ERR_REFUSED] = "refused",
	[SIM_ERR_INTERNAL] = "internal",
};

const char *
sim_errkind_name(enum sim_errkind k)
{
	return k < SIM_ERR_COUNT ? errnames[k] : "unknown";
}

void
sim_stats_init(struct sim_stats *s)
{
	memset(s, 0, sizeof(*s));	/* all-zero atomics are valid on our targets */
	sim_hist_init(&s->hs_lat);
	sim_hist_init(&s->data_lat);
	sim_hist_init(&s->read_lag);
}

#define ADD(f) atomic_fetch_add_explicit(&dst->f, SIM_GET(src->f), memory_order_relaxed)

void
sim_stats_add(struct sim_stats *dst, const struct sim_stats *src)
{
	ADD(hs_started), ADD(hs_ok), ADD(data_sent), ADD(data_ok);
	ADD(retransmits), ADD(retry_msgs), ADD(ignored), ADD(inflight), ADD(unstarted), ADD(lost);
	ADD(prepared), ADD(resumed);
	for (int k = 0; k < SIM_ERR_COUNT; k++)
		ADD(err[k]);
	sim_hist_merge(&dst->hs_lat, &src->hs_lat);
	sim_hist_merge(&dst->data_lat, &src->data_lat);
	sim_hist_merge(&dst->read_lag, &src->read_lag);
}

uint64_t
sim_stats_errors(const struct sim_stats *s)
{
	uint64_t n = 0;

	for (int k = 0; k < SIM_ERR_COUNT; k++)
		n += SIM_GET(s->err[k]);
	return n;
}

static double
ms(uint64_t us)
{
	return (double)us / 1000.0;
}

void
sim_report_progress(FILE *fp, struct sim_progress *p, const struct sim_stats *s,
    uint64_t now_ns, uint64_t t0_ns)
{
	uint64_t hs = SIM_GET(s->hs_ok), data = SIM_GET(s->data_ok), err = sim_stats_errors(s);
	double dt = (double)(now_ns - p->last_ns) / 1e9;

	if (dt <= 0)
		dt = 1;
	fprintf(fp, "[%6.1fs] hs %8.1f/s (%llu)  data %8.1f/s (%llu)  err %llu (+%llu)  "
	    "retx %llu  inflight %llu  p99 hs %.3f ms  data %.3f ms\n",
	    (double)(now_ns - t0_ns) / 1e9, (double)(hs - p->last_hs) / dt,
	    (unsigned long long)hs, (double)(data - p->last_data) / dt,
	    (unsigned long long)data, (unsigned long long)err,
	    (unsigned long long)(err - p->last_err),
	    (unsigned long long)SIM_GET(s->retransmits),
	    (unsigned long long)SIM_GET(s->inflight),
	    ms(sim_hist_percentile(&s->hs_lat, 99)), ms(sim_hist_percentile(&s->data_lat, 99)));
	fflush(fp);
	p->last_ns = now_ns;
	p->last_hs = hs;
	p->last_data = data;
	p->last_err = err;
}

static const double pcts[] = { 50, 90, 99, 99.9 };
static const char *const pct_names[] = { "p50", "p90", "p99", "p99.9" };

static void
text_latency(FILE *fp, const char *name, const struct sim_hist *h)
{
	fprintf(fp, "  %-10s %9llu", name, (unsigned long long)sim_hist_count(h));
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
		fprintf(fp, " %9.3f", ms(sim_hist_percentile(h, pcts[i])));
	fprintf(fp, " %9.3f\n", ms(sim_hist_max(h)));
}

static void
describe_load(FILE *fp, const struct sim_opts *o)
{
	if (o->rate > 0)
		fprintf(fp, "open loop, %g sessions/s, at most %llu in flight", o->rate,
		    (unsigned long long)o->inflight_cap);
	else
		fprintf(fp, "closed loop, concurrency %u", o->concurrency);
	fprintf(fp, ", %u thread%s", o->threads, o->threads == 1 ? "" : "s");
	if (o->interval_ms > 0)
		fprintf(fp, ", long-lived: DATA every %u ms", o->interval_ms);
	if (o->data > 0)
		fprintf(fp, ", %u DATA per session", o->data);
	fprintf(fp, ", payload %u bytes", o->payload);
	if (o->loss > 0)
		fprintf(fp, ", %g%% of datagrams lost each way", o->loss);
	fprintf(fp, "\n");
}

static void
report_text(FILE *fp, const struct sim_opts *o, const struct sim_addr *a,
    const struct sim_stats *s, const struct sim_times *tm)
{
	double el = tm->elapsed_s;

	fprintf(fp, "m2m-sim against %s: ", a->text);
	describe_load(fp, o);
	fprintf(fp, "elapsed           %.3f s (m2m-sim's CPU %.3f s)\n", el, tm->cpu_s);
	fprintf(fp, "handshakes        %llu ok of %llu started, %.1f/s\n",
	    (unsigned long long)SIM_GET(s->hs_ok), (unsigned long long)SIM_GET(s->hs_started),
	    (double)SIM_GET(s->hs_ok) / el);
	fprintf(fp, "data              %llu ok of %llu sent, %.1f/s\n",
	    (unsigned long long)SIM_GET(s->data_ok), (unsigned long long)SIM_GET(s->data_sent),
	    (double)SIM_GET(s->data_ok) / el);
	fprintf(fp, "retransmissions   %llu (RETRY answered %llu, datagrams ignored %llu, "
	    "arrivals not started %llu)\n", (unsigned long long)SIM_GET(s->retransmits),
	    (unsigned long long)SIM_GET(s->retry_msgs), (unsigned long long)SIM_GET(s->ignored),
	    (unsigned long long)SIM_GET(s->unstarted));
	fprintf(fp, "sessions resumed  %llu (ended by the server, continued in a new one)\n",
	    (unsigned long long)SIM_GET(s->resumed));
	if (o->loss > 0)
		fprintf(fp, "lost (--loss)     %llu datagrams\n", (unsigned long long)SIM_GET(s->lost));
	if (o->precompute > 0)
		fprintf(fp, "precomputed       %llu handshakes began with a key made before the run "
		    "(%.3f s to make %llu)\n", (unsigned long long)SIM_GET(s->prepared),
		    tm->precompute_s, (unsigned long long)o->precompute);
	fprintf(fp, "errors            %llu", (unsigned long long)sim_stats_errors(s));
	for (int k = 0; k < SIM_ERR_COUNT; k++)
		fprintf(fp, "%s%s %llu", k == 0 ? " (" : ", ", sim_errkind_name(k),
		    (unsigned long long)SIM_GET(s->err[k]));
	fprintf(fp, ")\nlatency (ms)           count       p50       p90       p99     p99.9"
	    "       max\n");
	text_latency(fp, "handshake", &s->hs_lat);
	text_latency(fp, "data", &s->data_lat);
	text_latency(fp, "read lag", &s->read_lag);
}

static void
json_latency(FILE *fp, const char *name, const struct sim_hist *h, const char *sep)
{
	fprintf(fp, "    \"%s\": {\"count\": %llu", name, (unsigned long long)sim_hist_count(h));
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
		fprintf(fp, ", \"%s\": %llu", pct_names[i],
		    (unsigned long long)sim_hist_percentile(h, pcts[i]));
	fprintf(fp, ", \"max\": %llu}%s\n", (unsigned long long)sim_hist_max(h), sep);
}

static void
json_config(FILE *fp, const struct sim_opts *o, const struct sim_addr *a)
{
	fprintf(fp, "  \"server\": \"%s\",\n", a->text);
	fprintf(fp, "  \"config\": {\"mode\": \"%s\", \"threads\": %u, \"concurrency\": %u, "
	    "\"rate\": %g, \"duration_s\": %g, \"count\": %llu, \"data\": %u, "
	    "\"interval_ms\": %u, \"payload\": %u, \"ramp_up_s\": %g, \"retries\": %u, "
	    "\"timeout_ms\": %u, \"loss_percent\": %g, \"precompute\": %llu},\n",
	    o->rate > 0 ? "open" : "closed", o->threads, (unsigned)o->inflight_cap, o->rate,
	    o->duration, (unsigned long long)o->count, o->data, o->interval_ms, o->payload,
	    o->ramp_up, o->retries, o->timeout_ms, o->loss, (unsigned long long)o->precompute);
}

static void
report_json(FILE *fp, const struct sim_opts *o, const struct sim_addr *a,
    const struct sim_stats *s, const struct sim_times *tm)
{
	double el = tm->elapsed_s;

	fprintf(fp, "{\n");
	json_config(fp, o, a);
	fprintf(fp, "  \"elapsed_s\": %.6f,\n  \"cpu_s\": %.6f,\n  \"precompute_s\": %.6f,\n",
	    el, tm->cpu_s, tm->precompute_s);
	fprintf(fp, "  \"handshakes\": {\"started\": %llu, \"ok\": %llu, \"per_s\": %.3f},\n",
	    (unsigned long long)SIM_GET(s->hs_started), (unsigned long long)SIM_GET(s->hs_ok),
	    (double)SIM_GET(s->hs_ok) / el);
	fprintf(fp, "  \"data\": {\"sent\": %llu, \"ok\": %llu, \"per_s\": %.3f},\n",
	    (unsigned long long)SIM_GET(s->data_sent), (unsigned long long)SIM_GET(s->data_ok),
	    (double)SIM_GET(s->data_ok) / el);
	fprintf(fp, "  \"retransmissions\": %llu,\n  \"retry_answered\": %llu,\n"
	    "  \"ignored_datagrams\": %llu,\n  \"arrivals_not_started\": %llu,\n"
	    "  \"lost_datagrams\": %llu,\n  \"precomputed_used\": %llu,\n"
	    "  \"sessions_resumed\": %llu,\n",
	    (unsigned long long)SIM_GET(s->retransmits), (unsigned long long)SIM_GET(s->retry_msgs),
	    (unsigned long long)SIM_GET(s->ignored), (unsigned long long)SIM_GET(s->unstarted),
	    (unsigned long long)SIM_GET(s->lost), (unsigned long long)SIM_GET(s->prepared),
	    (unsigned long long)SIM_GET(s->resumed));
	fprintf(fp, "  \"errors\": {\"total\": %llu", (unsigned long long)sim_stats_errors(s));
	for (int k = 0; k < SIM_ERR_COUNT; k++)
		fprintf(fp, ", \"%s\": %llu", sim_errkind_name(k),
		    (unsigned long long)SIM_GET(s->err[k]));
	fprintf(fp, "},\n  \"latency_us\": {\n");
	json_latency(fp, "handshake", &s->hs_lat, ",");
	json_latency(fp, "data", &s->data_lat, ",");
	json_latency(fp, "read_lag", &s->read_lag, "");
	fprintf(fp, "  }\n}\n");
}

void
sim_report_final(FILE *fp, const struct sim_opts *o, const struct sim_addr *a,
    const struct sim_stats *total, const struct sim_times *tm)
{
	struct sim_times t = *tm;

	if (t.elapsed_s <= 0)
		t.elapsed_s = 1e-9;
	if (o->json)
		report_json(fp, o, a, total, &t);
	else
		report_text(fp, o, a, total, &t);
	fflush(fp);
}
