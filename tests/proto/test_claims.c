/* Claims of doc/protocol.md about the roles, checked on the roles in
 * memory: K3 seals once per entry although the same AUTH may be processed
 * more than once (8.1). */
#include "config.h"

#include <string.h>

#include <criterion/criterion.h>

#include "tests/common/testutil.h"

static struct proto_ctx *ctx;
static struct tu_world w;

static void
setup(void)
{
	cr_assert_eq(proto_ctx_new(&ctx, NULL), M2M_OK);
	tu_world_init(&w, ctx);
}

static void
teardown(void)
{
	proto_ctx_free(ctx);
}

TestSuite(claims, .init = setup, .fini = teardown);

static const uint8_t sid[PROTO_SESSION_ID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };

/* One AUTH through the server role up to COMMIT. */
static void
to_commit(struct proto_srv_auth *a, struct proto_srv_hs *shs, const uint8_t *auth, size_t al)
{
	uint8_t dh1[PROTO_DH_LEN];

	cr_assert_eq(proto_srv_auth_start(a, shs, auth, al), M2M_OK);
	cr_assert_eq(proto_srv_auth_module(a, &w.rec), M2M_OK);
	cr_assert_eq(proto_p256_ecdh(ctx, w.server_priv, PROTO_SCALAR_LEN, a->hs.e_m,
	    PROTO_POINT_FULL_LEN, dh1), M2M_OK);
	cr_assert_eq(proto_srv_auth_dh1(ctx, a, dh1), M2M_OK);
}

/* 8.1: an AUTH whose commit failed is processed again (its entry is OPEN
 * with attempts left), but only the processing that commits seals under
 * K3, and the entry is then DONE: the same AUTH is refused, and the request
 * that sealed refuses to seal again. */
Test(claims, k3_seals_once_although_an_auth_may_be_processed_again)
{
	struct proto_mod_hs mhs;
	struct proto_srv_hs shs;
	static struct proto_srv_auth a, b, c;
	static struct proto_session s, s2;
	uint8_t hello[PROTO_DATAGRAM_MAX], ch[PROTO_DATAGRAM_MAX], auth[PROTO_DATAGRAM_MAX];
	uint8_t out[PROTO_DATAGRAM_MAX];
	size_t hl, cl, al, n;

	cr_assert_eq(proto_mod_hello(ctx, &mhs, &w.creds, hello, sizeof(hello), &hl), M2M_OK);
	cr_assert_eq(proto_srv_hello(ctx, &w.key, 1, 0, hello, hl, &shs, ch, sizeof(ch), &cl),
	    M2M_OK);
	cr_assert_eq(proto_mod_challenge(ctx, &mhs, &w.creds, ch, cl, NULL, 0, auth, sizeof(auth),
	    &al), M2M_OK);
	to_commit(&a, &shs, auth, al);
	/* The commit failed (database down): no WELCOME, the entry reopens. */
	cr_assert_eq(proto_srv_hs_settle(&shs, M2M_E_CRYPTO), 0);
	proto_srv_auth_wipe(&a);
	cr_assert_eq(shs.state, PROTO_SRV_HS_OPEN);
	to_commit(&b, &shs, auth, al);
	cr_assert_eq(proto_srv_welcome(ctx, &b, sid, b.next_pseudonym, PROTO_PSEUDONYM_LEN, NULL, 0,
	    &s, out, sizeof(out), &n), M2M_OK);
	cr_assert_eq(proto_srv_welcome(ctx, &b, sid, b.next_pseudonym, PROTO_PSEUDONYM_LEN, NULL, 0,
	    &s2, out, sizeof(out), &n), M2M_E_PROTO_STATE, "sealed once");
	cr_assert_eq(proto_srv_hs_settle(&shs, M2M_OK), 0);
	cr_assert_eq(shs.state, PROTO_SRV_HS_DONE);
	cr_assert_eq(proto_srv_auth_start(&c, &shs, auth, al), M2M_E_PROTO_STATE);
}
