/* SPDX-License-Identifier: Apache-2.0 */
/* Troubleshooting one device, as doc/operations.md (6) tells an operator
 * to: with m2md at debug level, every dropped datagram is one log line
 * with its reason and source address, within a budget of lines a second
 * that a flood cannot exceed; a failed handshake names the module and the
 * address; an established session is an info line when log_sessions is
 * set; the database keeps each module's last handshake time and address;
 * and `m2mctl show` prints all of it with the module's keys, open
 * instructions and recent reports. */
#include "config.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/server/srvtest.h"

#define BUDGET		20	/* SRV_DROP_LOG_PER_S, lines a second per worker */
#define WORKERS		2	/* st_start_m2md's */
#define LIMITS_CONF	"[limits]\nsource_rate = 1000000\nsource_burst = 1000000\n" \
	"hsm_source_rate = 1000000\nhsm_source_burst = 1000000\n"
#define DEBUG_CONF	"[server]\nlog_level = debug\n" LIMITS_CONF

/* "127.0.0.1:PORT" of a socket, as m2md prints a source address. */
static const char *
source_of(int fd, char *buf, size_t len)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	snprintf(buf, len, "127.0.0.1:%u", ntohs(a.sin_port));
	return buf;
}

/* The m2md's log from byte `from` on (a static buffer). */
static char *
read_log(const char *conf, long from)
{
	static char buf[1 << 20];
	char path[512];
	FILE *f;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s.log", st_path(conf));
	if ((f = fopen(path, "r")) != NULL) {
		if (fseek(f, from, SEEK_SET) == 0)
			n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

static long
log_size(const char *conf)
{
	return (long)strlen(read_log(conf, 0));
}

/* The first log line that holds both needles, waited for up to 10 s. */
static const char *
wait_line(const char *conf, const char *a, const char *b)
{
	static char line[2048];

	for (int i = 0; i < 200; i++) {
		char *log = read_log(conf, 0), *save = NULL;

		for (char *l = strtok_r(log, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save))
			if (strstr(l, a) != NULL && (b == NULL || strstr(l, b) != NULL)) {
				snprintf(line, sizeof(line), "%s", l);
				return line;
			}
		usleep(50000);
	}
	cr_assert_fail("no log line with '%s' and '%s' in:\n%s", a, b ? b : "",
	    read_log(conf, 0));
	return NULL;
}

/* Whether something listens on the TCP port (the metrics). */
static int
listening(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	inet_pton(AF_INET, ST_HOST, &a.sin_addr);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* As st_start_m2md, but `m2md -f -v` as m2md(8) has the operator run it:
 * debug level from the command line, not from the file. */
static pid_t
start_verbose(const char *name, int port, int node_id, const char *extra)
{
	char conf[2048], logpath[512];
	FILE *f;
	pid_t pid;

	snprintf(conf, sizeof(conf), "[server]\nlisten = 127.0.0.1:%d\nworkers = 2\nnode_id = %d\n"
	    "metrics = 127.0.0.1:%d\n[hsm]\nmodule = %s\ntoken = m2m\nkey = server-1\n"
	    "pin_file = %s\n%s\n", port, node_id, port + 1, getenv("SOFTHSM2_MODULE"),
	    st_path("pin"), extra);
	st_write(name, conf);
	snprintf(logpath, sizeof(logpath), "%s.log", st_path(name));
	if ((pid = fork()) == 0) {
		if (freopen(logpath, "w", stderr) != NULL)
			execl(TEST_BUILDDIR "/m2md", "m2md", "-f", "-v", "-c", st_path(name),
			    (char *)NULL);
		_exit(127);
	}
	if ((f = fopen(st_path("pids"), "a")) != NULL) {	/* run-server-tests stops it */
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
	}
	for (int i = 0; i < 200; i++, usleep(50000))
		if (listening(port + 1) && st_metric(port + 1, "m2md_db_up", NULL) == WORKERS)
			return pid;
	cr_assert_fail("m2md -v on port %d did not come up:\n%s", port, read_log(name, 0));
	return -1;
}

/* Waits up to 10 s for n lines that hold needle. */
static void
wait_lines(const char *conf, const char *needle, unsigned n)
{
	unsigned found = 0;

	for (int i = 0; i < 200 && found < n; i++) {
		const char *p = read_log(conf, 0);

		for (found = 0; (p = strstr(p, needle)) != NULL; p++)
			found++;
		if (found < n)
			usleep(50000);
	}
	cr_assert_geq(found, n, "%u lines with '%s' in:\n%s", found, needle, read_log(conf, 0));
}

/* m2md -f -v: junk, a truncated AUTH, an AUTH whose C2 does not open
 * (module known), a suspended module, then a session: each leaves its
 * line. */
Test(trouble, drops_failed_handshakes_and_sessions_are_logged, .timeout = 120)
{
	const char *creds = st_enroll("trouble", 3), *l;
	int port = st_port() + 100;
	pid_t pid = start_verbose("trouble.conf", port, 50,
	    "[server]\nlog_sessions = yes\n" LIMITS_CONF);
	uint8_t auth[PROTO_DATAGRAM_MAX];
	size_t auth_len;
	char src[64], want[128];
	struct cli c;

	/* Junk: one line, the reason and the address. */
	st_open(&c, creds, 0, port);
	cr_assert_eq(cli_send(&c, (const uint8_t *)"junk!", 5), M2M_OK);
	snprintf(want, sizeof(want), "dropped a datagram from %s: ", source_of(c.fd, src, sizeof(src)));
	l = wait_line("trouble.conf", want, NULL);
	cr_assert_not_null(strstr(l, "(M2M_E_"), "the reason's name: %s", l);
	/* A truncated AUTH: dropped at decoding. */
	cr_assert_eq(cli_hello(&c, NULL, 0, auth, &auth_len), M2M_OK);
	cr_assert_eq(cli_send(&c, auth, 20), M2M_OK);
	wait_lines("trouble.conf", want, 2);
	cli_close(&c);

	/* A whole AUTH that fails after the lookup: the module is named. */
	st_open(&c, creds, 2, port);
	cr_assert_eq(cli_hello(&c, NULL, 0, auth, &auth_len), M2M_OK);
	auth[auth_len - 1] ^= 0x01;
	cr_assert_eq(cli_send(&c, auth, auth_len), M2M_OK);
	snprintf(want, sizeof(want), "handshake of module trouble-000003 from %s failed: ",
	    source_of(c.fd, src, sizeof(src)));
	wait_line("trouble.conf", want, NULL);
	cli_close(&c);

	/* A suspended module: the lookup finds it, the status refuses it. */
	cr_assert_eq(st_m2mctl("suspend trouble-000002"), 0);
	st_open(&c, creds, 1, port);
	c.timeout_ms = 1000;
	cr_assert_neq(cli_handshake(&c, NULL, 0), M2M_OK, "a suspended module gets no session");
	snprintf(want, sizeof(want), "handshake of module trouble-000002 from %s failed: ",
	    source_of(c.fd, src, sizeof(src)));
	l = wait_line("trouble.conf", want, NULL);
	cr_assert_not_null(strstr(l, "M2M_E_PROTO_MODULE_STATUS"), "%s", l);
	cli_close(&c);

	/* A session: one info line with the module, the address, the key. */
	st_open(&c, creds, 0, port);
	cr_assert_eq(cli_handshake(&c, (const uint8_t *)"first", 5), M2M_OK);
	snprintf(want, sizeof(want), "session of module trouble-000001 from %s established",
	    source_of(c.fd, src, sizeof(src)));
	l = wait_line("trouble.conf", want, NULL);
	cr_assert_not_null(strstr(l, "m2md[info]"), "at info level: %s", l);
	cli_close(&c);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0, "m2md exits 0 (no sanitizer finding)");
}

/* Lines "N more drops not logged": the sum of their N. */
static unsigned long
unlogged(const char *log, unsigned long *lines)
{
	unsigned long sum = 0;
	const char *p = log;

	*lines = 0;
	for (; (p = strstr(p, "dropped a datagram from")) != NULL; p++)
		(*lines)++;
	for (p = log; (p = strstr(p, ": ")) != NULL; p++) {
		char *end;
		unsigned long n = strtoul(p + 2, &end, 10);

		if (end != p + 2 && strncmp(end, " more drops not logged", 22) == 0)
			sum += n;
	}
	return sum;
}

/* A flood of junk gets at most the budget of lines a second for each
 * worker, and a summary that accounts for every drop left out. */
Test(trouble, a_flood_of_drops_does_not_flood_the_log, .timeout = 120)
{
	enum { N = 400 };
	int port = st_port() + 102, fd = socket(AF_INET, SOCK_DGRAM, 0);
	pid_t pid = st_start_m2md("flood.conf", port, 51, DEBUG_CONF);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	double drops0 = st_metric(port + 1, "m2md_drops_total", NULL), drops;
	long from = log_size("flood.conf");
	unsigned long lines, left_out;
	time_t t0 = time(NULL), t1;

	inet_pton(AF_INET, ST_HOST, &to.sin_addr);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(sendto(fd, "junk", 4, 0, (struct sockaddr *)&to, sizeof(to)), 4);
		if (i % 50 == 49)
			usleep(2000);	/* the kernel's buffer keeps up: all are m2md's drops */
	}
	t1 = time(NULL);
	close(fd);
	/* The summary comes with the next second's tick. */
	for (int i = 0; i < 100; i++) {
		usleep(50000);
		drops = st_metric(port + 1, "m2md_drops_total", NULL) - drops0;
		left_out = unlogged(read_log("flood.conf", from), &lines);
		if (drops >= N / 2 && lines + left_out == (unsigned long)drops)
			break;
	}
	printf("flood: %d sent in %lds, %.0f dropped, %lu lines, %lu more not logged\n", N,
	    (long)(t1 - t0), drops, lines, left_out);
	cr_assert_geq(drops, N / 2, "the flood reached m2md: %.0f drops", drops);
	cr_assert_eq(lines + left_out, (unsigned long)drops, "every drop is a line or in a summary");
	cr_assert_leq(lines, (unsigned long)(BUDGET * WORKERS * (t1 - t0 + 2)),
	    "%lu lines for a flood of %lds", lines, (long)(t1 - t0));
	cr_assert_gt(left_out, 0);
	cr_assert_eq(st_stop_m2md(pid, SIGTERM), 0, "m2md exits 0 (no sanitizer finding)");
}

/* The last handshake's time and address are in the database and in
 * `m2mctl show`, with the keys, open instructions and recent reports. */
Test(trouble, show_prints_last_handshake_instructions_and_reports, .timeout = 60)
{
	const char *creds = st_enroll("shown", 1), *id = "shown-000001";
	char cmd[1024], out[8192], want[64];
	struct cli c;
	uint64_t seq;

	st_open(&c, creds, 0, st_port());
	cr_assert_eq(cli_handshake(&c, (const uint8_t *)"hello", 5), M2M_OK);
	cr_assert_eq(cli_data(&c, (const uint8_t *)"reading 42", 10, &seq), M2M_OK);
	cli_close(&c);
	cr_assert_str_eq(st_sql("SELECT host(last_address) || ' ' ||"
	    " (last_handshake_at > now() - interval '5 minutes')::text FROM modules"
	    " WHERE identity = $1", 1, &id), "127.0.0.1 true");
	cr_assert_eq(st_m2mctl("instruct shown-000001 --text 'set interval 60'"), 0);
	snprintf(cmd, sizeof(cmd), ". '%s' && '%s/m2mctl' show shown-000001 2>&1", st_path("env"),
	    TEST_BUILDDIR);
	cr_assert_eq(st_capture(cmd, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "status          active"), "%s", out);
	cr_assert_not_null(strstr(out, "last handshake  2"), "%s", out);
	cr_assert_not_null(strstr(out, " from 127.0.0.1\n"), "%s", out);
	cr_assert_not_null(strstr(out, "key current"), "%s", out);
	cr_assert_not_null(strstr(out, "queued"), "the open instruction: %s", out);
	snprintf(want, sizeof(want), "seq %llu, 10 bytes", (unsigned long long)seq);
	cr_assert_not_null(strstr(out, want), "the DATA's report: %s", out);

	/* The eight-parameter function an m2md of the previous release calls
	 * during a rolling upgrade: it commits, sets the time, keeps the
	 * address (and rotates the pseudonym: this module is done). */
	st_sql("UPDATE modules SET last_handshake_at = now() - interval '1 day'"
	    " WHERE identity = $1", 1, &id);
	cr_assert_str_eq(st_sql("SELECT ok::text FROM m2m_commit_handshake((SELECT id FROM"
	    " modules WHERE identity = $1), NULL, decode(md5(random()::text), 'hex'), NULL,"
	    " '\\x0000000000000000', ''::bytea, 8, 0) LIMIT 1", 1, &id), "true");
	cr_assert_str_eq(st_sql("SELECT host(last_address) || ' ' ||"
	    " (last_handshake_at > now() - interval '5 minutes')::text FROM modules"
	    " WHERE identity = $1", 1, &id), "127.0.0.1 true");
	cr_assert_not_null(strstr(out, "seq 0, 5 bytes"), "the first data's report: %s", out);
}
