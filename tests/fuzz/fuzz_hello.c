/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the HELLO decoder on one arbitrary datagram. What decodes
 * must re-encode to the same bytes and hold its documented bounds. */
#include "config.h"

#include "tests/fuzz/fuzz.h"

#include <string.h>

FUZZ_TARGET(hello)
{
	uint8_t out[PROTO_DATAGRAM_MAX], type;
	struct proto_hello h;
	size_t n = 0;
	enum m2m_err err;

	err = proto_hello_decode(data, size, &h);
	if (err != M2M_OK) {
		FUZZ_ASSERT(err > M2M_OK && err < M2M_ERR_COUNT);
		return 0;
	}
	FUZZ_ASSERT(proto_peek(data, size, &type) == M2M_OK && type == PROTO_HELLO);
	FUZZ_ASSERT(h.suite == PROTO_SUITE_P256_AES128GCM);
	FUZZ_ASSERT(h.pseudonym_len >= PROTO_PSEUDONYM_MIN &&
	    h.pseudonym_len <= PROTO_PSEUDONYM_MAX);
	FUZZ_ASSERT((h.cookie == NULL && h.cookie_len == 0) ||
	    (h.cookie != NULL && h.cookie_len == PROTO_COOKIE_LEN));
	FUZZ_ASSERT(size == 42 + h.pseudonym_len + h.cookie_len);
	FUZZ_ASSERT(h.key_id == data + 3 && h.pseudonym == data + 8 &&
	    h.e_m == h.pseudonym + h.pseudonym_len);
	FUZZ_ASSERT(proto_hello_encode(&h, out, sizeof(out), &n) == M2M_OK);
	FUZZ_ASSERT(n == size && memcmp(out, data, size) == 0);
	/* One byte short of room is refused, never overrun. */
	FUZZ_ASSERT(proto_hello_encode(&h, out, size - 1, &n) == M2M_E_PROTO_BUFFER);
	return 0;
}
