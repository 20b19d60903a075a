/* SPDX-License-Identifier: Apache-2.0 */
/* Claims of doc/protocol.md about the roles, checked on the roles in
 * memory: K3 seals once per entry although the same AUTH may be processed
 * more than once (8.1); a wrong identity costs what a wrong key costs (13);
 * the module's handshake state and prepared e_m cannot be copied or
 * restored (10.1). */
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

	cr_assert_eq(proto_srv_auth_start(ctx, a, shs, auth, al), M2M_OK);
	cr_assert_eq(proto_srv_auth_module(a, &w.rec), M2M_OK);
	/* An entry keyed by an earlier AUTH needs no DH1 (10.2). */
	if (a->req == PROTO_REQ_VERIFY) {
		cr_assert_eq(proto_srv_auth_verify(ctx, a), M2M_OK);
		return;
	}
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
	cr_assert_eq(proto_srv_hs_settle(&shs, &a, M2M_E_CRYPTO), 0);
	proto_srv_auth_wipe(&a);
	cr_assert_eq(shs.state, PROTO_SRV_HS_OPEN);
	to_commit(&b, &shs, auth, al);
	cr_assert_eq(proto_srv_welcome(ctx, &b, sid, b.next_pseudonym, PROTO_PSEUDONYM_LEN, NULL, 0,
	    &s, out, sizeof(out), &n), M2M_OK);
	cr_assert_eq(proto_srv_welcome(ctx, &b, sid, b.next_pseudonym, PROTO_PSEUDONYM_LEN, NULL, 0,
	    &s2, out, sizeof(out), &n), M2M_E_PROTO_STATE, "sealed once");
	cr_assert_eq(proto_srv_hs_settle(&shs, &b, M2M_OK), 0);
	cr_assert_eq(shs.state, PROTO_SRV_HS_DONE);
	cr_assert_eq(proto_srv_auth_start(ctx, &c, &shs, auth, al), M2M_E_PROTO_STATE);
}

/* Runs one AUTH of the world's module through the server role against
 * rec; returns what proto_srv_auth_dh1 decided and the primitive operations
 * it ran (DH1 is computed outside the count, as the HSM would). */
static enum m2m_err
dh1_against(const struct proto_module_rec *rec, struct proto_ops *work)
{
	struct proto_mod_hs mhs;
	struct proto_srv_hs shs;
	static struct proto_srv_auth a;
	uint8_t hello[PROTO_DATAGRAM_MAX], ch[PROTO_DATAGRAM_MAX], auth[PROTO_DATAGRAM_MAX];
	uint8_t dh1[PROTO_DH_LEN];
	size_t hl, cl, al;
	struct proto_ops before, after;
	enum m2m_err err;

	cr_assert_eq(proto_mod_hello(ctx, &mhs, &w.creds, hello, sizeof(hello), &hl), M2M_OK);
	cr_assert_eq(proto_srv_hello(ctx, &w.key, 1, 0, hello, hl, &shs, ch, sizeof(ch), &cl),
	    M2M_OK);
	cr_assert_eq(proto_mod_challenge(ctx, &mhs, &w.creds, ch, cl, (const uint8_t *)"d", 1,
	    auth, sizeof(auth), &al), M2M_OK);
	cr_assert_eq(proto_srv_auth_start(ctx, &a, &shs, auth, al), M2M_OK);
	cr_assert_eq(proto_srv_auth_module(&a, rec), M2M_OK);
	cr_assert_eq(proto_p256_ecdh(ctx, w.server_priv, PROTO_SCALAR_LEN, a.hs.e_m,
	    PROTO_POINT_FULL_LEN, dh1), M2M_OK);
	proto_ctx_ops(ctx, &before);
	err = proto_srv_auth_dh1(ctx, &a, dh1);
	proto_ctx_ops(ctx, &after);
	work->ecdh = after.ecdh - before.ecdh;
	work->hkdf_extract = after.hkdf_extract - before.hkdf_extract;
	work->hkdf_expand = after.hkdf_expand - before.hkdf_expand;
	work->aead_seal = after.aead_seal - before.aead_seal;
	work->aead_open = after.aead_open - before.aead_open;
	proto_srv_auth_wipe(&a);
	proto_mod_hs_wipe(&mhs);
	return err;
}

static void
same_work(const struct proto_ops *x, const struct proto_ops *y, const char *what)
{
	cr_expect_eq(x->ecdh, y->ecdh, "%s: ECDH %lu and %lu", what, x->ecdh, y->ecdh);
	cr_expect_eq(x->hkdf_extract, y->hkdf_extract, "%s: HKDF-Extract", what);
	cr_expect_eq(x->hkdf_expand, y->hkdf_expand, "%s: HKDF-Expand", what);
	cr_expect_eq(x->aead_seal, y->aead_seal, "%s: AEAD seal", what);
	cr_expect_eq(x->aead_open, y->aead_open, "%s: AEAD open %lu and %lu", what,
	    x->aead_open, y->aead_open);
}

/* 13: from a sender without the module's m, an AUTH whose identity is not
 * the record's and one whose identity is run the same primitive
 * operations (C1, then C2 with every key the record has) before the server
 * role says which: the work does not tell whether a guessed identity was
 * right. With a pending key on the record, both try it. */
Test(claims, wrong_identity_and_wrong_key_do_the_same_work)
{
	struct proto_module_rec wrong_id, wrong_key = w.rec;
	struct proto_ops id_work, key_work;
	uint8_t priv[PROTO_SCALAR_LEN];

	/* The sender has the pseudonym of a module whose m it lacks, and
	 * guesses the identity: right (the key then fails) or wrong. */
	cr_assert_eq(proto_p256_keygen(ctx, priv, wrong_key.key), M2M_OK);
	wrong_id = wrong_key;
	wrong_id.identity[0] ^= 1;
	for (int pending = 0; pending < 2; pending++) {
		if (pending) {
			wrong_id.has_pending = wrong_key.has_pending = 1;
			cr_assert_eq(proto_p256_keygen(ctx, priv, wrong_id.pending_key), M2M_OK);
			memcpy(wrong_key.pending_key, wrong_id.pending_key, PROTO_POINT_LEN);
		}
		cr_assert_eq(dh1_against(&wrong_id, &id_work), M2M_E_PROTO_IDENTITY);
		cr_assert_eq(dh1_against(&wrong_key, &key_work), M2M_E_PROTO_MODULE_KEY);
		same_work(&id_work, &key_work, pending ? "with a pending key" : "no pending key");
		cr_expect_eq(key_work.ecdh, 2u + (unsigned)pending, "DH3, DH2 (and DH2')");
	}
	proto_wipe(priv, sizeof(priv));
}

/* A HELLO and the CHALLENGE m2md sends for it. */
static void
hello_and_challenge(struct proto_ctx *mctx, struct proto_mod_hs *mhs, struct proto_srv_hs *shs,
    uint8_t *ch, size_t *cl)
{
	uint8_t hello[PROTO_DATAGRAM_MAX];
	size_t hl;

	cr_assert_eq(proto_mod_hello(mctx, mhs, &w.creds, hello, sizeof(hello), &hl), M2M_OK);
	cr_assert_eq(proto_srv_hello(ctx, &w.key, 1, 0, hello, hl, shs, ch, PROTO_DATAGRAM_MAX,
	    cl), M2M_OK);
}

/* 10.1: a copy of the handshake state, which could seal other first data
 * under the same K2 and IV2, is refused, and so is state restored into a
 * restarted module (a new context), even at the same address. The state
 * itself goes on. */
Test(claims, handshake_state_cannot_be_copied_or_restored)
{
	static struct proto_mod_hs mhs, copy, saved;
	struct proto_srv_hs shs;
	struct proto_ctx *rebooted;
	uint8_t ch[PROTO_DATAGRAM_MAX], auth[PROTO_DATAGRAM_MAX];
	size_t cl, al;

	hello_and_challenge(ctx, &mhs, &shs, ch, &cl);
	copy = mhs;
	cr_assert_eq(proto_mod_challenge(ctx, &copy, &w.creds, ch, cl, (const uint8_t *)"b", 1,
	    auth, sizeof(auth), &al), M2M_E_PROTO_STALE, "a copy seals nothing");
	saved = mhs;
	/* The power cut: a new context; the saved bytes put back in place. */
	cr_assert_eq(proto_ctx_new(&rebooted, NULL), M2M_OK);
	mhs = saved;
	cr_assert_eq(proto_mod_challenge(rebooted, &mhs, &w.creds, ch, cl, (const uint8_t *)"b", 1,
	    auth, sizeof(auth), &al), M2M_E_PROTO_STALE, "restored after a restart: refused");
	cr_assert_eq(proto_mod_retry(rebooted, &mhs, &w.creds, ch, cl, auth, sizeof(auth), &al),
	    M2M_E_PROTO_STALE);
	proto_ctx_free(rebooted);
	cr_assert_eq(proto_mod_challenge(ctx, &mhs, &w.creds, ch, cl, (const uint8_t *)"a", 1,
	    auth, sizeof(auth), &al), M2M_OK, "the state where it was made works");
	proto_mod_hs_wipe(&mhs);
	proto_wipe(&copy, sizeof(copy));
	proto_wipe(&saved, sizeof(saved));
}

/* 10.1: a prepared e_m starts one handshake: it is wiped when taken, and a
 * copy of it made before is refused. */
Test(claims, prepared_e_m_is_single_use)
{
	static struct proto_mod_prep p, copy;
	struct proto_mod_hs mhs;
	uint8_t hello[PROTO_DATAGRAM_MAX];
	size_t hl;
	static const uint8_t zero[sizeof(p.e_m_priv)];

	cr_assert_eq(proto_mod_prepare(ctx, w.creds.server_pub, &p), M2M_OK);
	copy = p;
	cr_assert_eq(proto_mod_hello_prepared(&mhs, &w.creds, &copy, hello, sizeof(hello), &hl),
	    M2M_E_PROTO_STALE, "a copy is refused");
	cr_assert_eq(proto_mod_hello_prepared(&mhs, &w.creds, &p, hello, sizeof(hello), &hl), M2M_OK);
	cr_assert_arr_eq(p.e_m_priv, zero, sizeof(zero), "wiped once taken");
	cr_assert_neq(proto_mod_hello_prepared(&mhs, &w.creds, &p, hello, sizeof(hello), &hl), M2M_OK,
	    "and refused again");
	proto_mod_hs_wipe(&mhs);
	proto_wipe(&copy, sizeof(copy));
}

/* doc/security.md (forward secrecy): once the HSM step has run, the
 * request holds no e_s, and once the handshake is done neither does its
 * entry; the module's side is checked by forgery::forged_challenge_first_then_real_completes.
 * Without e_s and e_m, DH3 cannot be recomputed: a later s (or use of the
 * HSM) does not open a recorded handshake of the server's. */
Test(claims, server_ephemeral_is_wiped_after_use)
{
	struct proto_mod_hs mhs;
	struct proto_srv_hs shs;
	static struct proto_srv_auth a;
	static const uint8_t zero[PROTO_SCALAR_LEN];
	uint8_t ch[PROTO_DATAGRAM_MAX], auth[PROTO_DATAGRAM_MAX];
	size_t cl, al;

	hello_and_challenge(ctx, &mhs, &shs, ch, &cl);
	cr_assert_eq(proto_mod_challenge(ctx, &mhs, &w.creds, ch, cl, NULL, 0, auth, sizeof(auth),
	    &al), M2M_OK);
	to_commit(&a, &shs, auth, al);
	cr_assert_arr_eq(a.hs.e_s_priv, zero, sizeof(zero), "the request's e_s is wiped");
	cr_assert_eq(proto_srv_hs_settle(&shs, &a, M2M_OK), 0);
	cr_assert_arr_eq(shs.e_s_priv, zero, sizeof(zero), "the entry's too");
	proto_srv_auth_wipe(&a);
	proto_mod_hs_wipe(&mhs);
}

/* doc/security.md, doc/protocol.md 10.1: E_s is not authenticated. A
 * forger answers a HELLO with a CHALLENGE of its own (made without s: any
 * server role can) and keeps e_s; the AUTH the module sends it opens
 * later for whoever gets s, or only the use of the HSM for one ECDH with
 * E_m: C1 opens (the identity check runs) and C2 gives the first data.
 * The identity and the first data are forward secret against passive
 * attackers only; this test fails if that changes, and the documents
 * must change with it. */
Test(claims, forged_challenge_auth_opens_once_the_server_key_is_used)
{
	struct proto_mod_hs mhs;
	struct proto_srv_hs forger;
	static struct proto_srv_auth a;
	struct proto_srv_key pub_only = w.key;
	uint8_t hello[PROTO_DATAGRAM_MAX], ch[PROTO_DATAGRAM_MAX], auth[PROTO_DATAGRAM_MAX];
	uint8_t dh1[PROTO_DH_LEN];
	size_t hl, cl, al;

	cr_assert_eq(proto_mod_hello(ctx, &mhs, &w.creds, hello, sizeof(hello), &hl), M2M_OK);
	/* The forger's CHALLENGE: from the public key alone. */
	cr_assert_eq(proto_srv_hello(ctx, &pub_only, 1, 0x7777, hello, hl, &forger, ch, sizeof(ch),
	    &cl), M2M_OK);
	cr_assert_eq(proto_mod_challenge(ctx, &mhs, &w.creds, ch, cl, (const uint8_t *)"secret", 6,
	    auth, sizeof(auth), &al), M2M_OK);
	/* Later: one ECDH with s on the recorded E_m, and the public M. */
	cr_assert_eq(proto_srv_auth_start(ctx, &a, &forger, auth, al), M2M_OK);
	cr_assert_eq(proto_srv_auth_module(&a, &w.rec), M2M_OK);
	cr_assert_eq(proto_p256_ecdh(ctx, w.server_priv, PROTO_SCALAR_LEN, a.hs.e_m,
	    PROTO_POINT_FULL_LEN, dh1), M2M_OK);
	cr_assert_eq(proto_srv_auth_dh1(ctx, &a, dh1), M2M_OK, "C1 and C2 open");
	cr_assert_eq(a.data_len, 6);
	cr_assert_arr_eq(a.data, "secret", 6, "the first data is read");
	proto_srv_auth_wipe(&a);
	proto_mod_hs_wipe(&mhs);
}
