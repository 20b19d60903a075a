/* SPDX-License-Identifier: Apache-2.0 */
/* m2m-sim's command line, run as the built binary: bad arguments and bad
 * credentials files exit with status 2 and a message naming the problem. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tests/sim/simtest.h"

static char dir[256], cred[300];
static struct st_enrolled e;

static void
setup(void)
{
	st_tmpdir(dir, sizeof(dir));
	snprintf(cred, sizeof(cred), "%s/sim.cred", dir);
	st_enroll(&e, 4, cred);
}

static void
teardown(void)
{
	st_enrolled_free(&e);
	st_cleanup(dir);
}

TestSuite(args, .init = setup, .fini = teardown);

static void
expect(int status, const char *msg, const char *const *argv)
{
	char *out, *err;
	int rc = st_run_sim(argv, &out, &err);

	cr_assert_eq(rc, status, "exit %d, expected %d; stderr: %s", rc, status, err);
	if (msg != NULL)
		cr_assert_not_null(strstr(err, msg), "stderr '%s' lacks '%s'", err, msg);
	if (status == 2)
		cr_assert_eq(out[0], '\0', "stdout not empty: %s", out);
	free(out);
	free(err);
}

#define USAGE(msg, ...) expect(2, msg, (const char *const []){ __VA_ARGS__, NULL })
/* 127.0.0.1:9 (discard): never contacted, every case stops before. */
#define SRV "--server", "127.0.0.1:9", "--credentials", cred

Test(args, required_options)
{
	USAGE("m2m-sim: --server HOST:PORT is required", "--credentials", cred);
	USAGE("m2m-sim: --credentials FILE is required", "--server", "127.0.0.1:9");
}

Test(args, numbers_out_of_range)
{
	USAGE("--threads: expected a whole number from 1 to 1024, got '0'", SRV, "--threads", "0");
	USAGE("--threads: expected a whole number from 1 to 1024, got 'two'", SRV, "--threads",
	    "two");
	USAGE("--concurrency: expected a whole number", SRV, "--concurrency", "-3");
	USAGE("--rate: expected a positive number", SRV, "--rate", "0");
	USAGE("--duration: expected a positive number", SRV, "--duration", "1s");
	USAGE("--count: expected a whole number", SRV, "--count", "0");
	USAGE("--payload: expected a whole number from 0 to 1000, got '2000'", SRV, "--payload",
	    "2000");
	USAGE("--retries: expected a whole number from 0 to 20", SRV, "--retries", "99");
	USAGE("--timeout: expected a whole number from 1 to 60000", SRV, "--timeout", "0");
	USAGE("--loss: expected a non-negative number of at most 50", SRV, "--loss", "60");
	USAGE("--loss: expected a non-negative number of at most 50", SRV, "--loss", "-1");
	USAGE("--precompute: expected a whole number from 0 to 10000000, got '20000000'", SRV,
	    "--precompute", "20000000");
	USAGE("--precompute: expected a whole number", SRV, "--precompute", "1e3");
	USAGE("--interval: expected a whole number", SRV, "--interval", "");
	USAGE("--ramp-up: expected a non-negative number", SRV, "--ramp-up", "-1");
}

Test(args, unknown_and_missing)
{
	USAGE("unknown option '--bogus'", SRV, "--bogus");
	USAGE("--server needs a value", "--credentials", cred, "--server");
	USAGE("unexpected argument 'extra'", SRV, "extra");
}

Test(args, combinations)
{
	USAGE("--ramp-up (5 s) must be shorter than --duration (2 s)", SRV, "--ramp-up", "5",
	    "--duration", "2");
	USAGE("--concurrency 2 is below --threads 3", SRV, "--concurrency", "2", "--threads", "3");
	USAGE("--concurrency 5 needs as many modules", SRV, "--concurrency", "5");
	USAGE("--threads 8 exceeds the 4 modules", SRV, "--threads", "8", "--concurrency", "8");
	USAGE("--server: expected HOST:PORT or [IPV6]:PORT, got 'localhost'", "--server",
	    "localhost", "--credentials", cred);
	USAGE("--server: expected HOST:PORT or [IPV6]:PORT, got '::1:9'", "--server", "::1:9",
	    "--credentials", cred);
}

Test(args, credentials_problems)
{
	char missing[300], bad[300];

	snprintf(missing, sizeof(missing), "%s/none.cred", dir);
	snprintf(bad, sizeof(bad), "%s/bad.cred", dir);
	st_write_file(bad, "# m2m-credentials 1\nserver 00\n");
	USAGE("none.cred: No such file or directory", "--server", "127.0.0.1:9",
	    "--credentials", missing);
	USAGE("bad.cred:2: server line needs 3 fields", "--server", "127.0.0.1:9",
	    "--credentials", bad);
}

/* Ctrl-C while the keys are made stops m2m-sim then, not after the
 * preparation (10,000,000 keys take minutes). */
Test(args, sigint_while_precomputing_stops_at_once, .timeout = 60)
{
	const char *argv[] = { SRV, "--precompute", "10000000", NULL };
	char *out, *err;
	int rc = st_run_sim_signal(argv, SIGINT, &out, &err);

	cr_assert_eq(rc, 1, "exit %d; stderr: %s", rc, err);
	cr_assert_not_null(strstr(err, "stopped by a signal while making its --precompute keys"),
	    "stderr: %s", err);
	cr_assert_null(strstr(err, "keys precomputed"), "stderr: %s", err);
	cr_assert_eq(out[0], '\0', "no report: %s", out);
	free(out);
	free(err);
}

Test(args, help_exits_zero)
{
	char *out, *err;
	const char *const argv[] = { "--help", NULL };

	cr_assert_eq(st_run_sim(argv, &out, &err), 0);
	cr_assert_not_null(strstr(out, "usage: m2m-sim --server HOST:PORT --credentials FILE"));
	cr_assert_not_null(strstr(out, "--no-save"));
	free(out);
	free(err);
}
