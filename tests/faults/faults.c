/* SPDX-License-Identifier: Apache-2.0 */
/* The fault and abuse tests' helpers (see faults.h). */
#include "config.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/faults/faults.h"

int
ft_port(int k)
{
	return st_port() + 2 * k;
}

pid_t
ft_start_m2md(const char *conf, int port, const char *extra)
{
	return st_start_m2md(conf, port, 0, extra);
}

pid_t
ft_start_shim_m2md(const char *conf, int port, const char *ctl, const char *extra)
{
	char real[512];
	pid_t pid;

	/* st_start_m2md writes SOFTHSM2_MODULE as [hsm] module: point it at
	 * the shim for this one start; the child inherits the shim's settings. */
	snprintf(real, sizeof(real), "%s", getenv("SOFTHSM2_MODULE"));
	setenv("M2M_SHIM_TARGET", real, 1);
	setenv("M2M_SHIM_CTL_FILE", ctl, 1);
	setenv("SOFTHSM2_MODULE", TEST_BUILDDIR "/tests/hsm/.libs/m2mshim.so", 1);
	pid = ft_start_m2md(conf, port, extra);
	setenv("SOFTHSM2_MODULE", real, 1);
	unsetenv("M2M_SHIM_CTL_FILE");
	return pid;
}

long
ft_rss_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t fl = strlen(field);
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, fl) == 0 && line[fl] == ':')
			kb = atol(line + fl + 1);
	fclose(f);
	return kb;
}

int
ft_alive(pid_t pid)
{
	int status;

	return waitpid(pid, &status, WNOHANG) == 0;
}

double
ft_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
ft_percentile(double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

int
ft_udp_from(unsigned a)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	sa.sin_addr.s_addr = htonl(0x7f000000u | (a & 0xff));
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

void
ft_sendto(int fd, int port, const uint8_t *buf, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	inet_pton(AF_INET, ST_HOST, &sa.sin_addr);
	(void)sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa));
}

size_t
ft_hello(uint8_t *out, const uint8_t *pseudonym, size_t plen)
{
	struct proto_mod_creds cr;
	struct proto_mod_hs hs;
	struct proto_ctx *ctx;
	size_t n;

	cr_assert_eq(cli_creds(st_path("creds"), 0, &cr), M2M_OK);
	cr_assert_eq(proto_ctx_new(&ctx, NULL), M2M_OK);
	if (pseudonym != NULL) {
		memcpy(cr.pseudonym, pseudonym, plen);
		cr.pseudonym_len = plen;
	} else {
		cr_assert_eq(proto_random(ctx, cr.pseudonym, 16), M2M_OK);
		cr.pseudonym_len = 16;
	}
	cr_assert_eq(proto_mod_hello(ctx, &hs, &cr, out, PROTO_DATAGRAM_MAX, &n), M2M_OK);
	proto_ctx_free(ctx);
	return n;
}
