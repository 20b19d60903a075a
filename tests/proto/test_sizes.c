/* SPDX-License-Identifier: Apache-2.0 */
/* The sizes doc/protocol.md names (sections 3, 4, 13 and 14): a HELLO of
 * 58 bytes (a 16-byte pseudonym) and a WELCOME whose C3 is 35 bytes
 * (status, pseudonym length, a 16-byte pseudonym, instruction count, tag)
 * are the shortest the decoders take; an AUTH's length depends on the
 * identity's bucket only. */
#include "config.h"

#include <criterion/criterion.h>
#include <string.h>

#include "tests/common/testutil.h"

Test(sizes, smallest_hello_is_58_bytes)
{
	uint8_t buf[PROTO_DATAGRAM_MAX], key_id[PROTO_KEY_ID_LEN] = { 0 }, ps[PROTO_PSEUDONYM_MAX];
	uint8_t e_m[PROTO_POINT_LEN] = { 2 };
	struct proto_hello h = { PROTO_SUITE_P256_AES128GCM, key_id, ps, PROTO_PSEUDONYM_MIN, e_m,
	    NULL, 0 }, d;
	size_t n;

	memset(ps, 7, sizeof(ps));
	cr_assert_eq(proto_hello_encode(&h, buf, sizeof(buf), &n), M2M_OK);
	cr_assert_eq(n, 58);
	cr_assert_eq(proto_hello_decode(buf, n, &d), M2M_OK);
	/* One byte of pseudonym less: the length byte says 15. */
	buf[7] = PROTO_PSEUDONYM_MIN - 1;
	memmove(buf + 8 + 15, buf + 8 + 16, n - 8 - 16);
	cr_assert_eq(proto_hello_decode(buf, n - 1, &d), M2M_E_PROTO_FIELD_LEN);
	h.pseudonym_len = PROTO_PSEUDONYM_MIN - 1;
	cr_assert_neq(proto_hello_encode(&h, buf, sizeof(buf), &n), M2M_OK);
}

Test(sizes, smallest_welcome_c3_is_35_bytes)
{
	uint8_t buf[2 + PROTO_SESSION_ID_LEN + 64] = { PROTO_VERSION, PROTO_WELCOME };
	struct proto_welcome w;

	cr_assert_eq(proto_welcome_decode(buf, 2 + PROTO_SESSION_ID_LEN + 35, &w), M2M_OK);
	cr_assert_eq(w.c3_len, 35);
	cr_assert_eq(proto_welcome_decode(buf, 2 + PROTO_SESSION_ID_LEN + 34, &w),
	    M2M_E_PROTO_TRUNCATED);
	cr_assert_eq(proto_welcome_decode(buf, 2 + PROTO_SESSION_ID_LEN + 27, &w),
	    M2M_E_PROTO_TRUNCATED, "27 bytes was an older reading of the spec");
}

/* The AUTH of a module with an identity of id_len bytes and no data. */
static size_t
auth_len_for(struct proto_ctx *ctx, struct tu_world *w, size_t id_len)
{
	static struct tu_flight f;

	memset(w->creds.identity, 'i', id_len);
	w->creds.identity_len = id_len;
	memcpy(w->rec.identity, w->creds.identity, id_len);
	w->rec.identity_len = id_len;
	cr_assert_eq(tu_handshake(w, NULL, 0, &f), M2M_OK, "identity of %zu bytes", id_len);
	(void)ctx;
	return f.len[2];
}

/* 4.4: C1 carries the identity padded to 16, 32 or 64 bytes after a length
 * byte, so an AUTH's length tells only which of 1..16, 17..32 or 33..64
 * bytes the identity has: 68, 84 or 116 bytes without first data. */
Test(sizes, auth_length_shows_only_the_identity_bucket)
{
	static const size_t want[3] = { 68, 84, 116 };
	struct proto_ctx *ctx;
	struct tu_world w;

	cr_assert_eq(proto_ctx_new(&ctx, NULL), M2M_OK);
	tu_world_init(&w, ctx);
	for (size_t id_len = 1; id_len <= PROTO_IDENTITY_MAX; id_len++)
		cr_assert_eq(auth_len_for(ctx, &w, id_len), want[id_len <= 16 ? 0 : id_len <= 32 ? 1 : 2],
		    "identity of %zu bytes", id_len);
	proto_ctx_free(ctx);
}
