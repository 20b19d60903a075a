/* SPDX-License-Identifier: Apache-2.0 */
/* A forger racing m2md to a module (doc/protocol.md 10.1): forged
 * CHALLENGEs and WELCOMEs reach the module's socket before the server's
 * answers, and the handshake still completes against the live m2md. */
#include "config.h"

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/server/srvtest.h"

#define MPORT	(st_port() + 1)

/* The module of the world that no other test uses. */
#define FORGERY_MODULE	27

/* Binds the client's socket now, so the forger knows where to send. */
static struct sockaddr_in
module_address(struct cli *c)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(c->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(c->fd, (struct sockaddr *)&a, &len), 0);
	return a;
}

/* What an attacker sends: a CHALLENGE with a valid E_s of its own and a
 * random token (the module computes TH2 itself, so the forger needs nothing
 * from the HELLO), or a WELCOME of the right shape with a tag that cannot
 * verify. */
static void
forge(struct proto_ctx *ctx, int fd, const struct sockaddr_in *to, uint8_t type)
{
	struct proto_challenge ch;
	uint8_t priv[PROTO_SCALAR_LEN], e_s[PROTO_POINT_LEN], token[PROTO_TOKEN_LEN];
	uint8_t out[PROTO_DATAGRAM_MAX];
	size_t n = 60;

	cr_assert_eq(proto_random(ctx, out, n), M2M_OK);
	out[0] = PROTO_VERSION;
	out[1] = type;
	if (type == PROTO_CHALLENGE) {
		cr_assert_eq(proto_p256_keygen(ctx, priv, e_s), M2M_OK);
		cr_assert_eq(proto_random(ctx, token, sizeof(token)), M2M_OK);
		ch.token = token;
		ch.e_s = e_s;
		cr_assert_eq(proto_challenge_encode(&ch, out, sizeof(out), &n), M2M_OK);
	}
	cr_assert_eq(sendto(fd, out, n, 0, (const struct sockaddr *)to, sizeof(*to)),
	    (ssize_t)n);
}

/* AUTHs whose token m2md never issued: those answering the forgeries. */
static double
unknown_tokens(void)
{
	return st_metric(MPORT, "m2md_drops_total", "M2M_E_SRV_UNKNOWN_TOKEN") +
	    st_metric(MPORT, "m2md_drops_total", "M2M_E_SRV_NOT_OURS");
}

/* More forged CHALLENGEs than the module keeps and a forged WELCOME, all
 * in its socket before m2md answers, in two handshakes in a row: each
 * completes, the session carries DATA, and the forgeries' AUTHs reach m2md
 * and are dropped as unknown tokens. */
Test(forgery, forger_racing_m2md_does_not_end_the_handshake)
{
	const int n_forged = PROTO_MOD_CANDIDATES + 2;
	struct sockaddr_in to;
	struct cli c;
	double dropped;
	uint64_t seq;
	int fd;

	st_client(&c, FORGERY_MODULE, st_port());
	to = module_address(&c);
	cr_assert_geq(fd = socket(AF_INET, SOCK_DGRAM, 0), 0);
	for (int round = 0; round < 2; round++) {
		dropped = unknown_tokens();
		for (int i = 0; i < n_forged; i++)
			forge(c.ctx, fd, &to, PROTO_CHALLENGE);
		forge(c.ctx, fd, &to, PROTO_WELCOME);
		cr_assert_eq(cli_handshake(&c, (const uint8_t *)"boot", 4), M2M_OK,
		    "round %d", round);
		cr_assert_eq(cli_data(&c, (const uint8_t *)"t=19", 4, &seq), M2M_OK);
		cr_assert_geq(unknown_tokens() - dropped, n_forged,
		    "every forged CHALLENGE was answered");
	}
	cr_assert_eq(st_reports(&c), 4, "two first data and two DATA, each once");
	close(fd);
	cli_close(&c);
}
