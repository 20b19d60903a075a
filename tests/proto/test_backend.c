/* SPDX-License-Identifier: Apache-2.0 */
/* What the crypto backend (src/crypto/backend.h) returns beyond ECDH's x
 * coordinate, which cannot show it: the uncompressed point a compressed
 * one decodes to, y's parity included (x(k * P) = x(k * -P), so a
 * backend that decompressed to -P would pass every ECDH vector). Run on
 * each backend. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "src/crypto/backend.h"
#include "tests/common/testutil.h"

static struct proto_ctx *ctx;

static void
setup(void)
{
	cr_assert_eq(proto_ctx_new(&ctx, NULL), M2M_OK);
}

static void
teardown(void)
{
	proto_ctx_free(ctx);
}

TestSuite(backend, .init = setup, .fini = teardown);

/* Every valid uncompressed point of Wycheproof's P-256 ECDH file:
 * compressed by plain bytes, then decoded by the backend, gives it back;
 * with the other parity byte, the backend gives the point's negation. */
Test(backend, decompression_gives_the_same_point)
{
	json_object *root = tu_load_vectors("ecdh_secp256r1_ecpoint_test.json"), *groups, *tests;
	size_t n = 0, odd = 0;

	json_object_object_get_ex(root, "testGroups", &groups);
	json_object_object_get_ex(json_object_array_get_idx(groups, 0), "tests", &tests);
	for (size_t i = 0; i < json_object_array_length(tests); i++) {
		json_object *t = json_object_array_get_idx(tests, i), *o;
		uint8_t c[PROTO_POINT_LEN], full[PROTO_POINT_FULL_LEN], *pub;
		size_t pl;

		json_object_object_get_ex(t, "result", &o);
		if (strcmp(json_object_get_string(o), "valid") != 0)
			continue;
		json_object_object_get_ex(t, "public", &o);
		pub = tu_unhex(json_object_get_string(o), &pl);
		if (pl == PROTO_POINT_FULL_LEN) {
			proto_p256_compress(pub, c);
			cr_assert_eq(proto_p256_decompress(ctx, c, sizeof(c), full), M2M_OK);
			cr_assert_arr_eq(full, pub, sizeof(full), "vector %zu", i);
			cr_assert_eq(proto_p256_decompress(ctx, pub, pl, full), M2M_OK);
			cr_assert_arr_eq(full, pub, sizeof(full));
			c[0] ^= 1;
			cr_assert_eq(proto_p256_decompress(ctx, c, sizeof(c), full), M2M_OK);
			cr_assert_arr_eq(full, pub, PROTO_POINT_LEN, "same x");
			cr_assert_arr_neq(full + PROTO_POINT_LEN, pub + PROTO_POINT_LEN,
			    PROTO_SCALAR_LEN, "the other y");
			odd += pub[PROTO_POINT_FULL_LEN - 1] & 1;
			n++;
		}
		free(pub);
	}
	cr_log_info("%zu points (%zu with odd y) on the %s backend", n, odd, crypto_be_name());
	cr_assert_gt(odd, 0);
	cr_assert_lt(odd, n, "both parities seen");
	json_object_put(root);
}

/* A compressed x with no point on the curve (x^3 - 3x + b not a square
 * mod p) is refused; one with a point decodes to a point on the curve.
 * About half of all x have none: among x = 1..32 both kinds occur. */
Test(backend, compressed_x_without_a_point_refused)
{
	uint8_t c[PROTO_POINT_LEN] = { 0x02 }, full[PROTO_POINT_FULL_LEN];
	size_t found = 0;

	for (unsigned x = 1; x <= 32; x++) {
		c[PROTO_POINT_LEN - 1] = (uint8_t)x;
		if (proto_p256_decompress(ctx, c, sizeof(c), full) == M2M_OK) {
			cr_assert_eq(proto_p256_check(ctx, full, sizeof(full)), M2M_OK);
			found++;
		} else
			cr_assert_eq(proto_p256_check(ctx, c, sizeof(c)), M2M_E_PROTO_POINT);
	}
	cr_assert(found > 0 && found < 32, "%zu of 32 small x have a point", found);
}
