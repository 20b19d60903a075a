/* SPDX-License-Identifier: Apache-2.0 */
/* m2mctl sessions, m2mctl session kill: the live sessions of the local
 * m2md, through its control socket ([server] control, control.c), with
 * the modules' identities from the database where it answers. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "src/ctl/ctl.h"
#include "src/ctl/ctl_db.h"
#include "src/ctl/ctl_json.h"
#include "src/common/hex.h"

#define CTL_CONTROL_DEFAULT	"/run/m2md/control"

struct live {
	char sid[2 * PROTO_SESSION_ID_LEN + 1], addr[64];
	long long module_id, since, last_data;
	unsigned din, dout, worker;
	unsigned long long bin, bout;
	char identity[PROTO_IDENTITY_MAX + 1];	/* "" unknown */
};

struct sess_args {
	const char *control, *db;
	int json;
};

static const char *
control_path(const char *opt)
{
	const char *env = getenv("M2M_CONTROL");

	return opt != NULL ? opt : env != NULL && *env ? env : CTL_CONTROL_DEFAULT;
}

/* Sends one request line; the whole answer, NUL-terminated, or NULL. */
static char *
ask(const char *path, const char *request)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = 0, cap = 4096;
	char *buf = NULL, *p;
	ssize_t n;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		ctl_errx("control socket path too long: %s", path);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		ctl_errx("control socket %s: %m (is m2md running with [server] control = %s?)",
		    path, path);
		goto out;
	}
	if (write(fd, request, strlen(request)) != (ssize_t)strlen(request) ||
	    (buf = malloc(cap)) == NULL)
		goto out;
	while ((n = read(fd, buf + len, cap - len - 1)) > 0)
		if ((len += (size_t)n) == cap - 1) {
			if ((p = realloc(buf, cap *= 2)) == NULL)
				goto out;
			buf = p;
		}
	buf[len] = '\0';
	close(fd);
	return buf;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* "error ..." from m2md: printed; 1. */
static int
m2md_error(const char *answer)
{
	if (strncmp(answer, "error ", 6) != 0)
		return 0;
	ctl_errx("m2md: %.*s", (int)strcspn(answer + 6, "\n"), answer + 6);
	return 1;
}

static size_t
parse_live(char *answer, struct live **out)
{
	size_t n = 0, cap = 0;
	struct live *v = NULL, *t, x;
	char *line, *save = NULL;

	for (line = strtok_r(answer, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		memset(&x, 0, sizeof(x));
		if (sscanf(line, "session %16s %lld %63s %lld %lld %u %u %llu %llu %u", x.sid,
		    &x.module_id, x.addr, &x.since, &x.last_data, &x.din, &x.dout, &x.bin,
		    &x.bout, &x.worker) != 10)
			continue;
		if (n == cap) {
			if ((t = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof(*v))) == NULL)
				break;
			v = t;
		}
		v[n++] = x;
	}
	*out = v;
	return n;
}

/* One query for all: "ID IDENTITY ..." (identities hold no spaces). */
static void
identities(struct db_admin *a, struct live *v, size_t n)
{
	size_t cap = 32 + n * 24, olen = 16 + n * (PROTO_IDENTITY_MAX + 24);
	char *ids = malloc(cap), *out = malloc(olen), err[CTL_ERRLEN], *tok, *save = NULL;
	const char *p[1];
	size_t len = 0;

	if (ids == NULL || out == NULL)
		goto done;
	len += (size_t)snprintf(ids, cap, "{");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(ids + len, cap - len, "%s%lld", i ? "," : "", v[i].module_id);
	snprintf(ids + len, cap - len, "}");
	p[0] = ids;
	if (db_admin_exec(a, "SELECT string_agg(id::text || ' ' || identity, ' ') FROM modules"
	    " WHERE id = ANY($1::bigint[])", 1, p, out, olen, NULL, err, sizeof(err)) != M2M_OK) {
		ctl_errx("identities not read: %s", err);
		goto done;
	}
	for (tok = strtok_r(out, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		long long id = atoll(tok);

		if ((tok = strtok_r(NULL, " ", &save)) == NULL)
			break;
		for (size_t i = 0; i < n; i++)
			if (v[i].module_id == id)
				snprintf(v[i].identity, sizeof(v[i].identity), "%s", tok);
	}
done:
	free(ids);
	free(out);
}

static void
utc(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, len, "-");
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static struct json_object *
live_json(const struct live *s)
{
	struct json_object *o = json_object_new_object();
	char t[32];

	json_object_object_add(o, "session_id", json_object_new_string(s->sid));
	json_object_object_add(o, "module_id", json_object_new_int64(s->module_id));
	json_object_object_add(o, "identity", ctl_json_str_or_null(s->identity));
	json_object_object_add(o, "address", json_object_new_string(s->addr));
	utc(s->since, t, sizeof(t));
	json_object_object_add(o, "since", json_object_new_string(t));
	utc(s->last_data, t, sizeof(t));
	json_object_object_add(o, "last_data", s->last_data ? json_object_new_string(t) : NULL);
	json_object_object_add(o, "datagrams_in", json_object_new_int64(s->din));
	json_object_object_add(o, "datagrams_out", json_object_new_int64(s->dout));
	json_object_object_add(o, "bytes_in", json_object_new_int64((int64_t)s->bin));
	json_object_object_add(o, "bytes_out", json_object_new_int64((int64_t)s->bout));
	json_object_object_add(o, "worker", json_object_new_int((int)s->worker));
	return o;
}

static void
print_live(const struct live *v, size_t n, int json)
{
	char since[32], last[32];

	if (json) {
		ctl_json_list_begin();
		for (size_t i = 0; i < n; i++)
			ctl_json_list_item(live_json(&v[i]));
		ctl_json_list_end();
		return;
	}
	printf("%-16s %-24s %-24s %-20s %-20s %8s %8s %10s %10s\n", "SESSION", "MODULE",
	    "ADDRESS", "SINCE", "LAST DATA", "DGR IN", "DGR OUT", "BYTES IN", "BYTES OUT");
	for (size_t i = 0; i < n; i++) {
		char mod[PROTO_IDENTITY_MAX + 24];

		if (v[i].identity[0])
			snprintf(mod, sizeof(mod), "%s", v[i].identity);
		else
			snprintf(mod, sizeof(mod), "id %lld", v[i].module_id);
		utc(v[i].since, since, sizeof(since));
		utc(v[i].last_data, last, sizeof(last));
		printf("%-16s %-24s %-24s %-20s %-20s %8u %8u %10llu %10llu\n", v[i].sid, mod,
		    v[i].addr, since, last, v[i].din, v[i].dout, v[i].bin, v[i].bout);
	}
}

static int
parse_args(int argc, char **argv, struct sess_args *o, const char *usage, int *pos)
{
	static const struct option opts[] = { CTL_DB_LONGOPTS,
		{ "control", required_argument, NULL, 'C' }, { "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 } };
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o->db = optarg; break;
		case 'C': o->control = optarg; break;
		case 'j': o->json = 1; break;
		case 'h': printf("usage: m2mctl %s\n  --control PATH  m2md's control socket (else "
		    "$M2M_CONTROL, [server] control, " CTL_CONTROL_DEFAULT ")\n" CTL_DB_USAGE, usage);
			return 0;
		default: fprintf(stderr, "usage: m2mctl %s\n", usage); return 2;
		}
	}
	*pos = optind;
	return -1;
}

int
ctl_sessions_main(int argc, char **argv)
{
	static const char usage[] = "sessions [--json] [--control PATH] [--db CONNINFO]";
	struct sess_args o;
	struct db_admin *a;
	struct live *v = NULL;
	char *answer;
	size_t n;
	int rc, pos;

	if ((rc = parse_args(argc, argv, &o, usage, &pos)) >= 0)
		return rc;
	if (pos != argc) {
		fprintf(stderr, "usage: m2mctl %s\n", usage);
		return 2;
	}
	if ((answer = ask(control_path(o.control), "sessions\n")) == NULL)
		return 1;
	if (m2md_error(answer)) {
		free(answer);
		return 1;
	}
	n = parse_live(answer, &v);
	/* Without the database the ids still say which module. */
	if (n > 0 && ctl_db_connect(o.db, &a) == M2M_OK) {
		identities(a, v, n);
		db_admin_close(a);
	}
	print_live(v, n, o.json);
	free(v);
	free(answer);
	return 0;
}

/* A session id (16 hex digits) as it is; an identity becomes its module
 * id, from the database. */
static int
kill_request(const char *what, const char *db, char *req, size_t len)
{
	struct db_module_info m;
	struct db_admin *a;
	char err[CTL_ERRLEN] = "";
	enum m2m_err e;

	if (strlen(what) == 2 * PROTO_SESSION_ID_LEN && m2m_hex_span(what, strlen(what)) ==
	    strlen(what)) {
		snprintf(req, len, "kill %s\n", what);
		return 0;
	}
	if (ctl_db_connect(db, &a) != M2M_OK)
		return 1;
	e = db_admin_module(a, what, &m, err, sizeof(err));
	db_admin_close(a);
	if (e != M2M_OK)
		return ctl_db_fail(e, err);
	snprintf(req, len, "kill-module %lld\n", (long long)m.id);
	return 0;
}

int
ctl_session_main(int argc, char **argv)
{
	static const char usage[] = "session kill SESSION-ID|IDENTITY [--control PATH] "
	    "[--db CONNINFO]";
	struct sess_args o;
	char req[128], *answer;
	unsigned killed = 0;
	int rc, pos;

	if ((rc = parse_args(argc, argv, &o, usage, &pos)) >= 0)
		return rc;
	if (argc - pos != 2 || strcmp(argv[pos], "kill") != 0 || o.json) {
		fprintf(stderr, "usage: m2mctl %s\n", usage);
		return 2;
	}
	if ((rc = kill_request(argv[pos + 1], o.db, req, sizeof(req))) != 0)
		return rc;
	if ((answer = ask(control_path(o.control), req)) == NULL)
		return 1;
	rc = m2md_error(answer) || sscanf(answer, "killed %u", &killed) != 1;
	free(answer);
	if (rc)
		return 1;
	if (killed == 0) {
		ctl_errx("%s: no live session on this node", argv[pos + 1]);
		return 1;
	}
	printf("%s: %u session%s ended\n", argv[pos + 1], killed, killed == 1 ? "" : "s");
	return 0;
}
