/* SPDX-License-Identifier: Apache-2.0 */
/* The end-to-end test helpers (see srvtest.h). */
#include "config.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db/db.h"
#include "tests/server/srvtest.h"

const char *
st_path(const char *name)
{
	static char buf[4][512];
	static int k;
	const char *w = getenv("M2M_TEST_WORLD");

	cr_assert_not_null(w, "M2M_TEST_WORLD unset: run through tests/server/pg-server");
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", w, name);
	return buf[k];
}

int
st_port(void)
{
	const char *p = getenv("M2M_TEST_PORT");

	cr_assert_not_null(p);
	return atoi(p);
}

void
st_open(struct cli *c, const char *creds, size_t index, int port)
{
	struct proto_mod_creds cr;

	cr_assert_eq(cli_creds(creds, index, &cr), M2M_OK, "%s: module %zu", creds, index);
	cr_assert_eq(cli_open(c, ST_HOST, port, &cr), M2M_OK);
}

void
st_client(struct cli *c, size_t index, int port)
{
	st_open(c, st_path("creds"), index, port);
}

const char *
st_enroll(const char *name, size_t n)
{
	static char paths[4][512];	/* st_path's buffer is reused sooner */
	static int k;
	char args[640];

	k = (k + 1) % 4;
	snprintf(paths[k], sizeof(paths[k]), "%s", st_path(name));
	snprintf(args, sizeof(args), "enroll --count %zu --out '%s' --prefix %s-", n, paths[k],
	    name);
	cr_assert_eq(st_m2mctl(args), 0, "%s", args);
	return paths[k];
}

const char *
st_identity(const struct cli *c)
{
	static char id[PROTO_IDENTITY_MAX + 1];

	memcpy(id, c->cr.identity, c->cr.identity_len);
	id[c->cr.identity_len] = '\0';
	return id;
}

long
st_reports(const struct cli *c)
{
	const char *p[] = { st_identity(c) };

	return atol(st_sql("SELECT count(*) FROM reports r JOIN modules m ON m.id = r.module_id"
	    " WHERE m.identity = $1", 1, p));
}

/* GET /metrics over a plain socket: the test needs no HTTP library. */
static char *
fetch_metrics(int port)
{
	static char page[1 << 16];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	size_t len = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, ST_HOST, &a.sin_addr);
	cr_assert(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "metrics port %d", port);
	cr_assert(write(fd, req, sizeof(req) - 1) == (ssize_t)sizeof(req) - 1);
	while ((n = read(fd, page + len, sizeof(page) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	page[len] = '\0';
	return page;
}

double
st_metric(int metrics_port, const char *name, const char *label)
{
	char *page = fetch_metrics(metrics_port), *line, *save = NULL;
	size_t nl = strlen(name);
	double sum = 0;

	for (line = strtok_r(page, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, name, nl) != 0 || (line[nl] != ' ' && line[nl] != '{'))
			continue;
		if (label != NULL && strstr(line, label) == NULL)
			continue;
		sum += atof(strrchr(line, ' ') + 1);
	}
	return sum;
}

const char *
st_sql(const char *sql, int n, const char *const *params)
{
	static char out[4096];
	char err[512];
	struct db_admin *a;

	cr_assert_eq(db_admin_open("", &a, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(db_admin_exec(a, sql, n, params, out, sizeof(out), NULL, err, sizeof(err)),
	    M2M_OK, "%s: %s", sql, err);
	db_admin_close(a);
	return out;
}

int
st_m2mctl(const char *args)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), ". '%s' && '%s/m2mctl' %s >/dev/null 2>&1", st_path("env"),
	    TEST_BUILDDIR, args);
	return WEXITSTATUS(system(cmd));
}

const char *
st_write(const char *name, const char *content)
{
	const char *p = st_path(name);
	FILE *f = fopen(p, "w");

	cr_assert_not_null(f, "%s", p);
	fputs(content, f);
	fclose(f);
	return p;
}

/* A failed assertion ends a test before it stops its m2md: the script
 * that made the world stops what is listed in "pids" when it ends. */
static void
note_pid(pid_t pid)
{
	FILE *f = fopen(st_path("pids"), "a");

	if (f != NULL) {
		fprintf(f, "%d\n", (int)pid);
		fclose(f);
	}
}

pid_t
st_start_m2md(const char *conf_name, int port, int node_id, const char *extra)
{
	char conf[2048], logpath[512];
	pid_t pid;

	snprintf(conf, sizeof(conf), "[server]\nlisten = 127.0.0.1:%d\nworkers = 2\nnode_id = %d\n"
	    "metrics = 127.0.0.1:%d\n[hsm]\nmodule = %s\ntoken = m2m\nkey = server-1\n"
	    "pin_file = %s\n%s\n", port, node_id, port + 1, getenv("SOFTHSM2_MODULE"),
	    st_path("pin"), extra != NULL ? extra : "");
	st_write(conf_name, conf);
	snprintf(logpath, sizeof(logpath), "%s.log", st_path(conf_name));
	if ((pid = fork()) == 0) {
		freopen(logpath, "w", stderr);
		execl(TEST_BUILDDIR "/m2md", "m2md", "-f", "-c", st_path(conf_name), (char *)NULL);
		_exit(127);
	}
	note_pid(pid);
	/* Ready when the metrics answer and every worker has its database. */
	for (int i = 0; i < 200; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(port + 1)) };
		int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

		inet_pton(AF_INET, ST_HOST, &a.sin_addr);
		ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
		close(fd);
		if (ok && st_metric(port + 1, "m2md_workers", NULL) > 0 &&
		    st_metric(port + 1, "m2md_db_up", NULL) == st_metric(port + 1, "m2md_workers", NULL))
			return pid;
		usleep(50000);
	}
	{
		char log[2048] = "";
		FILE *f = fopen(logpath, "r");
		int status = 0, gone = waitpid(pid, &status, WNOHANG) == pid;

		if (f != NULL) {
			log[fread(log, 1, sizeof(log) - 1, f)] = '\0';
			fclose(f);
		}
		cr_assert_fail("m2md on port %d did not come up (%s, status %d); its log:\n%s", port,
		    gone ? "exited" : "still running", status, log);
	}
	return -1;
}

int
st_stop_m2md(pid_t pid, int sig)
{
	int status;

	kill(pid, sig);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int
st_capture(const char *cmd, char *out, size_t len)
{
	FILE *p;
	size_t n;

	cr_assert_not_null(p = popen(cmd, "r"), "%s", cmd);
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	return WEXITSTATUS(pclose(p));
}

int
st_check(const char *conf, char *out, size_t len)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "'%s/m2md' -t -c '%s' 2>&1", TEST_BUILDDIR, conf);
	return st_capture(cmd, out, len);
}
