/* SPDX-License-Identifier: Apache-2.0 */
/* The control socket ([server] control): a local UNIX stream socket, mode
 * 0660 (m2md's user and group), on which m2mctl lists the node's live
 * sessions or ends one. One request a connection, one line ("sessions",
 * "kill SESSION-ID-HEX", "kill-module ID"); the answer follows and the
 * connection closes. Served by the main thread's loop; each worker answers
 * from its own loop (event_base_once), so no worker ever waits for a
 * client, and no other thread reads a worker's tables. */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "src/common/hex.h"
#include "src/server/control.h"
#include "src/server/log.h"
#include "src/server/srv.h"

#define CTL_LINE_MAX	128
#define CTL_TIMEOUT_S	10

enum ctl_kind { CTL_LIST, CTL_KILL_SID, CTL_KILL_MODULE };

struct ctl_req;
struct ctl_part {			/* one worker's share of a request */
	struct ctl_req *req;
	struct worker *w;
	struct evbuffer *out;		/* written by that worker only */
};

/* A connection, from its accept to its answer's flush. */
struct ctl_req {
	struct srv_control *c;
	struct bufferevent *bev;	/* NULL once the client left mid-request */
	struct event *done;		/* on the main loop: every worker answered */
	atomic_uint pending;		/* workers yet to answer; 0: none asked */
	atomic_uint killed;
	enum ctl_kind kind;
	int dispatched;			/* main thread only: workers asked, on_done to come */
	uint8_t sid[PROTO_SESSION_ID_LEN];
	int64_t module_id;
	struct ctl_part *parts;
	struct ctl_req *prev, *next;
};

struct srv_control {
	struct srv *s;
	struct evconnlistener *l;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_req *reqs;
};

static void
req_free(struct ctl_req *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		r->c->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	for (unsigned i = 0; r->parts != NULL && i < r->c->s->n_workers; i++)
		if (r->parts[i].out != NULL)
			evbuffer_free(r->parts[i].out);
	free(r->parts);
	if (r->done != NULL)
		event_free(r->done);
	if (r->bev != NULL)
		bufferevent_free(r->bev);
	free(r);
}

/* Wall-clock seconds of a worker's monotonic stamp. */
static long long
wall(uint32_t mono, uint32_t now_mono, time_t now)
{
	return (long long)now - (long long)(now_mono - mono);
}

/* One line per session: id, module id, address, since, last DATA (0:
 * none), datagrams and bytes in and out, worker. */
static void
list_sessions(struct worker *w, struct evbuffer *out)
{
	uint32_t now_mono = worker_now_s();
	time_t now = time(NULL);
	char sid[2 * PROTO_SESSION_ID_LEN + 1], addr[INET6_ADDRSTRLEN + 8];

	for (size_t i = 0; i < w->sess.cap; i++) {
		const struct sess_entry *e = &w->sess.slab[i];
		struct sockaddr_storage ss;

		if (!e->in_use || e->closed)
			continue;
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, &e->st.peer, sizeof(e->st.peer));
		m2m_hex(e->s.id, PROTO_SESSION_ID_LEN, sid);
		evbuffer_add_printf(out, "session %s %lld %s %lld %lld %u %u %llu %llu %u\n", sid,
		    (long long)e->module_id, net_ntop(&ss, addr, sizeof(addr)),
		    wall(e->st.since, now_mono, now),
		    e->st.last_data ? wall(e->st.last_data, now_mono, now) : 0LL,
		    e->st.dgrams_in, e->st.dgrams_out, (unsigned long long)e->st.bytes_in,
		    (unsigned long long)e->st.bytes_out, w->idx);
	}
}

/* Ends them at once: the module's next record finds no session (dropped,
 * M2M_E_SRV_UNKNOWN_SESSION) and it shakes hands again. */
static unsigned
kill_sessions(struct worker *w, const struct ctl_req *r)
{
	char sid[2 * PROTO_SESSION_ID_LEN + 1];
	unsigned n = 0;

	for (size_t i = 0; i < w->sess.cap; i++) {
		struct sess_entry *e = &w->sess.slab[i];

		if (!e->in_use || e->closed || (r->kind == CTL_KILL_SID ?
		    memcmp(e->s.id, r->sid, PROTO_SESSION_ID_LEN) != 0 :
		    e->module_id != r->module_id))
			continue;
		m2m_hex(e->s.id, PROTO_SESSION_ID_LEN, sid);
		log_info("control: session %s of module %lld ended", sid, (long long)e->module_id);
		sess_close(&w->sess, e);
		n++;
	}
	return n;
}

/* On the worker's own loop. */
static void
on_worker(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_part *pt = arg;
	struct ctl_req *r = pt->req;

	(void)fd;
	(void)what;
	if (r->kind == CTL_LIST)
		list_sessions(pt->w, pt->out);
	else
		atomic_fetch_add(&r->killed, kill_sessions(pt->w, r));
	if (atomic_fetch_sub(&r->pending, 1) == 1)
		event_active(r->done, EV_TIMEOUT, 0);
}

static void
on_flushed(struct bufferevent *bev, void *arg)
{
	(void)bev;
	req_free(arg);
}

/* Back on the main loop: the answer, then the connection closes. */
static void
on_done(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_req *r = arg;
	struct evbuffer *out;

	(void)fd;
	(void)what;
	r->dispatched = 0;
	if (r->bev == NULL) {
		req_free(r);
		return;
	}
	out = bufferevent_get_output(r->bev);
	if (r->kind == CTL_LIST)
		for (unsigned i = 0; i < r->c->s->n_workers; i++)
			evbuffer_add_buffer(out, r->parts[i].out);
	else
		evbuffer_add_printf(out, "killed %u\n", atomic_load(&r->killed));
	bufferevent_setcb(r->bev, NULL, on_flushed, NULL, r);
	bufferevent_enable(r->bev, EV_WRITE);
}

static void
answer_now(struct ctl_req *r, const char *line)
{
	evbuffer_add_printf(bufferevent_get_output(r->bev), "%s\n", line);
	bufferevent_disable(r->bev, EV_READ);
	bufferevent_setcb(r->bev, NULL, on_flushed, NULL, r);
}

/* Asks every worker, each through its own loop. */
static void
dispatch(struct ctl_req *r)
{
	struct srv *s = r->c->s;
	struct timeval now = { 0, 0 };

	if ((r->parts = calloc(s->n_workers, sizeof(*r->parts))) == NULL ||
	    (r->done = event_new(s->main_base, -1, 0, on_done, r)) == NULL) {
		answer_now(r, "error out of memory");
		return;
	}
	bufferevent_disable(r->bev, EV_READ);
	r->dispatched = 1;
	atomic_store(&r->pending, s->n_workers);
	for (unsigned i = 0; i < s->n_workers; i++) {
		r->parts[i] = (struct ctl_part){ .req = r, .w = s->w[i], .out = evbuffer_new() };
		if (r->parts[i].out == NULL ||
		    event_base_once(s->w[i]->base, -1, EV_TIMEOUT, on_worker, &r->parts[i],
		    &now) != 0) {
			log_warn("control: worker %u not asked", i);
			if (atomic_fetch_sub(&r->pending, 1) == 1)
				event_active(r->done, EV_TIMEOUT, 0);
		}
	}
}

static int
parse(struct ctl_req *r, const char *line)
{
	char *end;

	if (strcmp(line, "sessions") == 0) {
		r->kind = CTL_LIST;
		return 0;
	}
	if (strncmp(line, "kill ", 5) == 0 && strlen(line + 5) == 2 * PROTO_SESSION_ID_LEN) {
		r->kind = CTL_KILL_SID;
		for (size_t i = 0; i < PROTO_SESSION_ID_LEN; i++)
			if (sscanf(line + 5 + 2 * i, "%2hhx", &r->sid[i]) != 1)
				return -1;
		return 0;
	}
	if (strncmp(line, "kill-module ", 12) == 0) {
		r->kind = CTL_KILL_MODULE;
		errno = 0;
		r->module_id = strtoll(line + 12, &end, 10);
		return errno == 0 && end != line + 12 && *end == '\0' ? 0 : -1;
	}
	return -1;
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct ctl_req *r = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line = evbuffer_readln(in, NULL, EVBUFFER_EOL_LF);

	if (line == NULL) {
		if (evbuffer_get_length(in) > CTL_LINE_MAX)
			answer_now(r, "error request too long");
		return;
	}
	if (parse(r, line) != 0)
		answer_now(r, "error unknown request (sessions, kill SESSION-ID, kill-module ID)");
	else
		dispatch(r);
	free(line);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_req *r = arg;

	(void)bev;
	(void)what;
	if (r->dispatched) {		/* the workers still hold parts */
		bufferevent_free(r->bev);
		r->bev = NULL;
		return;
	}
	req_free(r);
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct srv_control *c = arg;
	struct timeval tmo = { CTL_TIMEOUT_S, 0 };
	struct ctl_req *r = calloc(1, sizeof(*r));

	(void)l;
	(void)sa;
	(void)len;
	if (r == NULL || (r->bev = bufferevent_socket_new(c->s->main_base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(r);
		evutil_closesocket(fd);
		return;
	}
	r->c = c;
	r->next = c->reqs;
	if (c->reqs != NULL)
		c->reqs->prev = r;
	c->reqs = r;
	bufferevent_setcb(r->bev, on_read, NULL, on_event, r);
	bufferevent_set_timeouts(r->bev, &tmo, &tmo);
	bufferevent_enable(r->bev, EV_READ);
}

/* A socket file left by an m2md that died is replaced; one another
 * process still serves is not. */
static int
stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, live;

	if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
		return 0;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return !live && unlink(path) == 0;
}

static enum m2m_err
control_listen(struct srv_control *c, const char *path, int *out, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path) || path[0] != '/') {
		snprintf(err, errlen, "control socket '%s': an absolute path of at most %zu bytes",
		    path, sizeof(sa.sun_path) - 1);
		return M2M_E_CONFIG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc != 0 && errno == EADDRINUSE && stale(path, &sa))
		rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc != 0)
		goto fail;
	memcpy(c->path, path, strlen(path) + 1);
	/* Owner and group: the operators in m2md's group may ask. */
	if (chmod(path, 0660) != 0 || listen(fd, 16) != 0)
		goto fail;
	*out = fd;
	return M2M_OK;
fail:
	snprintf(err, errlen, "control socket '%s': %s", path, errno == EADDRINUSE ?
	    "another process serves it" : strerror(errno));
	if (fd >= 0)
		close(fd);
	return M2M_E_IO;
}

enum m2m_err
srv_control_start(struct srv *s, char *err, size_t errlen)
{
	struct srv_control *c;
	enum m2m_err e;
	int fd = -1;

	if (s->cfg->control == NULL)
		return M2M_OK;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return M2M_E_NOMEM;
	c->s = s;
	s->control = c;
	if ((e = control_listen(c, s->cfg->control, &fd, err, errlen)) != M2M_OK)
		return e;
	if ((c->l = evconnlistener_new(s->main_base, on_accept, c, LEV_OPT_CLOSE_ON_FREE, -1,
	    fd)) == NULL) {
		close(fd);
		return M2M_E_NOMEM;
	}
	log_info("control socket %s", c->path);
	return M2M_OK;
}

/* After the workers stopped: requests they never answered go too. */
void
srv_control_stop(struct srv *s)
{
	struct srv_control *c = s->control;

	if (c == NULL)
		return;
	if (c->l != NULL) {
		evconnlistener_free(c->l);
		unlink(c->path);
	}
	while (c->reqs != NULL)
		req_free(c->reqs);
	free(c);
	s->control = NULL;
}
