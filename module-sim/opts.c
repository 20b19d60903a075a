/* SPDX-License-Identifier: Apache-2.0 */
/* Command line of m2m-sim: parsing, range checks with a message naming the
 * option, the defaults, and the usage text. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "module-sim/sim.h"

enum {
	OPT_SERVER = 256, OPT_CREDS, OPT_THREADS, OPT_CONC, OPT_RATE, OPT_DURATION, OPT_COUNT,
	OPT_DATA, OPT_INTERVAL, OPT_PAYLOAD, OPT_RAMP, OPT_RETRIES, OPT_TIMEOUT, OPT_JSON,
	OPT_QUIET, OPT_NOSAVE, OPT_VERSION, OPT_LOSS, OPT_PRECOMPUTE,
};

static const struct option longopts[] = {
	{ "server", required_argument, NULL, OPT_SERVER },
	{ "credentials", required_argument, NULL, OPT_CREDS },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "concurrency", required_argument, NULL, OPT_CONC },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "data", required_argument, NULL, OPT_DATA },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "payload", required_argument, NULL, OPT_PAYLOAD },
	{ "ramp-up", required_argument, NULL, OPT_RAMP },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "loss", required_argument, NULL, OPT_LOSS },
	{ "precompute", required_argument, NULL, OPT_PRECOMPUTE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "no-save", no_argument, NULL, OPT_NOSAVE },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

void
sim_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: m2m-sim --server HOST:PORT --credentials FILE [options]\n"
	    "  --threads T         worker threads, each with its own event loop (default 1)\n"
	    "  --concurrency N     closed loop: sessions in flight (default 1);\n"
	    "                      with --rate: cap on sessions in flight\n"
	    "  --rate R            open loop: start R sessions per second\n"
	    "  --duration S        stop starting sessions after S seconds (default 10)\n"
	    "  --count H           stop after H handshakes\n"
	    "  --data K            DATA messages per session after the handshake (default 0)\n"
	    "  --interval MS       long-lived sessions: one DATA every MS milliseconds\n"
	    "  --payload BYTES     size of the first data and of each DATA payload (default 16)\n"
	    "  --ramp-up S         reach full concurrency or rate linearly over S seconds\n"
	    "  --retries N         retransmissions before giving up (default 4)\n"
	    "  --timeout MS        first retransmission timeout, doubling (default 200)\n"
	    "  --loss PERCENT      lose that share of datagrams each way, as a bad link would\n"
	    "  --precompute N      make N ephemeral keys and their first DH before the run,\n"
	    "                      as an idle module can: less CPU per handshake in the run\n"
	    "  --json              final report as JSON on stdout\n"
	    "  --quiet             no progress lines\n"
	    "  --no-save           do not write the new pseudonyms back to FILE\n");
}

static int
fail(char *detail, size_t dlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, dlen, fmt, ap);
	va_end(ap);
	return 2;
}

/* An unsigned integer in [min, max]; 0 when it is not one. */
static int
num(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s == '\0' || *s == '-' || *s == '+')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return 0;
	*out = v;
	return 1;
}

static int
real(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (*s == '\0')
		return 0;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v < min || v > max)
		return 0;
	*out = v;
	return 1;
}

static void
defaults(struct sim_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->threads = 1;
	o->concurrency = 1;
	o->payload = 16;
	o->retries = 4;
	o->timeout_ms = 200;
}

static int
uopt(const char *name, const char *arg, uint64_t lo, uint64_t hi, uint64_t *v, char *detail,
    size_t dlen)
{
	if (num(arg, lo, hi, v))
		return 0;
	*v = 0;
	return fail(detail, dlen, "%s: expected a whole number from %llu to %llu, got '%s'",
	    name, (unsigned long long)lo, (unsigned long long)hi, arg);
}

static int
dopt(const char *name, const char *arg, double lo, double hi, double *v, char *detail,
    size_t dlen)
{
	if (real(arg, lo, hi, v))
		return 0;
	return fail(detail, dlen, "%s: expected a %snumber of at most %g, got '%s'", name,
	    lo > 0 ? "positive " : "non-negative ", hi, arg);
}

static int
set_option(struct sim_opts *o, int id, const char *arg, char *d, size_t dl)
{
	uint64_t v = 0;
	int r = 0;

	switch (id) {
	case OPT_SERVER: o->server = arg; break;
	case OPT_CREDS: o->creds_path = arg; break;
	case OPT_THREADS: r = uopt("--threads", arg, 1, 1024, &v, d, dl); o->threads = (unsigned)v; break;
	case OPT_CONC:
		r = uopt("--concurrency", arg, 1, 1000000, &v, d, dl);
		o->concurrency = (unsigned)v, o->concurrency_set = 1;
		break;
	case OPT_RATE: r = dopt("--rate", arg, 1e-3, 1e7, &o->rate, d, dl); break;
	case OPT_DURATION: r = dopt("--duration", arg, 1e-3, 1e7, &o->duration, d, dl); break;
	case OPT_COUNT: r = uopt("--count", arg, 1, 1000000000000ull, &o->count, d, dl); break;
	case OPT_DATA: r = uopt("--data", arg, 0, 1000000000, &v, d, dl); o->data = (unsigned)v; break;
	case OPT_INTERVAL:
		r = uopt("--interval", arg, 1, 3600000, &v, d, dl);
		o->interval_ms = (unsigned)v;
		break;
	case OPT_PAYLOAD:
		r = uopt("--payload", arg, 0, SIM_PAYLOAD_MAX, &v, d, dl);
		o->payload = (unsigned)v;
		break;
	case OPT_RAMP: r = dopt("--ramp-up", arg, 0, 1e6, &o->ramp_up, d, dl); break;
	case OPT_RETRIES: r = uopt("--retries", arg, 0, 20, &v, d, dl); o->retries = (unsigned)v; break;
	case OPT_TIMEOUT:
		r = uopt("--timeout", arg, 1, 60000, &v, d, dl);
		o->timeout_ms = (unsigned)v;
		break;
	case OPT_LOSS: r = dopt("--loss", arg, 0, 50, &o->loss, d, dl); break;
	case OPT_PRECOMPUTE:
		r = uopt("--precompute", arg, 0, SIM_PRECOMPUTE_MAX, &o->precompute, d, dl);
		break;
	case OPT_JSON: o->json = 1; break;
	case OPT_QUIET: o->quiet = 1; break;
	case OPT_NOSAVE: o->no_save = 1; break;
	default: r = fail(d, dl, "unknown option (see m2m-sim --help)"); break;
	}
	return r;
}

/* Rules that involve more than one option. */
static int
check_combination(struct sim_opts *o, char *d, size_t dl)
{
	if (o->server == NULL)
		return fail(d, dl, "--server HOST:PORT is required");
	if (o->creds_path == NULL)
		return fail(d, dl, "--credentials FILE is required");
	if (o->duration == 0 && o->count == 0)
		o->duration = 10;
	if (o->duration > 0 && o->ramp_up >= o->duration)
		return fail(d, dl, "--ramp-up (%g s) must be shorter than --duration (%g s)",
		    o->ramp_up, o->duration);
	if (o->rate == 0 && o->concurrency < o->threads)
		return fail(d, dl, "--concurrency %u is below --threads %u: every thread needs "
		    "at least one session in flight", o->concurrency, o->threads);
	if (o->count > 0 && o->count < o->threads)
		return fail(d, dl, "--count %llu is below --threads %u",
		    (unsigned long long)o->count, o->threads);
	return 0;
}

int
sim_opts_parse(struct sim_opts *o, int argc, char **argv, char *detail, size_t dlen)
{
	int c, r;

	defaults(o);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (c == 'h') {
			sim_usage(stdout);
			return 1;
		}
		if (c == OPT_VERSION) {
			printf("m2m-sim (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return 1;
		}
		if (c == ':')
			return fail(detail, dlen, "%s needs a value", argv[optind - 1]);
		if (c == '?')
			return fail(detail, dlen, "unknown option '%s' (see m2m-sim --help)",
			    argv[optind - 1]);
		if ((r = set_option(o, c, optarg, detail, dlen)) != 0)
			return r;
	}
	if (optind < argc)
		return fail(detail, dlen, "unexpected argument '%s'", argv[optind]);
	return check_combination(o, detail, dlen);
}
