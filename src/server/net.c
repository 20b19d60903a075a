/* SPDX-License-Identifier: Apache-2.0 */
/* UDP sockets and addresses: "host:port" and "[v6]:port" parsing (numeric
 * only: no DNS on a server's start path), SO_REUSEPORT binding, and the
 * check that no other process serves an address already. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/server/srv.h"

enum m2m_err
net_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len, char *err,
    size_t errlen)
{
	char host[128], port[16];
	const char *colon, *orig = spec;
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	    .ai_socktype = SOCK_DGRAM }, *res;
	size_t hl;
	int rc;

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');

		if (end == NULL || end[1] != ':')
			goto bad;
		hl = (size_t)(end - spec - 1);
		spec++;
		colon = end + 1;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL)
			goto bad;
		hl = (size_t)(colon - spec);
	}
	if (hl == 0 || hl >= sizeof(host) || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= sizeof(port))
		goto bad;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	strcpy(port, colon + 1);
	/* getaddrinfo takes 70000 and wraps it to 4464. */
	if (strspn(port, "0123456789") != strlen(port) || strtoul(port, NULL, 10) > 65535) {
		snprintf(err, errlen, "address '%s': port '%s' is not a number from 0 to 65535",
		    orig, port);
		return M2M_E_CONFIG;
	}
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "address '%s': %s", orig, gai_strerror(rc));
		return M2M_E_CONFIG;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return M2M_OK;
bad:
	snprintf(err, errlen, "address '%s': expected HOST:PORT or [IPv6]:PORT with a numeric host",
	    orig);
	return M2M_E_CONFIG;
}

enum m2m_err
net_bind_udp(const struct sockaddr_storage *ss, socklen_t len, int *fd, char *err,
    size_t errlen)
{
	int s, one = 1, buf = 4 << 20;
	char name[INET6_ADDRSTRLEN + 8];

	if ((s = socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	if (setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
		goto fail;
	if (ss->ss_family == AF_INET6 &&
	    setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0)
		goto fail;
	/* Bursts of handshakes must not overflow the kernel's queue. */
	(void)setsockopt(s, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	(void)setsockopt(s, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	/* When they do: the kernel's drop count rides on later datagrams. */
	(void)setsockopt(s, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	/* Each datagram's arrival: how long it waited for m2md to read it. */
	(void)setsockopt(s, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	if (bind(s, (const struct sockaddr *)ss, len) != 0)
		goto fail;
	*fd = s;
	return M2M_OK;
fail:
	snprintf(err, errlen, "UDP socket on %s: %s", net_ntop(ss, name, sizeof(name)),
	    strerror(errno));
	if (s >= 0)
		close(s);
	return M2M_E_IO;
}

/* SO_REUSEPORT lets any process of the same user join the address and take
 * a share of its traffic. A socket bound without it fails on an address
 * that any socket holds, so it tells whether someone else is there before
 * the workers bind; it is closed at once, and the workers' sockets then
 * refuse the next m2md the same way. */
enum m2m_err
net_claim_udp(const struct sockaddr_storage *ss, socklen_t len, char *err, size_t errlen)
{
	char name[INET6_ADDRSTRLEN + 8];
	int s, one = 1, rc, e;

	if ((s = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "UDP socket on %s: %s", net_ntop(ss, name, sizeof(name)),
		    strerror(errno));
		return M2M_E_IO;
	}
	if (ss->ss_family == AF_INET6)
		(void)setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	rc = bind(s, (const struct sockaddr *)ss, len);
	e = errno;
	close(s);
	if (rc == 0)
		return M2M_OK;
	if (e == EADDRINUSE)
		snprintf(err, errlen, "UDP %s: another process already serves this address "
		    "(a second m2md would take a share of its datagrams)",
		    net_ntop(ss, name, sizeof(name)));
	else
		snprintf(err, errlen, "UDP socket on %s: %s", net_ntop(ss, name, sizeof(name)),
		    strerror(e));
	return M2M_E_IO;
}

/* With the port: the exact path, as cookies and resend credit see it.
 * Without: the source as limits see it, one IPv4 address or one IPv6 /64,
 * the block a single subscriber gets: a host that owns a /64 has 2^64
 * addresses, so a limit per /128 would not limit it. An IPv4-mapped IPv6
 * address is its IPv4 address. */
size_t
net_addr_bytes(const struct sockaddr_storage *ss, uint8_t out[18], int with_port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		memcpy(out, &a->sin_addr, 4);
		memcpy(out + 4, &a->sin_port, 2);
		return with_port ? 6 : 4;
	}
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;

	if (!with_port && IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
		memcpy(out, a6->sin6_addr.s6_addr + 12, 4);
		return 4;
	}
	memcpy(out, &a6->sin6_addr, 16);
	memcpy(out + 16, &a6->sin6_port, 2);
	return with_port ? 18 : 8;
}

uint16_t
net_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

const char *
net_ntop(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(a->sin_port));
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(a->sin6_port));
	}
	return buf;
}
