/* SPDX-License-Identifier: Apache-2.0 */
/* What every fuzz target shares (see fuzz.h): failure, the deterministic
 * rng, the fixed world and the datagram framing. */
#include "config.h"

#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_stats fuzz_stats;

void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", file, line, what);
	abort();
}

void
fuzz_rng_reset(struct fuzz_rng *r, const char *label)
{
	if (proto_sha256((const uint8_t *)label, strlen(label), NULL, 0, NULL, 0, r->seed) !=
	    M2M_OK)
		fuzz_fail(__FILE__, __LINE__, "sha256");
	r->counter = 0;
}

static int
rng_fill(void *arg, uint8_t *buf, size_t len)
{
	struct fuzz_rng *r = arg;
	uint8_t block[PROTO_HASH_LEN], ctr[8];
	size_t n;

	while (len > 0) {
		proto_put_u64(ctr, r->counter++);
		if (proto_sha256(r->seed, sizeof(r->seed), ctr, sizeof(ctr), NULL, 0, block) !=
		    M2M_OK)
			return 0;
		n = len < sizeof(block) ? len : sizeof(block);
		memcpy(buf, block, n);
		buf += n;
		len -= n;
	}
	return 1;
}

struct proto_ctx *
fuzz_ctx_new(struct fuzz_rng *r)
{
	struct proto_rng rng = { rng_fill, r };
	struct proto_ctx *ctx;

	if (proto_ctx_new(&ctx, &rng) != M2M_OK)
		fuzz_fail(__FILE__, __LINE__, "proto_ctx_new");
	return ctx;
}

/* A scalar from a label: SHA-256 of it is below n with overwhelming odds. */
static void
key_of(struct proto_ctx *ctx, const char *label, uint8_t priv[PROTO_SCALAR_LEN],
    uint8_t pub[PROTO_POINT_LEN])
{
	FUZZ_ASSERT(proto_sha256((const uint8_t *)label, strlen(label), NULL, 0, NULL, 0,
	    priv) == M2M_OK);
	FUZZ_ASSERT(proto_p256_public(ctx, priv, PROTO_SCALAR_LEN, pub) == M2M_OK);
}

const struct fuzz_world *
fuzz_world(void)
{
	static const char id[] = "meter-fuzz-00001";		/* 16 bytes */
	static const char pseudonym[] = "pseudonym-fuzz-1";	/* 16 bytes */
	static struct fuzz_world w;
	static int ready;
	struct fuzz_rng r;
	struct proto_ctx *ctx;

	if (ready)
		return &w;
	fuzz_rng_reset(&r, "m2m fuzz world");
	ctx = fuzz_ctx_new(&r);
	key_of(ctx, "m2m fuzz server key", w.server_priv, w.key.pub);
	FUZZ_ASSERT(proto_key_id(w.key.pub, w.key.key_id) == M2M_OK);
	memcpy(w.creds.identity, id, sizeof(id) - 1);
	w.creds.identity_len = sizeof(id) - 1;
	key_of(ctx, "m2m fuzz module key", w.creds.priv, w.creds.pub);
	memcpy(w.creds.server_pub, w.key.pub, PROTO_POINT_LEN);
	memcpy(w.creds.key_id, w.key.key_id, PROTO_KEY_ID_LEN);
	memcpy(w.creds.pseudonym, pseudonym, sizeof(pseudonym) - 1);
	w.creds.pseudonym_len = sizeof(pseudonym) - 1;
	key_of(ctx, "m2m fuzz module key 2", w.m2_priv, w.m2_pub);
	w.rec.active = 1;
	memcpy(w.rec.identity, id, sizeof(id) - 1);
	w.rec.identity_len = sizeof(id) - 1;
	memcpy(w.rec.key, w.creds.pub, PROTO_POINT_LEN);
	FUZZ_ASSERT(proto_sha256((const uint8_t *)"m2m fuzz cookie", 15, NULL, 0, NULL, 0,
	    w.cookie_secret) == M2M_OK);
	proto_ctx_free(ctx);
	ready = 1;
	return &w;
}

int
fuzz_next(struct fuzz_in *in, uint8_t *op, const uint8_t **dg, size_t *len)
{
	size_t n;

	if (in->left < FUZZ_UNIT_HDR)
		return 0;
	*op = in->p[0];
	n = (size_t)in->p[1] << 8 | in->p[2];
	in->p += FUZZ_UNIT_HDR;
	in->left -= FUZZ_UNIT_HDR;
	if (n > in->left)
		n = in->left;
	*dg = in->p;
	*len = n;
	in->p += n;
	in->left -= n;
	return 1;
}

void
fuzz_put(uint8_t *buf, size_t cap, size_t *n, uint8_t op, const uint8_t *dg, size_t len)
{
	FUZZ_ASSERT(len <= 0xffff && *n + FUZZ_UNIT_HDR + len <= cap);
	buf[*n] = op;
	buf[*n + 1] = (uint8_t)(len >> 8);
	buf[*n + 2] = (uint8_t)len;
	if (len != 0)
		memcpy(buf + *n + FUZZ_UNIT_HDR, dg, len);
	*n += FUZZ_UNIT_HDR + len;
}
