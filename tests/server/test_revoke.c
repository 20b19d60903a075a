/* SPDX-License-Identifier: Apache-2.0 */
/* Suspension and revocation end live sessions: once a module is no longer
 * active, a DATA on the session it already has is neither stored nor
 * acknowledged, the session ends on the node that holds it, and a resend
 * of a DATA acknowledged earlier gets no answer either. */
#include "config.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/server/srvtest.h"

static void
ctl(const char *verb, const struct cli *c)
{
	char args[128];

	snprintf(args, sizeof(args), "%s %s", verb, st_identity(c));
	cr_assert_eq(st_m2mctl(args), 0, "m2mctl %s", args);
}

/* On the node at port (metrics on port + 1): a session, one DATA
 * acknowledged, then `verb`; what the session still gets. */
static void
ends_session(size_t index, int port, const char *verb)
{
	uint8_t old[PROTO_DATAGRAM_MAX], in[PROTO_DATAGRAM_MAX];
	size_t old_len, n;
	uint64_t seq;
	struct cli c;
	double ended = st_metric(port + 1, "m2md_sessions_ended_inactive_total", NULL);

	st_client(&c, index, port);
	cr_assert_eq(cli_handshake(&c, (const uint8_t *)"boot", 4), M2M_OK);
	cr_assert_eq(cli_data(&c, (const uint8_t *)"before", 6, &seq), M2M_OK);
	memcpy(old, c.last, c.last_len);
	old_len = c.last_len;
	cr_assert_eq(st_reports(&c), 2);
	ctl(verb, &c);
	c.timeout_ms = 500;
	cr_assert_eq(cli_data(&c, (const uint8_t *)"after", 5, &seq), M2M_E_IO,
	    "a DATA after %s is not acknowledged", verb);
	cr_assert_eq(st_reports(&c), 2, "nor stored");
	/* Answered again while the session lived (a lost DATA_ACK); not now. */
	cr_assert_eq(cli_send(&c, old, old_len), M2M_OK);
	cr_assert_eq(cli_recv(&c, in, sizeof(in), &n), M2M_E_IO,
	    "an earlier DATA resent gets no answer once the session ended");
	cr_assert_eq(st_metric(port + 1, "m2md_sessions_ended_inactive_total", NULL), ended + 1,
	    "the session ended");
	cli_close(&c);
}

Test(revoke, suspension_ends_the_session)
{
	struct cli c;

	ends_session(28, st_port(), "suspend");
	st_client(&c, 28, st_port());
	ctl("resume", &c);
	cr_assert_eq(cli_handshake(&c, NULL, 0), M2M_OK, "a new session after resume");
	cli_close(&c);
}

/* The same on another node sharing the database: the refusal comes from
 * the database, so whichever node holds the session ends it. */
Test(revoke, revocation_ends_the_session_on_another_node)
{
	int port = st_port() + 50;
	pid_t node = st_start_m2md("revoke-node.conf", port, 5, NULL);

	ends_session(29, port, "revoke");
	cr_assert_eq(st_stop_m2md(node, SIGTERM), 0);
}
