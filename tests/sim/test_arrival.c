/* SPDX-License-Identifier: Apache-2.0 */
/* When an answer arrived, as m2m-sim reads it: the kernel's stamp moved to
 * the monotonic clock, and the read time when there is no usable stamp. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "module-sim/sim.h"

#define MS	1000000ull

/* A received message whose control data holds stamp (ns, wall clock). */
struct stamped {
	struct msghdr mh;
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(struct timespec))];
	} ctl;
};

static void
stamp(struct stamped *s, uint64_t real_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(real_ns / 1000000000u),
	    .tv_nsec = (long)(real_ns % 1000000000u) };
	struct cmsghdr *cm;

	memset(s, 0, sizeof(*s));
	s->mh.msg_control = s->ctl.b;
	s->mh.msg_controllen = sizeof(s->ctl.b);
	cm = CMSG_FIRSTHDR(&s->mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_TIMESTAMPNS;
	cm->cmsg_len = CMSG_LEN(sizeof(ts));
	memcpy(CMSG_DATA(cm), &ts, sizeof(ts));
}

Test(arrival, a_stamp_moves_to_the_monotonic_clock)
{
	struct sim_clock c = { .mono_ns = 5000 * MS, .real_ns = 1700000000000 * MS };
	struct stamped s;

	stamp(&s, c.real_ns - 7 * MS);
	cr_assert_eq(sim_arrival_ns(&s.mh, &c), c.mono_ns - 7 * MS);
	stamp(&s, c.real_ns);
	cr_assert_eq(sim_arrival_ns(&s.mh, &c), c.mono_ns);
}

Test(arrival, no_stamp_or_a_stepped_clock_gives_the_read_time)
{
	struct sim_clock c = { .mono_ns = 5000 * MS, .real_ns = 1700000000000 * MS };
	struct stamped s;

	memset(&s, 0, sizeof(s));
	cr_assert_eq(sim_arrival_ns(&s.mh, &c), c.mono_ns, "no control data");
	stamp(&s, c.real_ns + 1);
	cr_assert_eq(sim_arrival_ns(&s.mh, &c), c.mono_ns, "a stamp after the read");
	stamp(&s, c.real_ns - c.mono_ns - 1);
	cr_assert_eq(sim_arrival_ns(&s.mh, &c), c.mono_ns, "a stamp before boot");
}

/* On a real socket: a datagram read 30 ms after it arrived is dated by its
 * arrival, not by the read. */
Test(arrival, a_socket_of_sim_socket_is_stamped_by_the_kernel)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sim_addr a = { .len = sizeof(sin) };
	socklen_t len = sizeof(sin);
	struct timespec pause = { 0, 30 * MS };
	struct sim_clock before, c;
	struct stamped s;
	struct iovec iov;
	char buf[16];
	uint64_t at;
	int srv, fd;

	srv = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert(srv >= 0 && bind(srv, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	cr_assert(getsockname(srv, (struct sockaddr *)&sin, &len) == 0);
	memcpy(&a.sa, &sin, sizeof(sin));
	fd = sim_socket(&a);
	cr_assert(fd >= 0);
	cr_assert(recvfrom(srv, buf, 0, MSG_DONTWAIT, NULL, NULL) < 0, "nothing queued yet");
	cr_assert(send(fd, "x", 1, 0) == 1);
	cr_assert(recvfrom(srv, buf, sizeof(buf), 0, (struct sockaddr *)&sin, &len) == 1);
	sim_clock_pair(&before);
	cr_assert(sendto(srv, "answer", 6, 0, (struct sockaddr *)&sin, len) == 6);
	nanosleep(&pause, NULL);
	memset(&s, 0, sizeof(s));
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	s.mh.msg_iov = &iov;
	s.mh.msg_iovlen = 1;
	s.mh.msg_control = s.ctl.b;
	s.mh.msg_controllen = sizeof(s.ctl.b);
	cr_assert_eq(recvmsg(fd, &s.mh, 0), 6);
	sim_clock_pair(&c);
	at = sim_arrival_ns(&s.mh, &c);
	cr_assert_geq(at, before.mono_ns, "arrival before the answer was sent");
	cr_assert_geq(c.mono_ns - at, 30 * MS - MS, "dated by the read, %llu ns before it",
	    (unsigned long long)(c.mono_ns - at));
	close(fd);
	close(srv);
}
