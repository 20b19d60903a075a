/* SPDX-License-Identifier: Apache-2.0 */
/* A worker thread: its event loop, slots and modules; when sessions start
 * (closed/open loop, ramp-up) and when the run ends (duration, count, stop). */
#include "config.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "module-sim/thread.h"

uint64_t
sim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
sim_timer_at(struct event *ev, uint64_t at_ns)
{
	uint64_t now = sim_now_ns(), d = at_ns > now ? at_ns - now : 0;
	struct timeval tv = { .tv_sec = (time_t)(d / 1000000000u),
	    .tv_usec = (suseconds_t)(d % 1000000000u / 1000) };

	evtimer_add(ev, &tv);
}

static unsigned
share(uint64_t total, unsigned parts, unsigned index)
{
	return (unsigned)(total / parts + (index < total % parts));
}

unsigned
sim_thread_slots(const struct sim_opts *o, size_t n_modules, unsigned index)
{
	unsigned mods = share(n_modules, o->threads, index), n;

	if (o->rate == 0)
		n = share(o->concurrency, o->threads, index);
	else if (o->concurrency_set)
		n = share(o->concurrency, o->threads, index);
	else
		n = 1024;	/* open loop: enough in flight to expose queueing */
	return n < mods ? n : mods;
}

/* Open loop: when arrival k of this thread is due, in seconds after its
 * start. The rate rises linearly over the ramp-up, then stays. */
static double
arrival_s(double r, double ramp, uint64_t k)
{
	double kk = (double)k, half = r * ramp / 2;

	if (ramp > 0 && kk < half)
		return sqrt(2 * kk * ramp / r);
	return ramp + (kk - half) / r;
}

/* The inverse: how many arrivals were due after s seconds. */
static uint64_t
arrivals_by(double r, double ramp, double s)
{
	if (s <= 0)
		return 0;
	if (ramp > 0 && s < ramp)
		return (uint64_t)(r * s * s / (2 * ramp)) + 1;
	return (uint64_t)(r * ramp / 2 + r * (s - ramp)) + 1;
}

/* Threads interleave their arrivals instead of sending together. */
static uint64_t
phase_ns(const struct sim_thread *t)
{
	return (uint64_t)((double)t->index / t->o->rate * 1e9);
}

static int
quota_reached(const struct sim_thread *t)
{
	return t->quota != 0 && t->started >= t->quota;
}

static void
check_finished(struct sim_thread *t)
{
	if (t->n_busy == 0 && (t->draining || quota_reached(t)))
		event_base_loopexit(t->base, NULL);
}

static struct sim_mod *
ring_pop(struct sim_thread *t)
{
	struct sim_mod *m;

	if (t->ring_len == 0)
		return NULL;
	m = t->ring[t->ring_head];
	t->ring_head = (t->ring_head + 1) % t->ring_cap;
	t->ring_len--;
	return m;
}

static void
ring_push(struct sim_thread *t, struct sim_mod *m)
{
	t->ring[(t->ring_head + t->ring_len) % t->ring_cap] = m;
	t->ring_len++;
}

static void
start(struct sim_thread *t, struct sim_slot *sl, struct sim_mod *m, uint64_t intended)
{
	t->started++;
	t->n_busy++;
	atomic_store_explicit(&t->stats.inflight, t->n_busy, memory_order_relaxed);
	sim_vmod_start(sl, m, intended);
}

/* Open loop: start every arrival that is due. Latency counts from when it
 * was due, so waiting here for a slot or a module shows as latency. */
static void
pump(struct sim_thread *t)
{
	uint64_t now = sim_now_ns(), due, base = t->run->t0_ns + phase_ns(t);

	while (!t->draining && !quota_reached(t)) {
		due = base + (uint64_t)(arrival_s(t->rate, t->o->ramp_up, t->started) * 1e9);
		if (due > now) {
			sim_timer_at(t->arrive_ev, due);
			break;
		}
		if (t->n_free == 0 || t->ring_len == 0)
			break;		/* backlog: the next slot_done pumps again */
		start(t, &t->slots[t->free_slots[--t->n_free]], ring_pop(t), due);
	}
	check_finished(t);
}

static void
on_arrive(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump(arg);
}

void
sim_thread_slot_ready(struct sim_slot *sl)
{
	struct sim_thread *t = sl->t;
	struct sim_mod *m;

	if (t->draining || quota_reached(t) || (m = ring_pop(t)) == NULL) {
		check_finished(t);
		return;
	}
	start(t, sl, m, sim_now_ns());
}

/* The slot is free again. Never starts the next session from here (a
 * failing start would recurse): that happens from the event loop. */
void
sim_thread_slot_done(struct sim_slot *sl, int ok)
{
	struct sim_thread *t = sl->t;

	(void)ok;
	ring_push(t, sl->mod);
	sl->mod = NULL;
	t->n_busy--;
	atomic_store_explicit(&t->stats.inflight, t->n_busy, memory_order_relaxed);
	if (t->o->rate > 0) {
		t->free_slots[t->n_free++] = (unsigned)(sl - t->slots);
		event_active(t->arrive_ev, EV_TIMEOUT, 1);
	} else if (!t->draining && !quota_reached(t)) {
		event_active(sl->tm, EV_TIMEOUT, 1);
	} else {
		check_finished(t);
	}
}

/* No new sessions; long-lived ones end, exchanges in flight complete or
 * time out (bounded by the retries). */
static void
drain(struct sim_thread *t)
{
	uint64_t due;

	if (t->draining)
		return;
	t->draining = 1;
	if (t->o->rate > 0 && !quota_reached(t)) {
		due = arrivals_by(t->rate, t->o->ramp_up, ((double)sim_now_ns() -
		    (double)(t->run->t0_ns + phase_ns(t))) / 1e9);
		if (due > t->started)
			atomic_store_explicit(&t->stats.unstarted, due - t->started,
			    memory_order_relaxed);
	}
	for (unsigned i = 0; i < t->n_slots; i++) {
		if (t->slots[i].st == SLOT_FREE)
			evtimer_del(t->slots[i].tm);	/* a delayed start */
		sim_vmod_close_idle(&t->slots[i]);
	}
	check_finished(t);
}

static void
on_end(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drain(arg);
}

static void
on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct sim_thread *t = arg;

	(void)fd;
	(void)what;
	if (atomic_load(&t->stop_mode) >= 2)
		event_base_loopbreak(t->base);
	else
		drain(t);
}

static enum m2m_err
init_slots(struct sim_thread *t, unsigned n)
{
	size_t c1, c2;
	enum m2m_err err;

	/* Room for the longest AUTH of this run, not a datagram's worth. */
	err = proto_auth_layout(PROTO_IDENTITY_MAX, t->o->payload, PROTO_DATAGRAM_MAX, &c1, &c2,
	    &t->auth_cap);
	if (err != M2M_OK)
		return err;
	if ((t->slots = calloc(n, sizeof(*t->slots))) == NULL ||
	    (t->free_slots = calloc(n, sizeof(*t->free_slots))) == NULL ||
	    (t->auth_buf = calloc(n, PROTO_MOD_CANDIDATES * t->auth_cap)) == NULL)
		return M2M_E_NOMEM;
	t->n_slots = n;
	for (unsigned i = 0; i < n; i++) {
		struct sim_slot *sl = &t->slots[i];

		sl->t = t;
		sl->auth = t->auth_buf + (size_t)i * PROTO_MOD_CANDIDATES * t->auth_cap;
		sl->fd = -1;	/* opened at first use */
		if ((sl->tm = evtimer_new(t->base, sim_vmod_on_timer, sl)) == NULL)
			return M2M_E_NOMEM;
		t->free_slots[t->n_free++] = n - 1 - i;	/* pops slot 0 first */
	}
	return M2M_OK;
}

/* Module i belongs to thread i % T: a module is driven by one thread only. */
static enum m2m_err
init_modules(struct sim_thread *t, struct sim_creds *cr)
{
	size_t n = share(cr->n, t->o->threads, t->index);

	if ((t->ring = calloc(n, sizeof(*t->ring))) == NULL)
		return M2M_E_NOMEM;
	t->ring_cap = n;
	for (size_t i = t->index; i < cr->n; i += t->o->threads)
		ring_push(t, &cr->mods[i]);
	return M2M_OK;
}

static void
fill_payload(struct sim_thread *t)
{
	for (unsigned i = 0; i < sizeof(t->payload); i++)
		t->payload[i] = (uint8_t)("m2m-sim payload "[i % 16]);
}

/* SIGINT and SIGTERM are blocked before the threads exist (main.c) and
 * taken by the supervisor once the run starts; while keys are made, a
 * pending one is looked for every few hundred keys instead. */
static int
stop_pending(void)
{
	sigset_t pend;

	return sigpending(&pend) == 0 &&
	    (sigismember(&pend, SIGINT) == 1 || sigismember(&pend, SIGTERM) == 1);
}

/* --precompute: made here, before the common start, so the run's clock and
 * CPU figures do not include them. All modules of a credentials file pin
 * the same server key; one that pins another does without. */
static enum m2m_err
init_prepared(struct sim_thread *t, const struct sim_creds *cr, size_t n)
{
	enum m2m_err err = M2M_OK;

	if (n == 0 || cr->n == 0)
		return M2M_OK;
	if ((t->prep = calloc(n, sizeof(*t->prep))) == NULL)
		return M2M_E_NOMEM;
	t->prep_cap = n;
	while (t->n_prep < n && err == M2M_OK) {
		if (t->n_prep % 256 == 0 && stop_pending())
			return M2M_E_STOPPED;
		if ((err = proto_mod_prepare(t->ctx, cr->mods[0].c.server_pub,
		    &t->prep[t->n_prep])) == M2M_OK)
			t->n_prep++;
	}
	return err;
}

enum m2m_err
sim_thread_new(struct sim_thread **out, struct sim_run *run, unsigned index, char *detail,
    size_t dlen)
{
	struct sim_thread *t;
	const struct sim_opts *o = run->o;
	enum m2m_err err;

	if ((*out = t = calloc(1, sizeof(*t))) == NULL)
		return M2M_E_NOMEM;
	t->run = run;
	t->o = o;
	t->index = index;
	t->loss_rng = 0x9e3779b97f4a7c15ull * (index + 1);	/* xorshift: never 0 */
	sim_stats_init(&t->stats);
	fill_payload(t);
	t->quota = o->count != 0 ? share(o->count, o->threads, index) : 0;
	t->rate = o->rate / o->threads;
	if ((err = proto_ctx_new(&t->ctx, NULL)) != M2M_OK ||
	    (t->base = event_base_new()) == NULL ||
	    (t->stop_ev = event_new(t->base, -1, 0, on_stop, t)) == NULL ||
	    (t->arrive_ev = evtimer_new(t->base, on_arrive, t)) == NULL ||
	    (t->end_ev = evtimer_new(t->base, on_end, t)) == NULL) {
		snprintf(detail, dlen, "thread %u: cannot set up its event loop", index);
		return err != M2M_OK ? err : M2M_E_NOMEM;
	}
	if ((err = init_modules(t, run->creds)) != M2M_OK ||
	    (err = init_slots(t, sim_thread_slots(o, run->creds->n, index))) != M2M_OK ||
	    (err = init_prepared(t, run->creds, share(o->precompute, o->threads, index))) != M2M_OK)
		snprintf(detail, dlen, "thread %u: %s%s", index, m2m_strerror(err),
		    err == M2M_E_STOPPED ? " while making its --precompute keys, before the run" : "");
	return err;
}

/* First events: the end of the run, and the first starts. */
static void
schedule(struct sim_thread *t)
{
	const struct sim_opts *o = t->o;
	uint64_t t0 = t->run->t0_ns;

	if (o->duration > 0)
		sim_timer_at(t->end_ev, t0 + (uint64_t)(o->duration * 1e9));
	if (o->rate > 0) {
		sim_timer_at(t->arrive_ev, t0 + phase_ns(t));
		return;
	}
	t->n_free = 0;		/* closed loop: every slot runs its own chain */
	for (unsigned i = 0; i < t->n_slots; i++) {
		double g = (double)i * o->threads + t->index;	/* spread over all slots */

		sim_timer_at(t->slots[i].tm, t0 + (uint64_t)(o->ramp_up * g / o->concurrency * 1e9));
	}
}

static void *
thread_main(void *arg)
{
	struct sim_thread *t = arg;
	sigset_t all;

	/* Signals are the main thread's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	schedule(t);
	if (t->n_slots == 0)
		event_base_loopexit(t->base, NULL);
	event_base_dispatch(t->base);
	atomic_store(&t->done, 1);
	pthread_kill(t->run->main_thread, SIGUSR1);
	return NULL;
}

int
sim_thread_start(struct sim_thread *t)
{
	char name[16];
	int rc = pthread_create(&t->tid, NULL, thread_main, t);

	if (rc != 0)
		return rc;
	snprintf(name, sizeof(name), "m2m-sim-%u", t->index % 10000u);
	pthread_setname_np(t->tid, name);
	return 0;
}

void
sim_thread_stop(struct sim_thread *t, int hard)
{
	atomic_store(&t->stop_mode, hard ? 2 : 1);
	event_active(t->stop_ev, EV_READ, 1);
}

int
sim_thread_done(const struct sim_thread *t)
{
	return atomic_load(&t->done);
}

void
sim_thread_join(struct sim_thread *t)
{
	pthread_join(t->tid, NULL);
}

struct sim_stats *
sim_thread_stats(struct sim_thread *t)
{
	return &t->stats;
}

void
sim_thread_free(struct sim_thread *t)
{
	if (t == NULL)
		return;
	for (unsigned i = 0; t->slots != NULL && i < t->n_slots; i++) {
		struct sim_slot *sl = &t->slots[i];

		if (sl->rd != NULL)
			event_free(sl->rd);
		if (sl->tm != NULL)
			event_free(sl->tm);
		if (sl->fd >= 0)
			close(sl->fd);
		proto_mod_hs_wipe(&sl->hs);
		proto_session_wipe(&sl->s);
	}
	if (t->stop_ev != NULL)
		event_free(t->stop_ev);
	if (t->arrive_ev != NULL)
		event_free(t->arrive_ev);
	if (t->end_ev != NULL)
		event_free(t->end_ev);
	if (t->base != NULL)
		event_base_free(t->base);
	proto_ctx_free(t->ctx);
	if (t->prep != NULL)
		proto_wipe(t->prep, t->prep_cap * sizeof(*t->prep));
	free(t->prep);
	free(t->slots);
	free(t->auth_buf);
	free(t->free_slots);
	free(t->ring);
	free(t);
}
