/* SPDX-License-Identifier: Apache-2.0 */
/* Forged CHALLENGEs and WELCOMEs against the module role (doc/protocol.md
 * 10.1): anyone who sees a HELLO can answer it with a CHALLENGE that has a
 * valid E_s, and send WELCOMEs; none of them may end the handshake, and a
 * forger learns nothing from the AUTH it gets. */
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

TestSuite(forgery, .init = setup, .fini = teardown);

static const uint8_t sid[PROTO_SESSION_ID_LEN] = { 9, 8, 7, 6, 5, 4, 3, 2 };
static const uint8_t first[] = "t=21.5";

struct dg {
	uint8_t b[PROTO_DATAGRAM_MAX];
	size_t n;
};

/* A server that does not hold s: its own key under the real key id, so its
 * CHALLENGE is well formed, with a valid E_s and a random token. */
struct forger {
	uint8_t priv[PROTO_SCALAR_LEN];
	struct proto_srv_key key;
	struct proto_srv_hs hs;
};

static void
forge_challenge(struct forger *f, const struct dg *hello, struct dg *ch)
{
	cr_assert_eq(proto_p256_keygen(ctx, f->priv, f->key.pub), M2M_OK);
	memcpy(f->key.key_id, w.key.key_id, PROTO_KEY_ID_LEN);
	cr_assert_eq(proto_srv_hello(ctx, &f->key, 1, 0, hello->b, hello->n, &f->hs, ch->b,
	    sizeof(ch->b), &ch->n), M2M_OK);
}

/* A WELCOME of the right shape whose tag cannot verify. */
static void
forge_welcome(struct dg *wl, size_t len)
{
	cr_assert_eq(proto_random(ctx, wl->b, len), M2M_OK);
	wl->b[0] = PROTO_VERSION;
	wl->b[1] = PROTO_WELCOME;
	wl->n = len;
}

/* The real server's side: AUTH in, WELCOME out, software DH1. */
static enum m2m_err
serve_auth(struct proto_srv_hs *shs, const struct dg *auth, struct proto_srv_auth *a,
    struct proto_session *ss, struct dg *wl)
{
	uint8_t dh1[PROTO_DH_LEN];
	enum m2m_err err;

	if ((err = proto_srv_auth_start(ctx, a, shs, auth->b, auth->n)) != M2M_OK ||
	    (err = proto_srv_auth_module(a, &w.rec)) != M2M_OK)
		return err;
	cr_assert_eq(proto_p256_ecdh(ctx, w.server_priv, PROTO_SCALAR_LEN, a->hs.e_m,
	    PROTO_POINT_FULL_LEN, dh1), M2M_OK);
	if ((err = proto_srv_auth_dh1(ctx, a, dh1)) != M2M_OK)
		return err;
	return proto_srv_welcome(ctx, a, sid, a->next_pseudonym, PROTO_PSEUDONYM_LEN, NULL, 0, ss,
	    wl->b, sizeof(wl->b), &wl->n);
}

static enum m2m_err
answer(struct proto_mod_hs *mhs, const struct dg *ch, struct dg *auth)
{
	return proto_mod_challenge(ctx, mhs, &w.creds, ch->b, ch->n, first, sizeof(first) - 1,
	    auth->b, sizeof(auth->b), &auth->n);
}

/* One DATA each way on the sessions the handshake set up. */
static void
expect_session_works(struct proto_session *ms, struct proto_session *ss)
{
	uint8_t rec[PROTO_DATAGRAM_MAX], pt[PROTO_DATAGRAM_MAX];
	struct proto_record r;
	size_t n, ptlen;
	uint64_t seq;

	cr_assert_eq(proto_session_seal(ctx, ms, PROTO_DATA, first, 6, rec, sizeof(rec), &n,
	    &seq), M2M_OK);
	cr_assert_eq(proto_record_decode(rec, n, &r), M2M_OK);
	cr_assert_eq(proto_session_open(ctx, ss, &r, rec, pt, sizeof(pt), &ptlen), M2M_OK);
	cr_assert(ptlen == 6 && memcmp(pt, first, 6) == 0);
	cr_assert_eq(proto_session_seal(ctx, ss, PROTO_DATA_ACK, first, 6, rec, sizeof(rec), &n,
	    &seq), M2M_OK);
	cr_assert_eq(proto_record_decode(rec, n, &r), M2M_OK);
	cr_assert_eq(proto_session_open(ctx, ms, &r, rec, pt, sizeof(pt), &ptlen), M2M_OK);
}

static void
expect_wiped(const struct proto_mod_hs *mhs)
{
	static const struct proto_mod_hs zero;
	struct proto_mod_hs h = *mhs;

	cr_assert_eq(h.state, PROTO_MOD_ESTABLISHED);
	h.state = zero.state;
	cr_assert(memcmp(&h, &zero, sizeof(h)) == 0, "e_m, DH1 and the candidates are wiped");
}

/* What the forger got: an AUTH it cannot open. It knows e_s, the HELLO and
 * even M (say from the record), but C1 needs DH1 = e_m·S = s·E_m. */
static void
expect_forger_cannot_open(struct forger *fg, const struct dg *fauth)
{
	struct proto_srv_auth a;
	uint8_t dh1[PROTO_DH_LEN];

	cr_assert_null(memmem(fauth->b, fauth->n, w.creds.identity, w.creds.identity_len));
	cr_assert_eq(proto_srv_auth_start(ctx, &a, &fg->hs, fauth->b, fauth->n), M2M_OK);
	cr_assert_eq(proto_srv_auth_module(&a, &w.rec), M2M_OK);
	cr_assert_eq(proto_p256_ecdh(ctx, fg->priv, PROTO_SCALAR_LEN, a.hs.e_m,
	    PROTO_POINT_FULL_LEN, dh1), M2M_OK);
	cr_assert_eq(proto_srv_auth_dh1(ctx, &a, dh1), M2M_E_PROTO_DECRYPT);
}

Test(forgery, forged_challenge_first_then_real_completes)
{
	struct proto_mod_hs mhs;
	struct proto_srv_hs shs;
	struct proto_srv_auth a;
	struct proto_session ms, ss;
	struct proto_welcome_pt wpt;
	struct forger fg;
	struct dg hello, ch, fch, auth, fauth, wl, fwl;
	uint8_t pt[PROTO_DATAGRAM_MAX];

	cr_assert_eq(proto_mod_hello(ctx, &mhs, &w.creds, hello.b, sizeof(hello.b), &hello.n),
	    M2M_OK);
	cr_assert_eq(proto_srv_hello(ctx, &w.key, 1, 0, hello.b, hello.n, &shs, ch.b,
	    sizeof(ch.b), &ch.n), M2M_OK);
	forge_challenge(&fg, &hello, &fch);
	/* The forgery wins the race; the module answers it and keeps waiting. */
	cr_assert_eq(answer(&mhs, &fch, &fauth), M2M_OK);
	cr_assert_eq(mhs.state, PROTO_MOD_AUTH_SENT);
	expect_forger_cannot_open(&fg, &fauth);
	forge_welcome(&fwl, 70);
	cr_assert_eq(proto_mod_welcome(ctx, &mhs, fwl.b, fwl.n, &ms, pt, &wpt),
	    M2M_E_PROTO_DECRYPT);
	cr_assert_eq(mhs.state, PROTO_MOD_AUTH_SENT, "a bad WELCOME changes nothing");
	cr_assert_eq(answer(&mhs, &ch, &auth), M2M_OK, "the server's CHALLENGE is answered");
	cr_assert_eq(mhs.n_cand, 2);
	cr_assert(auth.n == fauth.n && memcmp(auth.b, fauth.b, auth.n) != 0);
	cr_assert_eq(serve_auth(&shs, &auth, &a, &ss, &wl), M2M_OK);
	/* The real WELCOME with a bit flipped is one more forgery. */
	memcpy(fwl.b, wl.b, wl.n), fwl.n = wl.n;
	fwl.b[wl.n - 1] ^= 1;
	cr_assert_eq(proto_mod_welcome(ctx, &mhs, fwl.b, fwl.n, &ms, pt, &wpt),
	    M2M_E_PROTO_DECRYPT);
	cr_assert_eq(proto_mod_welcome(ctx, &mhs, wl.b, wl.n, &ms, pt, &wpt), M2M_OK);
	expect_wiped(&mhs);
	cr_assert(memcmp(ms.id, sid, sizeof(sid)) == 0);
	expect_session_works(&ms, &ss);
}

Test(forgery, same_challenge_twice_is_one_candidate)
{
	struct proto_mod_hs mhs;
	struct proto_srv_hs shs;
	struct forger fg;
	struct dg hello, ch, fch, auth, again;

	cr_assert_eq(proto_mod_hello(ctx, &mhs, &w.creds, hello.b, sizeof(hello.b), &hello.n),
	    M2M_OK);
	cr_assert_eq(proto_srv_hello(ctx, &w.key, 1, 0, hello.b, hello.n, &shs, ch.b,
	    sizeof(ch.b), &ch.n), M2M_OK);
	cr_assert_eq(answer(&mhs, &ch, &auth), M2M_OK);
	cr_assert_eq(mhs.last, 0);
	again.n = 0;
	cr_assert_eq(answer(&mhs, &ch, &again), M2M_E_PROTO_ANSWERED,
	    "the caller re-sends AUTH 0 instead");
	cr_assert_eq(again.n, 0);
	cr_assert_eq(mhs.n_cand, 1);
	cr_assert_eq(mhs.last, 0);
	/* The server's own resend of the CHALLENGE is the same bytes. */
	cr_assert_eq(proto_srv_hello_again(ctx, &shs, hello.b, hello.n, ch.b, sizeof(ch.b),
	    &ch.n), M2M_OK);
	cr_assert_eq(answer(&mhs, &ch, &again), M2M_E_PROTO_ANSWERED);
	cr_assert_eq(mhs.n_cand, 1);
	/* Another CHALLENGE is still answered; the first still names slot 0. */
	forge_challenge(&fg, &hello, &fch);
	cr_assert_eq(answer(&mhs, &fch, &again), M2M_OK);
	cr_assert_eq(mhs.last, 1);
	cr_assert_eq(answer(&mhs, &ch, &again), M2M_E_PROTO_ANSWERED);
	cr_assert_eq(mhs.last, 0);
	cr_assert_eq(answer(&mhs, &fch, &again), M2M_E_PROTO_ANSWERED);
	cr_assert_eq(mhs.last, 1);
	cr_assert_eq(mhs.n_cand, 2);
}

Test(forgery, one_first_data_per_handshake)
{
	struct proto_mod_hs mhs;
	struct forger f1, f2;
	struct dg hello, c1, c2, auth;

	cr_assert_eq(proto_mod_hello(ctx, &mhs, &w.creds, hello.b, sizeof(hello.b), &hello.n),
	    M2M_OK);
	forge_challenge(&f1, &hello, &c1);
	forge_challenge(&f2, &hello, &c2);
	cr_assert_eq(answer(&mhs, &c1, &auth), M2M_OK);
	cr_assert_eq(proto_mod_challenge(ctx, &mhs, &w.creds, c2.b, c2.n, first, 3, auth.b,
	    sizeof(auth.b), &auth.n), M2M_E_INVALID_ARG);
	cr_assert_eq(mhs.n_cand, 1);
}

/* Runs a handshake where `before` forged CHALLENGEs arrive before the
 * server's and `after` after it; returns what the real WELCOME gives. */
static enum m2m_err
race(int before, int after)
{
	struct proto_mod_hs mhs;
	struct proto_srv_hs shs;
	struct proto_srv_auth a;
	struct proto_session ms, ss;
	struct proto_welcome_pt wpt;
	struct forger fg;
	struct dg hello, ch, fch, auth, fauth, wl;
	uint8_t pt[PROTO_DATAGRAM_MAX];
	enum m2m_err err;

	cr_assert_eq(proto_mod_hello(ctx, &mhs, &w.creds, hello.b, sizeof(hello.b), &hello.n),
	    M2M_OK);
	cr_assert_eq(proto_srv_hello(ctx, &w.key, 1, 0, hello.b, hello.n, &shs, ch.b,
	    sizeof(ch.b), &ch.n), M2M_OK);
	for (int i = 0; i < before + after + 1; i++) {
		if (i == before) {
			cr_assert_eq(answer(&mhs, &ch, &auth), M2M_OK);
			continue;
		}
		forge_challenge(&fg, &hello, &fch);
		cr_assert_eq(answer(&mhs, &fch, &fauth), M2M_OK, "forgery %d answered", i);
	}
	cr_assert_leq(mhs.n_cand, PROTO_MOD_CANDIDATES);
	cr_assert_eq(serve_auth(&shs, &auth, &a, &ss, &wl), M2M_OK);
	if ((err = proto_mod_welcome(ctx, &mhs, wl.b, wl.n, &ms, pt, &wpt)) == M2M_OK)
		expect_session_works(&ms, &ss);
	else
		cr_assert_eq(mhs.state, PROTO_MOD_AUTH_SENT);
	proto_mod_hs_wipe(&mhs);
	return err;
}

Test(forgery, more_forgeries_than_candidates)
{
	/* Any number before; up to PROTO_MOD_CANDIDATES - 1 after. */
	cr_assert_eq(race(3 * PROTO_MOD_CANDIDATES, 0), M2M_OK);
	cr_assert_eq(race(PROTO_MOD_CANDIDATES, PROTO_MOD_CANDIDATES - 1), M2M_OK);
	/* The bound: PROTO_MOD_CANDIDATES after it replace it. */
	cr_assert_eq(race(0, PROTO_MOD_CANDIDATES), M2M_E_PROTO_DECRYPT);
}

/* A forgery answered before the server asked for a cookie: the module
 * still takes the RETRY, and the CHALLENGE for the HELLO with the cookie. */
Test(forgery, retry_after_forged_challenge)
{
	static const uint8_t secret[32] = { 42 };
	static const uint8_t addr[] = { 127, 0, 0, 1, 0x30, 0x39 };
	struct proto_mod_hs mhs;
	struct proto_srv_hs shs;
	struct proto_srv_auth a;
	struct proto_session ms, ss;
	struct proto_welcome_pt wpt;
	struct proto_hello h;
	struct forger fg;
	struct dg hello, retry, ch, fch, auth, fauth, wl;
	uint8_t cookie[PROTO_COOKIE_LEN], pt[PROTO_DATAGRAM_MAX];

	cr_assert_eq(proto_mod_hello(ctx, &mhs, &w.creds, hello.b, sizeof(hello.b), &hello.n),
	    M2M_OK);
	forge_challenge(&fg, &hello, &fch);
	cr_assert_eq(answer(&mhs, &fch, &fauth), M2M_OK);
	cr_assert_eq(proto_hello_decode(hello.b, hello.n, &h), M2M_OK);
	cr_assert_eq(proto_cookie(secret, 7, addr, sizeof(addr), h.e_m, cookie), M2M_OK);
	cr_assert_eq(proto_retry_encode(cookie, retry.b, sizeof(retry.b), &retry.n), M2M_OK);
	cr_assert_eq(proto_mod_retry(ctx, &mhs, &w.creds, retry.b, retry.n, hello.b,
	    sizeof(hello.b), &hello.n), M2M_OK);
	cr_assert_eq(proto_srv_hello(ctx, &w.key, 1, 0, hello.b, hello.n, &shs, ch.b,
	    sizeof(ch.b), &ch.n), M2M_OK);
	cr_assert_eq(answer(&mhs, &ch, &auth), M2M_OK);
	cr_assert_eq(serve_auth(&shs, &auth, &a, &ss, &wl), M2M_OK);
	cr_assert_eq(proto_mod_welcome(ctx, &mhs, wl.b, wl.n, &ms, pt, &wpt), M2M_OK);
	expect_session_works(&ms, &ss);
}
