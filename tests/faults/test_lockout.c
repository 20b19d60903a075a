/* SPDX-License-Identifier: Apache-2.0 */
/* No fault may leave a module holding a pseudonym the database does not
 * accept (doc/protocol.md, 12.1). m2m-sim drives simulated modules, short
 * timeouts and few retries, against an m2md one of whose workers has its
 * write connection paused (SIGSTOP of its PostgreSQL backend) for a few
 * seconds: AUTHs pile up in that worker's commit queue, their modules give
 * up and complete new handshakes with the same pseudonym on the other
 * worker, then the paused commits go through. m2m-sim saves the pseudonyms
 * its modules end with; the lock-out check (tests/server/lockout.c)
 * compares them with the database. */
#include "config.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/faults/faults.h"
#include "tests/server/lockout.h"

#define PAUSE_SECS	3
#define SIM_SECS	(PAUSE_SECS + 4)

static int paused;	/* a backend this test stopped: resumed whatever happens */

static void
resume_paused(void)
{
	if (paused > 0)
		kill(paused, SIGCONT);
	paused = 0;
}

/* A write connection of the m2md started after `before` (backend pids)
 * that has committed handshakes. */
static int
a_writer_backend(const char *before)
{
	const char *p[1] = { before };
	int pid;

	pid = atoi(st_sql("SELECT coalesce(min(pid), 0) FROM pg_stat_activity WHERE"
	    " pid <> ALL($1::int[]) AND pid <> pg_backend_pid() AND query LIKE '%handshake(%'",
	    1, p));
	cr_assert_gt(pid, 0, "a write connection has committed handshakes");
	return pid;
}

Test(lockout, paused_commits_leave_no_module_locked_out, .timeout = 60,
    .fini = resume_paused)
{
	int port = ft_port(30);
	const char *creds = st_enroll("creds-lockout", 48);
	char before[4096], cmd[1024], ids[1024] = "";
	double commits;
	long bad;
	pid_t pid;
	FILE *sim;

	snprintf(before, sizeof(before), "%s", st_sql("SELECT '{' || string_agg(pid::text, ',')"
	    " || '}' FROM pg_stat_activity", 0, NULL));
	pid = ft_start_m2md("m2md-lockout.conf", port,
	    "[limits]\nsource_rate = 1000000\nsource_burst = 1000000\n"
	    "hsm_source_rate = 1000000\nhsm_source_burst = 1000000\n"
	    "pseudonym_rate = 1000\npseudonym_burst = 1000\n");
	snprintf(cmd, sizeof(cmd), "'%s/m2m-sim' --server 127.0.0.1:%d --credentials '%s'"
	    " --concurrency 16 --duration %d --timeout 50 --retries 1 --quiet >/dev/null",
	    TEST_BUILDDIR, port, creds, SIM_SECS);
	/* Its report to /dev/null: a closed pipe would kill it before it saves. */
	cr_assert_not_null(sim = popen(cmd, "r"));
	sleep(1);
	paused = a_writer_backend(before);
	cr_assert_eq(kill(paused, SIGSTOP), 0);
	sleep(PAUSE_SECS);
	resume_paused();
	pclose(sim);		/* non-zero: sessions failed, as they should have */
	commits = st_metric(port + 1, "m2md_db_commits_total", NULL);
	printf("paused commits: m2md_handshakes_completed_total %g, m2md_db_commits_total %g\n",
	    st_metric(port + 1, "m2md_handshakes_completed_total", NULL), commits);
	bad = st_locked_out_file(creds, ids, sizeof(ids));
	cr_expect_eq(bad, 0, "%ld of 48 modules hold a pseudonym the database does not accept: %s",
	    bad, ids);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0);
}
