/* SPDX-License-Identifier: Apache-2.0 */
/* The half-open entry against a wire observer, in memory: a token asks for
 * DH1 (the HSM operation) at most once in its life and keeps PRK1; AUTHs
 * made without e_m then fail at C1 and cost the token nothing, so garbage
 * cannot use up the real module's attempts; only AUTHs whose C1 opens use
 * attempts; refusals before C1 (rate limit, HSM, database) use none. The
 * server's steps are driven as m2md drives them, software standing in for
 * the HSM and counting its operations. */
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

TestSuite(keyed, .init = setup, .fini = teardown);

/* One HELLO and CHALLENGE: the module's state, the server's entry and the
 * module's AUTH. */
struct hs {
	struct proto_mod_hs mhs;
	struct proto_srv_hs shs;
	uint8_t auth[PROTO_DATAGRAM_MAX];
	size_t al;
	unsigned dh1s;			/* HSM operations asked for this entry */
};

static void
open_hs(struct hs *h)
{
	uint8_t hello[PROTO_DATAGRAM_MAX], ch[PROTO_DATAGRAM_MAX];
	size_t hl, cl;

	memset(h, 0, sizeof(*h));
	cr_assert_eq(proto_mod_hello(ctx, &h->mhs, &w.creds, hello, sizeof(hello), &hl), M2M_OK);
	cr_assert_eq(proto_srv_hello(ctx, &w.key, 1, 0, hello, hl, &h->shs, ch, sizeof(ch), &cl),
	    M2M_OK);
	cr_assert_eq(proto_mod_challenge(ctx, &h->mhs, &w.creds, ch, cl, (const uint8_t *)"x", 1,
	    h->auth, sizeof(h->auth), &h->al), M2M_OK);
}

/* What an observer of the CHALLENGE can send: the token, random C1, C2. */
static size_t
garbage(const struct hs *h, uint8_t *out)
{
	size_t l1 = PROTO_TAG_LEN + 1 + 16, len = PROTO_HDR_LEN + PROTO_TOKEN_LEN + 1 + l1 + 24;

	cr_assert_eq(proto_random(ctx, out, len), M2M_OK);
	out[0] = PROTO_VERSION;
	out[1] = PROTO_AUTH;
	memcpy(out + PROTO_HDR_LEN, h->shs.token, PROTO_TOKEN_LEN);
	out[PROTO_HDR_LEN + PROTO_TOKEN_LEN] = (uint8_t)l1;
	return len;
}

/* start -> lookup (rec) -> HSM or not -> the rest; the outcome settled on
 * the entry. *dropped says whether the server must drop it. */
static enum m2m_err
serve(struct hs *h, struct proto_srv_auth *a, const uint8_t *pkt, size_t len, int *dropped)
{
	uint8_t dh1[PROTO_DH_LEN];
	enum m2m_err err;

	*dropped = 0;
	if ((err = proto_srv_auth_start(ctx, a, &h->shs, pkt, len)) != M2M_OK)
		return err;
	err = proto_srv_auth_module(a, &w.rec);
	if (err == M2M_OK && a->req == PROTO_REQ_VERIFY) {
		err = proto_srv_auth_verify(ctx, a);
	} else if (err == M2M_OK) {
		cr_assert_eq(a->req, PROTO_REQ_ECDH);
		h->dh1s++;
		cr_assert_eq(proto_p256_ecdh(ctx, w.server_priv, PROTO_SCALAR_LEN, a->hs.e_m,
		    PROTO_POINT_FULL_LEN, dh1), M2M_OK);
		err = proto_srv_auth_dh1(ctx, a, dh1);
	}
	*dropped = proto_srv_hs_settle(&h->shs, a, err);
	return err;
}

/* The module's AUTH through to a WELCOME it accepts. */
static void
complete(struct hs *h, struct proto_srv_auth *a)
{
	static const uint8_t sid[PROTO_SESSION_ID_LEN] = { 1 };
	struct proto_session ss, ms;
	struct proto_welcome_pt wpt;
	uint8_t out[PROTO_DATAGRAM_MAX], pt[PROTO_DATAGRAM_MAX];
	size_t n;
	int dropped;

	cr_assert_eq(proto_srv_auth_start(ctx, a, &h->shs, h->auth, h->al), M2M_OK);
	cr_assert_eq(proto_srv_auth_module(a, &w.rec), M2M_OK);
	cr_assert_eq(a->req, PROTO_REQ_VERIFY, "keyed: no HSM operation");
	cr_assert_eq(proto_srv_auth_verify(ctx, a), M2M_OK);
	cr_assert_eq(proto_srv_welcome(ctx, a, sid, a->next_pseudonym, PROTO_PSEUDONYM_LEN, NULL,
	    0, &ss, out, sizeof(out), &n), M2M_OK);
	dropped = proto_srv_hs_settle(&h->shs, a, M2M_OK);
	cr_assert_eq(dropped, 0);
	cr_assert_eq(h->shs.state, PROTO_SRV_HS_DONE);
	cr_assert_eq(proto_mod_welcome(ctx, &h->mhs, out, n, &ms, pt, &wpt), M2M_OK);
	cr_assert_arr_eq(ms.tx_key, ss.rx_key, PROTO_KEY_LEN);
}

/* The observer's AUTH gets there first and pays for DH1; the entry keeps
 * PRK1 and stays open with all its attempts; the module completes. */
Test(keyed, garbage_first_keys_the_entry_and_the_module_completes)
{
	static struct hs h;
	static struct proto_srv_auth a;
	uint8_t g[PROTO_DATAGRAM_MAX], x_before[1 + PROTO_DH_LEN];
	size_t gl;
	int dropped;

	open_hs(&h);
	memcpy(x_before, h.shs.e_m, sizeof(x_before));
	gl = garbage(&h, g);
	cr_assert_eq(serve(&h, &a, g, gl, &dropped), M2M_E_PROTO_DECRYPT);
	cr_assert_eq(dropped, 0);
	cr_assert_eq(h.dh1s, 1);
	cr_assert(h.shs.keyed, "PRK1 kept although C1 failed");
	cr_assert_eq(h.shs.state, PROTO_SRV_HS_OPEN);
	cr_assert_eq(h.shs.attempts_left, PROTO_AUTH_ATTEMPTS, "garbage uses no attempt");
	/* E_m's X is kept in place: a resent HELLO still finds the entry. */
	cr_assert_arr_eq(h.shs.e_m_x, x_before, sizeof(x_before));
	proto_srv_auth_wipe(&a);
	complete(&h, &a);
	cr_assert_eq(h.dh1s, 1, "one HSM operation for the token");
}

/* On a keyed entry garbage is refused at C1 and leaves the entry byte for
 * byte as it was: a thousand of them, then the module completes. */
Test(keyed, garbage_on_a_keyed_entry_costs_it_nothing)
{
	static struct hs h;
	static struct proto_srv_auth a;
	struct proto_srv_hs before;
	uint8_t g[PROTO_DATAGRAM_MAX];
	size_t gl;
	int dropped;

	open_hs(&h);
	gl = garbage(&h, g);
	cr_assert_eq(serve(&h, &a, g, gl, &dropped), M2M_E_PROTO_DECRYPT);
	before = h.shs;
	for (unsigned i = 1; i <= 1000; i++) {
		gl = garbage(&h, g);
		cr_assert_eq(serve(&h, &a, g, gl, &dropped), M2M_E_PROTO_DECRYPT);
		cr_assert_eq(dropped, 0);
	}
	/* The module's own AUTH with one bit of C1 changed is garbage too. */
	h.auth[PROTO_HDR_LEN + PROTO_TOKEN_LEN + 1] ^= 1;
	cr_assert_eq(serve(&h, &a, h.auth, h.al, &dropped), M2M_E_PROTO_DECRYPT);
	h.auth[PROTO_HDR_LEN + PROTO_TOKEN_LEN + 1] ^= 1;
	cr_assert_eq(memcmp(&before, &h.shs, sizeof(before)), 0, "entry unchanged");
	cr_assert_eq(h.dh1s, 1);
	complete(&h, &a);
	cr_assert_eq(h.dh1s, 1);
}

/* Attempts are for AUTHs whose C1 opens (made with e_m): here C2 fails.
 * The first asks for DH1, the others reuse PRK1; the third ends the entry. */
Test(keyed, attempts_are_used_only_when_c1_opens)
{
	static struct hs h;
	static struct proto_srv_auth a;
	int dropped;

	open_hs(&h);
	h.auth[h.al - 1] ^= 1;	/* a forged C2 tag */
	for (int i = 0; i < PROTO_AUTH_ATTEMPTS; i++) {
		cr_assert_eq(serve(&h, &a, h.auth, h.al, &dropped), M2M_E_PROTO_MODULE_KEY);
		cr_assert(a.c1_opened);
		cr_assert_eq(dropped, i == PROTO_AUTH_ATTEMPTS - 1, "try %d", i);
		cr_assert_eq(h.shs.attempts_left, PROTO_AUTH_ATTEMPTS - 1 - i);
	}
	cr_assert_eq(h.dh1s, 1, "at most one HSM operation per token");
	cr_assert_eq(proto_srv_auth_start(ctx, &a, &h.shs, h.auth, h.al), M2M_E_PROTO_ATTEMPTS);
}

/* C1 opens to another identity than the record's: an attempt used. */
Test(keyed, wrong_identity_uses_an_attempt)
{
	static struct hs h;
	static struct proto_srv_auth a;
	static const char other[] = "meter-0000000002";
	int dropped;

	open_hs(&h);
	memcpy(w.rec.identity, other, sizeof(other) - 1);
	cr_assert_eq(serve(&h, &a, h.auth, h.al, &dropped), M2M_E_PROTO_IDENTITY);
	cr_assert_eq(h.shs.attempts_left, PROTO_AUTH_ATTEMPTS - 1);
	cr_assert(h.shs.keyed);
}

/* Refused before C1 is known (a rate limit, the HSM, the database): no
 * attempt, no key, the entry open; the module then completes. */
Test(keyed, refusals_before_c1_use_no_attempt)
{
	static const enum m2m_err why[] = { M2M_E_SRV_RATE_LIMITED, M2M_E_IO, M2M_E_CRYPTO };
	static struct hs h;
	static struct proto_srv_auth a;
	int dropped;

	open_hs(&h);
	for (unsigned k = 0; k < 30; k++) {
		cr_assert_eq(proto_srv_auth_start(ctx, &a, &h.shs, h.auth, h.al), M2M_OK);
		cr_assert_eq(proto_srv_hs_settle(&h.shs, &a, why[k % 3]), 0);
		cr_assert_eq(h.shs.state, PROTO_SRV_HS_OPEN);
		cr_assert_eq(h.shs.attempts_left, PROTO_AUTH_ATTEMPTS);
		cr_assert_not(h.shs.keyed);
	}
	cr_assert_eq(serve(&h, &a, h.auth, h.al, &dropped), M2M_OK);
	cr_assert_eq(a.req, PROTO_REQ_COMMIT);
	cr_assert_eq(h.dh1s, 1);
	cr_assert_eq(h.shs.state, PROTO_SRV_HS_DONE);
}

/* The record refuses the pseudonym itself (the same answer whoever sent
 * the AUTH): an attempt used, so a token costs at most 3 such lookups. */
Test(keyed, record_refusals_use_an_attempt)
{
	static struct hs h;
	static struct proto_srv_auth a;

	open_hs(&h);
	for (int i = 0; i < PROTO_AUTH_ATTEMPTS; i++) {
		cr_assert_eq(proto_srv_auth_start(ctx, &a, &h.shs, h.auth, h.al), M2M_OK);
		w.rec.active = i % 2;
		cr_assert_eq(proto_srv_auth_module(&a, i % 2 ? NULL : &w.rec),
		    i % 2 ? M2M_E_PROTO_UNKNOWN_MODULE : M2M_E_PROTO_MODULE_STATUS);
		cr_assert_eq(a.req, PROTO_REQ_LOOKUP, "no ECDH requested");
		cr_assert_eq(proto_srv_hs_settle(&h.shs, &a, i % 2 ? M2M_E_PROTO_UNKNOWN_MODULE :
		    M2M_E_PROTO_MODULE_STATUS), i == PROTO_AUTH_ATTEMPTS - 1);
	}
	cr_assert_not(h.shs.keyed);
}

/* While the first AUTH is in flight (DH1 asked) a second one, the module's
 * included, is refused and changes nothing: its resend passes after. */
Test(keyed, one_auth_at_a_time_and_the_resend_passes)
{
	static struct hs h;
	static struct proto_srv_auth a, b;
	uint8_t g[PROTO_DATAGRAM_MAX], dh1[PROTO_DH_LEN];
	size_t gl;

	open_hs(&h);
	gl = garbage(&h, g);
	cr_assert_eq(proto_srv_auth_start(ctx, &a, &h.shs, g, gl), M2M_OK);
	cr_assert_eq(proto_srv_auth_start(ctx, &b, &h.shs, h.auth, h.al), M2M_E_PROTO_STATE);
	cr_assert_eq(proto_srv_auth_module(&a, &w.rec), M2M_OK);
	cr_assert_eq(proto_p256_ecdh(ctx, w.server_priv, PROTO_SCALAR_LEN, a.hs.e_m,
	    PROTO_POINT_FULL_LEN, dh1), M2M_OK);
	h.dh1s++;
	cr_assert_eq(proto_srv_auth_dh1(ctx, &a, dh1), M2M_E_PROTO_DECRYPT);
	cr_assert_eq(proto_srv_hs_settle(&h.shs, &a, M2M_E_PROTO_DECRYPT), 0);
	complete(&h, &b);
	cr_assert_eq(h.dh1s, 1);
}

/* A keyed entry still answers its HELLO again with the same CHALLENGE. */
Test(keyed, keyed_entry_answers_a_resent_hello)
{
	static struct hs h;
	static struct proto_srv_auth a;
	uint8_t hello[PROTO_DATAGRAM_MAX], ch[PROTO_DATAGRAM_MAX], again[PROTO_DATAGRAM_MAX];
	uint8_t g[PROTO_DATAGRAM_MAX];
	size_t hl, cl, al, gl;
	int dropped;

	memset(&h, 0, sizeof(h));
	cr_assert_eq(proto_mod_hello(ctx, &h.mhs, &w.creds, hello, sizeof(hello), &hl), M2M_OK);
	cr_assert_eq(proto_srv_hello(ctx, &w.key, 1, 0, hello, hl, &h.shs, ch, sizeof(ch), &cl),
	    M2M_OK);
	gl = garbage(&h, g);
	cr_assert_eq(serve(&h, &a, g, gl, &dropped), M2M_E_PROTO_DECRYPT);
	cr_assert(h.shs.keyed);
	cr_assert_eq(proto_srv_hello_again(ctx, &h.shs, hello, hl, again, sizeof(again), &al),
	    M2M_OK);
	cr_assert_eq(al, cl);
	cr_assert_arr_eq(again, ch, cl);
}

/* Done: the token's secrets are gone and a replay is refused. */
Test(keyed, completed_entry_keeps_no_secret)
{
	static const uint8_t zero[PROTO_HASH_LEN];
	static struct hs h;
	static struct proto_srv_auth a;
	uint8_t g[PROTO_DATAGRAM_MAX];
	size_t gl;
	int dropped;

	open_hs(&h);
	gl = garbage(&h, g);
	cr_assert_eq(serve(&h, &a, g, gl, &dropped), M2M_E_PROTO_DECRYPT);
	complete(&h, &a);
	cr_assert_arr_eq(h.shs.prk1, zero, PROTO_HASH_LEN);
	cr_assert_arr_eq(h.shs.e_s_priv, zero, PROTO_SCALAR_LEN);
	cr_assert_eq(proto_srv_auth_start(ctx, &a, &h.shs, h.auth, h.al), M2M_E_PROTO_STATE);
}
