/* SPDX-License-Identifier: Apache-2.0 */
/* The key m2md's per-source limits (HELLO rate, HSM operations) use: one
 * IPv4 address, one IPv6 /64, the port ignored; cookies and resend credit
 * keep the whole address and port. Tested on the key-building function and
 * a token bucket directly: loopback has one IPv6 address (::1), so a /64
 * cannot be exercised end to end here. */
#include "config.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "src/server/ratelimit.h"
#include "src/server/srv.h"

static struct sockaddr_storage
v6(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	a->sin6_family = AF_INET6;
	a->sin6_port = htons(port);
	cr_assert_eq(inet_pton(AF_INET6, ip, &a->sin6_addr), 1, "%s", ip);
	return ss;
}

static struct sockaddr_storage
v4(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	cr_assert_eq(inet_pton(AF_INET, ip, &a->sin_addr), 1, "%s", ip);
	return ss;
}

static int
same_source(struct sockaddr_storage a, struct sockaddr_storage b)
{
	uint8_t ka[18], kb[18];
	size_t na = net_addr_bytes(&a, ka, 0), nb = net_addr_bytes(&b, kb, 0);

	return na == nb && memcmp(ka, kb, na) == 0;
}

Test(source_key, ipv6_is_limited_per_64)
{
	cr_assert(same_source(v6("2001:db8:1:2::1", 1), v6("2001:db8:1:2:ffff:ee:dd:cc", 2)),
	    "two hosts of one /64 are one source");
	cr_assert_not(same_source(v6("2001:db8:1:2::1", 1), v6("2001:db8:1:3::1", 1)),
	    "the next /64 is another source");
	cr_assert_not(same_source(v6("2001:db8:1:2::1", 1), v6("2001:db9:1:2::1", 1)));
}

Test(source_key, ipv4_is_limited_per_address_and_mapped_is_ipv4)
{
	cr_assert(same_source(v4("192.0.2.7", 1000), v4("192.0.2.7", 2000)), "the port is ignored");
	cr_assert_not(same_source(v4("192.0.2.7", 1), v4("192.0.2.8", 1)));
	cr_assert(same_source(v6("::ffff:192.0.2.7", 5), v4("192.0.2.7", 6)),
	    "an IPv4-mapped address is its IPv4 address");
}

Test(source_key, cookies_keep_the_whole_address_and_port)
{
	struct sockaddr_storage a = v6("2001:db8:1:2::1", 1), b = v6("2001:db8:1:2::2", 1);
	uint8_t ka[18], kb[18];

	cr_assert_eq(net_addr_bytes(&a, ka, 1), 18);
	cr_assert_eq(net_addr_bytes(&b, kb, 1), 18);
	cr_assert_neq(memcmp(ka, kb, 18), 0);
}

/* One bucket for a whole /64: burst HELLOs from as many addresses of it,
 * then the next address of the same /64 is refused, another /64 is not. */
Test(source_key, one_bucket_for_a_whole_64)
{
	struct ratelimit rl;
	uint8_t k[18];
	char ip[64];
	size_t n;

	cr_assert_eq(rl_init(&rl, 1 << 18, 1, 10), M2M_OK);
	for (int i = 1; i <= 10; i++) {
		struct sockaddr_storage ss;

		snprintf(ip, sizeof(ip), "2001:db8:0:1::%x", i);
		ss = v6(ip, (uint16_t)i);
		n = net_addr_bytes(&ss, k, 0);
		cr_assert(rl_take(&rl, k, n, 1000), "%s within the burst", ip);
	}
	{
		struct sockaddr_storage ss = v6("2001:db8:0:1:abcd::99", 7);

		n = net_addr_bytes(&ss, k, 0);
		cr_assert_not(rl_take(&rl, k, n, 1000), "an 11th address of the /64 is over");
		ss = v6("2001:db8:0:2::1", 7);
		n = net_addr_bytes(&ss, k, 0);
		cr_assert(rl_take(&rl, k, n, 1000), "another /64 has its own bucket");
	}
	rl_free(&rl);
}
