/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: P-256 check, decompress and ECDH on arbitrary bytes, which
 * must agree; with the first byte odd, a scalar for proto_p256_public. */
#include "config.h"

#include "tests/fuzz/fuzz.h"

#include <string.h>

static struct proto_ctx *
ctx_get(void)
{
	static struct fuzz_rng rng;
	static struct proto_ctx *ctx;

	if (ctx == NULL) {
		fuzz_rng_reset(&rng, "m2m fuzz point");
		ctx = fuzz_ctx_new(&rng);
	}
	return ctx;
}

FUZZ_TARGET(point)
{
	const struct fuzz_world *w = fuzz_world();
	struct proto_ctx *ctx = ctx_get();
	uint8_t full[PROTO_POINT_FULL_LEN], again[PROTO_POINT_FULL_LEN], comp[PROTO_POINT_LEN];
	uint8_t dh[PROTO_DH_LEN], dh2[PROTO_DH_LEN];
	const uint8_t *p = data + 1;
	size_t len = size - 1;
	enum m2m_err chk, dec, ecdh;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		/* A scalar: public point and ECDH with it agree with each other. */
		if (proto_p256_public(ctx, p, len, comp) != M2M_OK) {
			FUZZ_ASSERT(proto_p256_ecdh(ctx, p, len, w->key.pub, PROTO_POINT_LEN, dh) !=
			    M2M_OK);
			return 0;
		}
		FUZZ_ASSERT(proto_p256_check(ctx, comp, PROTO_POINT_LEN) == M2M_OK);
		FUZZ_ASSERT(proto_p256_ecdh(ctx, p, len, w->key.pub, PROTO_POINT_LEN, dh) == M2M_OK);
		FUZZ_ASSERT(proto_p256_ecdh(ctx, w->server_priv, PROTO_SCALAR_LEN, comp,
		    PROTO_POINT_LEN, dh2) == M2M_OK);
		FUZZ_ASSERT(memcmp(dh, dh2, sizeof(dh)) == 0);
		return 0;
	}
	chk = proto_p256_check(ctx, p, len);
	dec = proto_p256_decompress(ctx, p, len, full);
	ecdh = proto_p256_ecdh(ctx, w->server_priv, PROTO_SCALAR_LEN, p, len, dh);
	FUZZ_ASSERT(chk == dec && chk == ecdh);
	if (chk != M2M_OK) {
		FUZZ_ASSERT(chk == M2M_E_PROTO_POINT);
		return 0;
	}
	FUZZ_ASSERT(len == PROTO_POINT_LEN || len == PROTO_POINT_FULL_LEN);
	FUZZ_ASSERT(full[0] == 0x04);
	proto_p256_compress(full, comp);
	if (len == PROTO_POINT_LEN)
		FUZZ_ASSERT(memcmp(comp, p, PROTO_POINT_LEN) == 0);
	else
		FUZZ_ASSERT(memcmp(full, p, PROTO_POINT_FULL_LEN) == 0);
	/* Both forms of the point give the same point and the same ECDH. */
	FUZZ_ASSERT(proto_p256_decompress(ctx, comp, PROTO_POINT_LEN, again) == M2M_OK);
	FUZZ_ASSERT(memcmp(again, full, sizeof(full)) == 0);
	FUZZ_ASSERT(proto_p256_ecdh(ctx, w->server_priv, PROTO_SCALAR_LEN, full,
	    PROTO_POINT_FULL_LEN, dh2) == M2M_OK && memcmp(dh, dh2, sizeof(dh)) == 0);
	return 0;
}
