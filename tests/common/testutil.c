/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the tests (see testutil.h). */
#include "config.h"

#include "tests/common/testutil.h"
#include "src/common/hex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

uint8_t *
tu_unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex);
	uint8_t *p = malloc(n / 2 + 1);

	cr_assert_not_null(p);
	cr_assert_eq(m2m_unhex(hex, n, p, n / 2 + 1, len), 0, "bad hex: %s", hex);
	return p;
}

void
tu_hex(const uint8_t *p, size_t len, char *out)
{
	m2m_hex(p, len, out);
}

json_object *
tu_load_vectors(const char *name)
{
	char path[512];
	json_object *o;

	snprintf(path, sizeof(path), "%s/vectors/%s", TEST_SRCDIR, name);
	o = json_object_from_file(path);
	cr_assert_not_null(o, "cannot load %s: %s", path, json_util_get_last_err());
	return o;
}

static int
rng_fill(void *arg, uint8_t *buf, size_t len)
{
	struct tu_rng *r = arg;
	uint8_t block[PROTO_HASH_LEN], ctr[8];
	size_t n;

	while (len > 0) {
		proto_put_u64(ctr, r->counter++);
		if (proto_sha256(r->seed, sizeof(r->seed), ctr, sizeof(ctr), NULL, 0, block) != M2M_OK)
			return 0;
		n = len < sizeof(block) ? len : sizeof(block);
		memcpy(buf, block, n);
		buf += n;
		len -= n;
	}
	return 1;
}

void
tu_rng_init(struct tu_rng *r, const char *seed)
{
	proto_sha256((const uint8_t *)seed, strlen(seed), NULL, 0, NULL, 0, r->seed);
	r->counter = 0;
}

struct proto_rng
tu_rng_of(struct tu_rng *r)
{
	struct proto_rng rng = { rng_fill, r };

	return rng;
}

void
tu_world_init(struct tu_world *w, struct proto_ctx *ctx)
{
	static const char id[] = "meter-0000000001";	/* 16 bytes */

	memset(w, 0, sizeof(*w));
	w->ctx = ctx;
	cr_assert_eq(proto_p256_keygen(ctx, w->server_priv, w->key.pub), M2M_OK);
	cr_assert_eq(proto_key_id(w->key.pub, w->key.key_id), M2M_OK);
	memcpy(w->creds.identity, id, sizeof(id) - 1);
	w->creds.identity_len = sizeof(id) - 1;
	cr_assert_eq(proto_p256_keygen(ctx, w->creds.priv, w->creds.pub), M2M_OK);
	memcpy(w->creds.server_pub, w->key.pub, PROTO_POINT_LEN);
	memcpy(w->creds.key_id, w->key.key_id, PROTO_KEY_ID_LEN);
	cr_assert_eq(proto_random(ctx, w->creds.pseudonym, PROTO_PSEUDONYM_LEN), M2M_OK);
	w->creds.pseudonym_len = PROTO_PSEUDONYM_LEN;
	w->rec.active = 1;
	memcpy(w->rec.identity, id, sizeof(id) - 1);
	w->rec.identity_len = sizeof(id) - 1;
	memcpy(w->rec.key, w->creds.pub, PROTO_POINT_LEN);
}

enum m2m_err
tu_handshake(struct tu_world *w, const uint8_t *data, size_t len, struct tu_flight *f)
{
	static const uint8_t sid[PROTO_SESSION_ID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct proto_mod_hs mhs;
	struct proto_srv_hs shs;
	uint8_t dh1[PROTO_DH_LEN];
	enum m2m_err err;

	memset(f, 0, sizeof(*f));
	if ((err = proto_mod_hello(w->ctx, &mhs, &w->creds, f->msg[0], PROTO_DATAGRAM_MAX,
	    &f->len[0])) != M2M_OK)
		return err;
	if ((err = proto_srv_hello(w->ctx, &w->key, 1, 0, f->msg[0], f->len[0], &shs, f->msg[1],
	    PROTO_DATAGRAM_MAX, &f->len[1])) != M2M_OK)
		return err;
	if ((err = proto_mod_challenge(w->ctx, &mhs, &w->creds, f->msg[1], f->len[1], data, len,
	    f->msg[2], PROTO_DATAGRAM_MAX, &f->len[2])) != M2M_OK)
		return err;
	if ((err = proto_srv_auth_start(w->ctx, &f->auth, &shs, f->msg[2], f->len[2])) != M2M_OK)
		return err;
	if ((err = proto_srv_auth_module(&f->auth, &w->rec)) != M2M_OK)
		return err;
	/* Software stands in for the HSM: DH1 = ECDH(s, E_m). */
	if ((err = proto_p256_ecdh(w->ctx, w->server_priv, PROTO_SCALAR_LEN, f->auth.hs.e_m,
	    PROTO_POINT_FULL_LEN, dh1)) != M2M_OK)
		return err;
	if ((err = proto_srv_auth_dh1(w->ctx, &f->auth, dh1)) != M2M_OK)
		return err;
	if ((err = proto_srv_welcome(w->ctx, &f->auth, sid, f->auth.next_pseudonym,
	    PROTO_PSEUDONYM_LEN, NULL, 0, &f->srv_s, f->msg[3],
	    PROTO_DATAGRAM_MAX, &f->len[3])) != M2M_OK)
		return err;
	return proto_mod_welcome(w->ctx, &mhs, f->msg[3], f->len[3], &f->mod_s, f->welcome_pt,
	    &f->welcome);
}
