/* SPDX-License-Identifier: Apache-2.0 */
/* A real token outage under a running m2md: the world's SoftHSM2 token
 * directory (directories.tokendir of $M2M_TEST_WORLD/softhsm2.conf) moved
 * away for 2 s and put back, no test PKCS#11 module in between. Handshakes
 * fail meanwhile; after it they succeed again without a restart, within a
 * stated bound; the log says so in a few lines, not one per failed
 * handshake; /metrics shows the state and the re-open. Printed: the time
 * to recover, the handshakes failed, the warning lines. */
#include "config.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/faults/faults.h"

#define TOK_LOADERS	4
#define TOK_PER_LOADER	40		/* modules each loader may use */
#define TOK_MODULES	(TOK_LOADERS * TOK_PER_LOADER + 40)
#define TOK_HEAL_BOUND	10.0		/* seconds after the token is back */
#define TOK_WARN_BOUND	5		/* warning lines for the whole outage */

static const char *tok_creds;
static int tok_port;
static atomic_size_t tok_next;

/* One handshake of a module not used before; 1 when the WELCOME came. */
static int
handshake(int timeout_ms)
{
	size_t idx = atomic_fetch_add(&tok_next, 1);
	struct cli c;
	int ok;

	cr_assert_lt(idx, TOK_MODULES, "enough modules enrolled");
	st_open(&c, tok_creds, idx, tok_port);
	c.timeout_ms = timeout_ms;
	ok = cli_handshake(&c, (const uint8_t *)"tok", 3) == M2M_OK;
	cli_close(&c);
	return ok;
}

/* The token directory the world's SoftHSM2 reads. */
static void
token_dir(char *out, size_t len)
{
	char line[1024];
	FILE *f = fopen(st_path("softhsm2.conf"), "r");

	cr_assert_not_null(f);
	out[0] = '\0';
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, " directories.tokendir = %1023s", line) == 1)
			snprintf(out, len, "%s", line);
	fclose(f);
	cr_assert_neq(out[0], '\0', "directories.tokendir in softhsm2.conf");
}

static long
warning_lines(const char *log)
{
	char cmd[1024], out[64];

	snprintf(cmd, sizeof(cmd), "grep -c '^m2md\\[warning\\]' '%s'", log);
	st_capture(cmd, out, sizeof(out));
	return atol(out);
}

static void
print_hsm_log(const char *log)
{
	char cmd[1024], out[2048];

	snprintf(cmd, sizeof(cmd), "grep 'HSM: ' '%s'", log);
	st_capture(cmd, out, sizeof(out));
	printf("token directory away 2 s: m2md's HSM log lines:\n%s", out);
}

/* Handshakes from several modules at once while the token is away, so
 * that failures outnumber what a sane log may say about them. */
static struct {
	atomic_int stop;
	atomic_uint ok, failed;
} load;

static void *
loader(void *arg)
{
	(void)arg;
	for (int i = 0; i < TOK_PER_LOADER && !atomic_load(&load.stop); i++)
		atomic_fetch_add(handshake(200) ? &load.ok : &load.failed, 1);
	return NULL;
}

/* Returns m2md_hsm_up as read while the token was away. */
static double
outage(const char *dir, const char *away, double secs, int mport)
{
	pthread_t t[TOK_LOADERS];
	double t0, up;

	/* Put back before any assertion: the world's later tests need it. */
	cr_assert_eq(rename(dir, away), 0, "move %s away", dir);
	t0 = ft_now();
	for (int i = 0; i < TOK_LOADERS; i++)
		pthread_create(&t[i], NULL, loader, NULL);
	while (ft_now() - t0 < secs)
		usleep(20000);
	up = st_metric(mport, "m2md_hsm_up", NULL);
	atomic_store(&load.stop, 1);
	for (int i = 0; i < TOK_LOADERS; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(rename(away, dir), 0, "put %s back", dir);
	return up;
}

/* Seconds from now to the first successful handshake; -1 past the bound. */
static double
time_to_heal(void)
{
	double t0 = ft_now();

	while (ft_now() - t0 < TOK_HEAL_BOUND)
		if (handshake(500))
			return ft_now() - t0;
	return -1;
}

Test(faults, token_directory_away_2s_heals_without_restart, .timeout = 90)
{
	char dir[1024], away[1100], log[600];
	double heal, up_during, lost, reopens, refused;
	long warn0, warn;
	pid_t pid;
	int mport;

	tok_creds = st_enroll("creds-tok", TOK_MODULES);
	tok_port = ft_port(30);
	mport = tok_port + 1;
	token_dir(dir, sizeof(dir));
	snprintf(away, sizeof(away), "%s.away", dir);
	snprintf(log, sizeof(log), "%s.log", st_path("m2md-tok.conf"));
	pid = ft_start_m2md("m2md-tok.conf", tok_port,
	    "[limits]\nsource_rate = 1000000\nsource_burst = 1000000\n");
	for (int i = 0; i < 3; i++)
		cr_assert(handshake(5000), "handshake %d before the outage", i);
	warn0 = warning_lines(log);

	up_during = outage(dir, away, 2.0, mport);
	heal = time_to_heal();
	lost = st_metric(mport, "m2md_hsm_token_lost_total", NULL);
	reopens = st_metric(mport, "m2md_hsm_reopens_total", NULL);
	refused = st_metric(mport, "m2md_hsm_rejected_down_total", NULL);
	warn = warning_lines(log) - warn0;
	printf("token directory away 2 s: %u handshakes failed, %u succeeded during it; first "
	    "success %.2f s after the token came back (bound %.0f s); %ld warning lines during "
	    "and after it; m2md_hsm_up during: %g, m2md_hsm_token_lost_total %g, "
	    "m2md_hsm_reopens_total %g, m2md_hsm_rejected_down_total %g\n",
	    atomic_load(&load.failed), atomic_load(&load.ok), heal, TOK_HEAL_BOUND, warn,
	    up_during, lost, reopens, refused);
	print_hsm_log(log);
	cr_assert_gt(atomic_load(&load.failed), TOK_WARN_BOUND, "handshakes failed while the "
	    "token was away (more than the warnings allowed, so the bound means something)");
	cr_assert_eq(up_during, 0, "m2md_hsm_up is 0 while the token is away");
	cr_assert_geq(heal, 0, "handshakes succeed again within %.0f s, same m2md",
	    TOK_HEAL_BOUND);
	for (int i = 0; i < 3; i++)
		cr_assert(handshake(5000), "handshake %d after the outage", i);
	cr_assert_eq(st_metric(mport, "m2md_hsm_up", NULL), 1);
	cr_assert_eq(lost, 1, "one outage, counted once");
	cr_assert_geq(reopens, 1, "the module was re-opened");
	cr_assert_gt(refused, 0, "refused at once while lost, not queued");
	cr_assert_leq(warn, TOK_WARN_BOUND, "%ld warning lines for %u failed handshakes", warn,
	    atomic_load(&load.failed));
	cr_assert(ft_alive(pid), "the same m2md process all along");
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}
