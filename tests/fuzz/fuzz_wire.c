/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: proto_peek and the RETRY, CHALLENGE and WELCOME decoders
 * on one arbitrary datagram; what decodes re-encodes to the same bytes. */
#include "config.h"

#include "tests/fuzz/fuzz.h"

#include <string.h>

FUZZ_TARGET(wire)
{
	uint8_t out[PROTO_DATAGRAM_MAX], type = 0;
	const uint8_t *cookie;
	struct proto_challenge c;
	struct proto_welcome w;
	size_t n = 0;
	enum m2m_err peek;

	peek = proto_peek(data, size, &type);
	if (peek == M2M_OK)
		FUZZ_ASSERT(type >= PROTO_HELLO && type <= PROTO_TYPE_MAX && size >= 2 &&
		    size <= PROTO_DATAGRAM_MAX);
	if (proto_retry_decode(data, size, &cookie) == M2M_OK) {
		FUZZ_ASSERT(peek == M2M_OK && type == PROTO_RETRY);
		FUZZ_ASSERT(proto_retry_encode(cookie, out, sizeof(out), &n) == M2M_OK);
		FUZZ_ASSERT(n == size && memcmp(out, data, size) == 0);
	}
	if (proto_challenge_decode(data, size, &c) == M2M_OK) {
		FUZZ_ASSERT(peek == M2M_OK && type == PROTO_CHALLENGE);
		FUZZ_ASSERT(proto_challenge_encode(&c, out, sizeof(out), &n) == M2M_OK);
		FUZZ_ASSERT(n == size && memcmp(out, data, size) == 0);
	}
	if (proto_welcome_decode(data, size, &w) == M2M_OK) {
		FUZZ_ASSERT(peek == M2M_OK && type == PROTO_WELCOME);
		FUZZ_ASSERT(w.session_id == data + PROTO_HDR_LEN &&
		    w.c3 == data + PROTO_HDR_LEN + PROTO_SESSION_ID_LEN);
		FUZZ_ASSERT(w.c3_len >= 3 + PROTO_PSEUDONYM_MIN + PROTO_TAG_LEN &&
		    PROTO_HDR_LEN + PROTO_SESSION_ID_LEN + w.c3_len == size);
	}
	return 0;
}
