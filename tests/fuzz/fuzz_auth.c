/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the AUTH decoder on one arbitrary datagram, its layout
 * against proto_auth_layout, and proto_srv_auth_start on a fixed entry,
 * fresh and keyed (a PRK1 kept): what is refused leaves the entry as it
 * was, and what is accepted uses no attempt yet. */
#include "config.h"

#include "tests/fuzz/fuzz.h"

#include <string.h>

static struct proto_ctx *
ctx_get(void)
{
	static struct fuzz_rng rng;
	static struct proto_ctx *ctx;

	if (ctx == NULL) {
		fuzz_rng_reset(&rng, "m2m fuzz auth");
		ctx = fuzz_ctx_new(&rng);
	}
	return ctx;
}

FUZZ_TARGET(auth)
{
	static struct proto_srv_auth a;
	struct proto_srv_hs hs, before;
	struct proto_auth m;
	size_t c1_off, c2_off, total;
	enum m2m_err err;

	err = proto_auth_decode(data, size, &m);
	if (err == M2M_OK) {
		FUZZ_ASSERT(size <= PROTO_DATAGRAM_MAX);
		/* C1: a padded identity of 16, 32 or 64 bytes and its length byte. */
		FUZZ_ASSERT(m.c1_len == 17 + PROTO_TAG_LEN || m.c1_len == 33 + PROTO_TAG_LEN ||
		    m.c1_len == 65 + PROTO_TAG_LEN);
		FUZZ_ASSERT(m.c2_len >= PROTO_TAG_LEN);
		FUZZ_ASSERT(m.token == data + PROTO_HDR_LEN);
		FUZZ_ASSERT(PROTO_HDR_LEN + PROTO_TOKEN_LEN + 1 + m.c1_len + m.c2_len == size);
		FUZZ_ASSERT(proto_auth_layout(m.c1_len - PROTO_TAG_LEN - 1, m.c2_len - PROTO_TAG_LEN,
		    PROTO_DATAGRAM_MAX, &c1_off, &c2_off, &total) == M2M_OK);
		FUZZ_ASSERT(data + c1_off == m.c1 && data + c2_off == m.c2 && total == size);
	}
	/* A fixed half-open entry whose token is 16 bytes of 0x5a; keyed on
	 * the second pass with a PRK1 of 0x33 (nothing a fuzzer can match). */
	for (int keyed = 0; keyed < 2; keyed++) {
		memset(&hs, 0, sizeof(hs));
		memset(hs.token, 0x5a, sizeof(hs.token));
		hs.attempts_left = PROTO_AUTH_ATTEMPTS;
		hs.keyed = (uint8_t)keyed;
		memset(hs.prk1, keyed ? 0x33 : 0, sizeof(hs.prk1));
		before = hs;
		if (proto_srv_auth_start(ctx_get(), &a, &hs, data, size) != M2M_OK) {
			FUZZ_ASSERT(memcmp(&hs, &before, sizeof(hs)) == 0);
			continue;
		}
		FUZZ_ASSERT(err == M2M_OK);
		FUZZ_ASSERT(a.req == PROTO_REQ_LOOKUP && a.pkt_len == size);
		FUZZ_ASSERT(hs.state == PROTO_SRV_HS_BUSY &&
		    hs.attempts_left == PROTO_AUTH_ATTEMPTS);
		FUZZ_ASSERT(a.msg.c1 == a.pkt + (m.c1 - data) && a.msg.c2_len == m.c2_len);
		FUZZ_ASSERT(proto_srv_hs_settle(&hs, &a, M2M_E_PROTO_DECRYPT) == 0);
		FUZZ_ASSERT(hs.state == PROTO_SRV_HS_OPEN &&
		    hs.attempts_left == PROTO_AUTH_ATTEMPTS - a.c1_opened);
		proto_srv_auth_wipe(&a);
	}
	return 0;
}
