/* SPDX-License-Identifier: Apache-2.0 */
/* The pool through a real token outage: SoftHSM2's token directory taken
 * away for 2 s under load and given back. SoftHSM2 then fails every new
 * session until C_Initialize runs again, so only a re-opened module heals;
 * the pool must notice, refuse requests at once meanwhile, log the loss and
 * the return once each, and serve again without a new hsm_open. A re-open
 * that meets a wrong PIN tries it once and never again. An idle pool sees
 * the loss and the return with no request. Recovery time and the requests
 * refused are printed. */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/hsm/drv.h"

#define LOADERS		4

static struct tok t;
static struct hsm *h;
static struct hsm_key_info key;

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned warnings, infos;
static char last_warning[512];

static void
on_log(void *arg, enum hsm_log_level level, const char *msg)
{
	(void)arg;
	pthread_mutex_lock(&log_mu);
	warnings += level == HSM_LOG_WARN;
	infos += level == HSM_LOG_INFO;
	if (level == HSM_LOG_WARN)
		snprintf(last_warning, sizeof(last_warning), "%s", msg);
	pthread_mutex_unlock(&log_mu);
	cr_log_info("pool log: %s", msg);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The one token's own directory inside the token directory. */
static void
token_path(char *out, size_t len)
{
	struct dirent *e;
	struct stat st;
	DIR *d = opendir(t.dir);
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(out, len, "%s/%.200s", t.dir, e->d_name) >= len)
			continue;
		if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
			n++;
		else
			out[0] = '\0';
		if (n == 1 && out[0] != '\0')
			break;
	}
	closedir(d);
	cr_assert_eq(n, 1, "one token directory in %s", t.dir);
}

/* Requesters that keep derives going through the outage: every secret
 * served must be right, whatever state the module is in. */
static struct {
	struct drv d[LOADERS];
	atomic_int stop;
	atomic_uint ok, failed, refused, wrong;
} load;

static void *
loader(void *arg)
{
	struct drv *d = arg;

	while (!atomic_load(&load.stop)) {
		drv_run(d, 20, 8);
		atomic_fetch_add(&load.ok, d->ok);
		atomic_fetch_add(&load.failed, d->failed);
		atomic_fetch_add(&load.refused, d->refused);
		atomic_fetch_add(&load.wrong, d->wrong);
		if (d->failed > 0)
			usleep(2000);
	}
	return NULL;
}

static void
loaders(struct hsm_pool *p, pthread_t tid[LOADERS], int start)
{
	atomic_store(&load.stop, !start);
	for (int i = 0; i < LOADERS; i++) {
		if (start) {
			drv_init(&load.d[i], p, key.key_id, key.pub);
			cr_assert(pthread_create(&tid[i], NULL, loader, &load.d[i]) == 0);
		} else {
			pthread_join(tid[i], NULL);
		}
	}
}

/* Seconds until a round of 16 derives all succeed, at most limit. */
static double
until_served(struct drv *d, double limit)
{
	double t0 = now();

	while (now() - t0 < limit) {
		drv_run(d, 16, 8);
		if (d->ok == 16)
			return now() - t0;
		usleep(20000);
	}
	return -1;
}

/* A fresh token with a key, opened (through the shim if via_shim, which
 * counts logins), and a pool of 2 threads on it. */
static struct hsm_pool *
start(int via_shim)
{
	char err[HSM_DETAIL_LEN] = "";
	struct hsm_pool *p = NULL;

	tok_create(&t, "m2m", via_shim);
	cr_assert_eq(hsm_open(&h, &t.cfg, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(hsm_keygen(h, "server", NULL, 0, &key, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(hsm_pool_new(h, 2, 64, on_log, NULL, &p, err, sizeof(err)), M2M_OK, "%s",
	    err);
	return p;
}

static void
stop(struct hsm_pool *p)
{
	hsm_pool_free(p);
	hsm_close(h);
	tok_destroy(&t);
}

/* Out of the token directory: SoftHSM2 finds a token in any of its
 * subdirectories, whatever the name. */
static void
token_move(char *tokdir, size_t len, char *away, size_t alen, int back)
{
	if (!back) {
		token_path(tokdir, len);
		snprintf(away, alen, "%s.away", t.dir);
	}
	cr_assert_eq(rename(back ? away : tokdir, back ? tokdir : away), 0);
}

Test(hsm_outage, token_directory_away_2s_heals_without_reopening_by_hand, .timeout = 60)
{
	char tokdir[256], away[300];
	struct hsm_pool *p = start(0);
	struct hsm_pool_stats st;
	pthread_t tid[LOADERS];
	struct drv probe;
	unsigned warn_before, ok_before;
	double heal;

	drv_init(&probe, p, key.key_id, key.pub);
	cr_assert_geq(until_served(&probe, 5), 0, "served before the outage");
	loaders(p, tid, 1);
	usleep(300000);
	ok_before = atomic_load(&load.ok);
	cr_assert_gt(ok_before, 0);

	pthread_mutex_lock(&log_mu);
	warn_before = warnings;
	pthread_mutex_unlock(&log_mu);
	token_move(tokdir, sizeof(tokdir), away, sizeof(away), 0);
	sleep(2);
	hsm_pool_stats(p, &st);
	cr_assert_eq(st.token_ok, 0, "the pool noticed the token is gone");
	cr_assert_gt(atomic_load(&load.failed), 0, "requests failed during the outage");
	cr_assert_gt(st.rejected_down, 0, "refused at once, not queued");
	token_move(tokdir, sizeof(tokdir), away, sizeof(away), 1);

	heal = until_served(&probe, 10);
	loaders(p, tid, 0);
	hsm_pool_stats(p, &st);
	printf("token directory away 2 s: served again %.2f s after it came back; %u derives "
	    "failed (%u refused at submit), %llu re-open attempts failed, %llu succeeded, "
	    "%u warnings logged\n", heal, atomic_load(&load.failed), atomic_load(&load.refused),
	    (unsigned long long)st.reopen_failures, (unsigned long long)st.reopens,
	    warnings - warn_before);
	cr_assert_geq(heal, 0, "served again within 10 s of the token's return, same hsm");
	cr_assert_eq(atomic_load(&load.wrong), 0, "no wrong secret, before, during or after");
	cr_assert_eq(st.token_ok, 1);
	cr_assert_geq(st.reopens, 1);
	cr_assert_eq(st.token_lost, 1, "one outage, seen as one");
	cr_assert_eq(st.queue_depth, 0);
	pthread_mutex_lock(&log_mu);
	cr_assert_leq(warnings - warn_before, 2, "the loss logged once (and at most one change "
	    "of reason), not once per failed request: %u", warnings - warn_before);
	cr_assert_eq(infos, 1, "the return logged once");
	pthread_mutex_unlock(&log_mu);
	stop(p);
}

/* Polls until n more re-open attempts failed; 0 if none came in secs. */
static int
wait_failed_attempts(struct hsm_pool *p, uint64_t n, double secs)
{
	struct hsm_pool_stats st;
	uint64_t base;
	double t0 = now();

	hsm_pool_stats(p, &st);
	base = st.reopen_failures;
	while (now() - t0 < secs) {
		hsm_pool_stats(p, &st);
		if (st.reopen_failures >= base + n)
			return 1;
		usleep(50000);
	}
	return 0;
}

/* The PIN file changed to a wrong PIN while m2md ran, then the token went
 * away and came back: the re-open logs in once, fails, and never again,
 * so the token is not locked; the pool stays down and says why. */
Test(hsm_outage, a_re_open_tries_a_wrong_pin_once_and_never_again, .timeout = 60)
{
	char tokdir[256], away[300], err[HSM_DETAIL_LEN] = "";
	struct hsm_pool *p = start(1);
	struct m2m_shim_ctl *ctl = tok_shim(&t);
	struct hsm_pool_stats st;
	struct hsm *again = NULL;
	struct drv probe;
	unsigned logins;

	drv_init(&probe, p, key.key_id, key.pub);
	cr_assert_geq(until_served(&probe, 5), 0, "served before the outage");
	tok_write_pin(&t, "0000-wrong");
	token_move(tokdir, sizeof(tokdir), away, sizeof(away), 0);
	drv_run(&probe, 16, 8);
	cr_assert_eq(probe.ok, 0);
	/* An attempt while away fails before any login: count from here. */
	cr_assert(wait_failed_attempts(p, 1, 10), "a re-open attempt while away");
	logins = atomic_load(&ctl->logins);
	token_move(tokdir, sizeof(tokdir), away, sizeof(away), 1);
	/* Back, and three more attempts (up to 5 s apart) after the first
	 * that could log in. */
	cr_assert(wait_failed_attempts(p, 4, 30), "re-open attempts go on");
	hsm_pool_stats(p, &st);
	printf("wrong PIN at re-open: %u C_Login, %llu failed attempts\n",
	    atomic_load(&ctl->logins) - logins, (unsigned long long)st.reopen_failures);
	cr_assert_eq(atomic_load(&ctl->logins) - logins, 1, "one C_Login with the wrong PIN");
	cr_assert_eq(st.token_ok, 0);
	pthread_mutex_lock(&log_mu);
	cr_assert(strstr(last_warning, "wrong PIN") != NULL, "%s", last_warning);
	pthread_mutex_unlock(&log_mu);
	/* Not locked: the right PIN still opens the token. */
	tok_write_pin(&t, TOK_PIN);
	cr_assert_eq(hsm_open(&again, &t.cfg, err, sizeof(err)), M2M_OK, "%s", err);
	hsm_close(again);
	stop(p);
}

/* Seconds until the pool's token_ok is want, with no request; -1 past secs. */
static double
until_state(struct hsm_pool *p, int want, double secs)
{
	struct hsm_pool_stats st;
	double t0 = now();

	while (now() - t0 < secs) {
		hsm_pool_stats(p, &st);
		if (st.token_ok == want)
			return now() - t0;
		usleep(20000);
	}
	return -1;
}

/* Nobody asks for a derive: the idle pool's probe finds the token gone,
 * and the re-open finds it back, so m2md_hsm_up tells the truth before
 * the next handshake does. */
Test(hsm_outage, an_idle_pool_notices_the_loss_and_the_return, .timeout = 60)
{
	char tokdir[256], away[300];
	struct hsm_pool *p = start(0);
	struct hsm_pool_stats st;
	struct drv probe;
	double lost, back;
	uint64_t submitted;

	drv_init(&probe, p, key.key_id, key.pub);
	cr_assert_geq(until_served(&probe, 5), 0, "served before the outage");
	hsm_pool_stats(p, &st);
	submitted = st.submitted;
	token_move(tokdir, sizeof(tokdir), away, sizeof(away), 0);
	lost = until_state(p, 0, 15);
	token_move(tokdir, sizeof(tokdir), away, sizeof(away), 1);
	back = until_state(p, 1, 15);
	hsm_pool_stats(p, &st);
	printf("idle pool: loss seen %.2f s after the token went, return %.2f s after it "
	    "came back; %llu probes\n", lost, back, (unsigned long long)st.probes);
	cr_assert_eq(st.submitted, submitted, "no request in between");
	cr_assert_geq(lost, 0, "the loss seen without a request");
	cr_assert_geq(back, 0, "the return seen without a request");
	cr_assert_geq(st.probes, 1);
	cr_assert_eq(st.token_lost, 1);
	stop(p);
}
