/* SPDX-License-Identifier: Apache-2.0 */
/* Network plumbing of m2m-sim: the server address resolved once at start,
 * connected non-blocking UDP sockets stamped with each datagram's arrival,
 * and the open-file limit. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "module-sim/sim.h"

/* Splits "host:port" or "[v6]:port" into host and port. */
static int
split_hostport(const char *s, char *host, size_t hcap, const char **port)
{
	const char *colon;
	size_t n;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return 0;
		n = (size_t)(close - s - 1);
		s++;
		colon = close + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL || strchr(s, ':') != colon)
			return 0;	/* a bare IPv6 address needs brackets */
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= hcap || colon[1] == '\0')
		return 0;
	memcpy(host, s, n);
	host[n] = '\0';
	*port = colon + 1;
	return 1;
}

enum m2m_err
sim_resolve(const char *hostport, struct sim_addr *a, char *detail, size_t dlen)
{
	struct addrinfo hints, *res;
	char host[256], h[64], p[16];	/* numeric forms: short */
	const char *port;
	int rc;

	if (!split_hostport(hostport, host, sizeof(host), &port)) {
		snprintf(detail, dlen, "--server: expected HOST:PORT or [IPV6]:PORT, got '%s'",
		    hostport);
		return M2M_E_INVALID_ARG;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_ADDRCONFIG;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(detail, dlen, "--server %s: %s", hostport, gai_strerror(rc));
		return M2M_E_INVALID_ARG;
	}
	memcpy(&a->sa, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	freeaddrinfo(res);
	if (getnameinfo((struct sockaddr *)&a->sa, a->len, h, sizeof(h), p, sizeof(p),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(a->text, sizeof(a->text), "%s", hostport);
	else if (a->sa.ss_family == AF_INET6)
		snprintf(a->text, sizeof(a->text), "[%s]:%s", h, p);
	else
		snprintf(a->text, sizeof(a->text), "%s:%s", h, p);
	return M2M_OK;
}

int
sim_socket(const struct sim_addr *a)
{
	int fd, e;

	fd = socket(a->sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* Connected: the kernel filters other sources and reports ICMP errors. */
	if (connect(fd, (const struct sockaddr *)&a->sa, a->len) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	/* Best effort: without the kernel's stamp, arrival is the read time. */
	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &(int){ 1 }, sizeof(int));
	return fd;
}

static uint64_t
ns_of(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

void
sim_clock_pair(struct sim_clock *c)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	c->mono_ns = ns_of(&mono);
	c->real_ns = ns_of(&real);
}

uint64_t
sim_arrival_ns(struct msghdr *mh, const struct sim_clock *c)
{
	struct cmsghdr *cm;
	struct timespec ts;
	uint64_t at;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPNS)
			continue;
		memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
		at = ns_of(&ts);
		/* A stamp from the future or from long ago means the wall
		 * clock was stepped: the read time is the better guess. */
		if (at > c->real_ns || c->real_ns - at > c->mono_ns)
			break;
		return c->mono_ns - (c->real_ns - at);
	}
	return c->mono_ns;
}

uint64_t
sim_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	if (rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);	/* best effort: checked below */
		if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
			return 1024;
	}
	return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
}
