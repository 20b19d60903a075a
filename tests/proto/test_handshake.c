/* SPDX-License-Identifier: Apache-2.0 */
/* Whole handshakes between the module and server roles in memory: the
 * happy path, every rejection DESIGN §1 promises, and tampering with every
 * byte and length of every message. */
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

TestSuite(handshake, .init = setup, .fini = teardown);

static const uint8_t sid[PROTO_SESSION_ID_LEN] = { 9, 8, 7, 6, 5, 4, 3, 2 };

/* Mutates message `which` (0 HELLO .. 3 WELCOME) of one handshake. */
struct mutation {
	int which;
	size_t truncate_to;		/* SIZE_MAX: keep the length */
	size_t flip_bit;		/* SIZE_MAX: no flip */
};

static void
mutate(const struct mutation *m, int which, uint8_t *buf, size_t *len)
{
	if (m == NULL || m->which != which)
		return;
	if (m->truncate_to != SIZE_MAX)
		*len = m->truncate_to;
	if (m->flip_bit != SIZE_MAX)
		buf[m->flip_bit / 8] ^= (uint8_t)(1u << (m->flip_bit % 8));
}

/* The handshake step by step, with the server's software DH1 and the
 * record lookup that a database would answer; from a prepared e_m when
 * prep is given. */
static enum m2m_err
run_with(const struct mutation *m, struct proto_mod_prep *prep, struct tu_flight *f)
{
	struct proto_mod_hs mhs;
	struct proto_srv_hs shs;
	uint8_t dh1[PROTO_DH_LEN], buf[PROTO_DATAGRAM_MAX];
	size_t len;
	enum m2m_err err;

	memset(f, 0, sizeof(*f));
	err = prep != NULL ? proto_mod_hello_prepared(&mhs, &w.creds, prep, buf, sizeof(buf), &len) :
	    proto_mod_hello(ctx, &mhs, &w.creds, buf, sizeof(buf), &len);
	if (err != M2M_OK)
		return err;
	memcpy(f->msg[0], buf, len), f->len[0] = len;
	mutate(m, 0, buf, &len);
	if ((err = proto_srv_hello(ctx, &w.key, 1, 0, buf, len, &shs, f->msg[1],
	    sizeof(f->msg[1]), &f->len[1])) != M2M_OK)
		return err;
	memcpy(buf, f->msg[1], f->len[1]), len = f->len[1];
	mutate(m, 1, buf, &len);
	if ((err = proto_mod_challenge(ctx, &mhs, &w.creds, buf, len, (const uint8_t *)"x", 1,
	    f->msg[2], sizeof(f->msg[2]), &f->len[2])) != M2M_OK)
		return err;
	memcpy(buf, f->msg[2], f->len[2]), len = f->len[2];
	mutate(m, 2, buf, &len);
	if ((err = proto_srv_auth_start(ctx, &f->auth, &shs, buf, len)) != M2M_OK)
		return err;
	if ((err = proto_srv_auth_module(&f->auth, &w.rec)) != M2M_OK)
		return err;
	cr_assert_eq(proto_p256_ecdh(ctx, w.server_priv, PROTO_SCALAR_LEN, f->auth.hs.e_m,
	    PROTO_POINT_FULL_LEN, dh1), M2M_OK);
	if ((err = proto_srv_auth_dh1(ctx, &f->auth, dh1)) != M2M_OK)
		return err;
	if ((err = proto_srv_welcome(ctx, &f->auth, sid, f->auth.next_pseudonym,
	    PROTO_PSEUDONYM_LEN, NULL, 0, &f->srv_s, f->msg[3],
	    sizeof(f->msg[3]), &f->len[3])) != M2M_OK)
		return err;
	memcpy(buf, f->msg[3], f->len[3]), len = f->len[3];
	mutate(m, 3, buf, &len);
	return proto_mod_welcome(ctx, &mhs, buf, len, &f->mod_s, f->welcome_pt, &f->welcome);
}

static enum m2m_err
run(const struct mutation *m, struct tu_flight *f)
{
	return run_with(m, NULL, f);
}

Test(handshake, prepared_hello_completes_and_is_taken_once)
{
	static struct tu_flight f;
	static const struct proto_mod_prep zero;
	struct proto_mod_prep p, q;
	struct proto_mod_creds other = w.creds;
	struct proto_mod_hs mhs;
	uint8_t e_m[PROTO_POINT_LEN], buf[PROTO_DATAGRAM_MAX];
	size_t len;

	cr_assert_eq(proto_mod_prepare(ctx, w.creds.server_pub, &p), M2M_OK);
	memcpy(e_m, p.e_m, sizeof(e_m));
	/* Made for another server key: refused, and left for its own server. */
	cr_assert_eq(proto_p256_keygen(ctx, q.e_m_priv, other.server_pub), M2M_OK);
	cr_assert_eq(proto_mod_hello_prepared(&mhs, &other, &p, buf, sizeof(buf), &len),
	    M2M_E_INVALID_ARG);
	cr_assert_arr_eq(p.e_m, e_m, sizeof(e_m));
	cr_assert_eq(run_with(NULL, &p, &f), M2M_OK);
	cr_assert_not_null(memmem(f.msg[0], f.len[0], e_m, sizeof(e_m)));
	cr_assert_arr_eq(f.mod_s.tx_key, f.srv_s.rx_key, PROTO_KEY_LEN);
	cr_assert_arr_eq(&p, &zero, sizeof(p), "a prepared key is wiped once taken");
	/* A server key that is not a point cannot be prepared for. */
	memset(other.server_pub + 1, 0xff, PROTO_POINT_LEN - 1);
	cr_assert_eq(proto_mod_prepare(ctx, other.server_pub, &q), M2M_E_PROTO_POINT);
	cr_assert_arr_eq(&q, &zero, sizeof(q));
}

Test(handshake, completes_and_carries_data)
{
	static struct tu_flight f;
	uint8_t rec[PROTO_DATAGRAM_MAX], pt[PROTO_DATAGRAM_MAX];
	struct proto_record r;
	size_t n, ptlen, total;

	cr_assert_eq(tu_handshake(&w, (const uint8_t *)"temp=21.5", 9, &f), M2M_OK);
	cr_assert_eq(f.auth.data_len, 9);
	cr_assert_arr_eq(f.auth.data, "temp=21.5", 9);
	cr_assert_eq(f.welcome.status, PROTO_STATUS_OK);
	cr_assert_eq(f.welcome.pseudonym_len, PROTO_PSEUDONYM_LEN);
	cr_assert_arr_eq(f.welcome.pseudonym, f.auth.next_pseudonym, PROTO_PSEUDONYM_LEN);
	cr_assert_arr_eq(f.mod_s.tx_key, f.srv_s.rx_key, PROTO_KEY_LEN);
	cr_assert_arr_neq(f.mod_s.tx_key, f.mod_s.rx_key, PROTO_KEY_LEN);
	/* The identity is never on the wire in clear. */
	cr_assert_null(memmem(f.msg[2], f.len[2], w.creds.identity, w.creds.identity_len));
	total = f.len[0] + f.len[1] + f.len[2] + f.len[3];
	cr_log_info("handshake bytes: %zu + %zu + %zu + %zu = %zu (9-byte data)",
	    f.len[0], f.len[1], f.len[2], f.len[3], total);
	/* DATA one way, DATA_ACK the other. */
	cr_assert_eq(proto_session_seal(ctx, &f.mod_s, PROTO_DATA, (const uint8_t *)"\0hi", 3,
	    rec, sizeof(rec), &n, NULL), M2M_OK);
	cr_assert_eq(proto_record_decode(rec, n, &r), M2M_OK);
	cr_assert_eq(proto_session_open(ctx, &f.srv_s, &r, rec, pt, sizeof(pt), &ptlen), M2M_OK);
	cr_assert_eq(ptlen, 3);
	cr_assert_eq(proto_session_seal(ctx, &f.srv_s, PROTO_DATA_ACK, pt, 3, rec, sizeof(rec),
	    &n, NULL), M2M_OK);
	cr_assert_eq(proto_record_decode(rec, n, &r), M2M_OK);
	cr_assert_eq(proto_session_open(ctx, &f.mod_s, &r, rec, pt, sizeof(pt), &ptlen), M2M_OK);
	/* A module may not send what only the server sends. */
	cr_assert_eq(proto_session_seal(ctx, &f.mod_s, PROTO_DATA_ACK, pt, 1, rec, sizeof(rec),
	    &n, NULL), M2M_E_PROTO_DIRECTION);
}

Test(handshake, size_without_payload_is_under_230_bytes)
{
	static struct tu_flight f;
	size_t total;

	cr_assert_eq(tu_handshake(&w, NULL, 0, &f), M2M_OK);
	total = f.len[0] + f.len[1] + f.len[2] + f.len[3];
	cr_log_info("handshake bytes without payload, 16-byte identity: %zu", total);
	cr_assert_eq(w.creds.identity_len, 16);
	cr_assert_leq(total, 230);
}

Test(handshake, every_truncation_is_rejected)
{
	static struct tu_flight ok, f;
	struct mutation m;
	size_t n;

	cr_assert_eq(run(NULL, &ok), M2M_OK);
	for (m.which = 0; m.which < 4; m.which++) {
		size_t full = m.which == 0 ? ok.len[1] : ok.len[m.which];

		if (m.which == 0)	/* HELLO is not kept: its size is fixed here */
			full = PROTO_HDR_LEN + 1 + PROTO_KEY_ID_LEN + 1 + PROTO_PSEUDONYM_LEN +
			    PROTO_POINT_LEN + 1;
		for (n = 0; n < full; n++) {
			m.truncate_to = n;
			m.flip_bit = SIZE_MAX;
			cr_assert_neq(run(&m, &f), M2M_OK, "message %d cut to %zu accepted",
			    m.which, n);
		}
	}
}

Test(handshake, every_bit_flip_is_rejected)
{
	static struct tu_flight ok, f;
	struct mutation m;
	size_t bit, full;

	cr_assert_eq(run(NULL, &ok), M2M_OK);
	for (m.which = 0; m.which < 4; m.which++) {
		full = m.which == 0 ? PROTO_HDR_LEN + 1 + PROTO_KEY_ID_LEN + 1 +
		    PROTO_PSEUDONYM_LEN + PROTO_POINT_LEN + 1 : ok.len[m.which];
		for (bit = 0; bit < 8 * full; bit++) {
			m.truncate_to = SIZE_MAX;
			m.flip_bit = bit;
			cr_assert_neq(run(&m, &f), M2M_OK, "message %d with bit %zu flipped accepted",
			    m.which, bit);
		}
	}
}

Test(handshake, replayed_auth_is_refused)
{
	struct proto_mod_hs mhs;
	struct proto_srv_hs shs;
	static struct proto_srv_auth a, b;
	uint8_t hello[PROTO_DATAGRAM_MAX], ch[PROTO_DATAGRAM_MAX], auth[PROTO_DATAGRAM_MAX];
	uint8_t dh1[PROTO_DH_LEN];
	size_t hl, cl, al;

	cr_assert_eq(proto_mod_hello(ctx, &mhs, &w.creds, hello, sizeof(hello), &hl), M2M_OK);
	cr_assert_eq(proto_srv_hello(ctx, &w.key, 1, 0, hello, hl, &shs, ch, sizeof(ch), &cl), M2M_OK);
	cr_assert_eq(proto_mod_challenge(ctx, &mhs, &w.creds, ch, cl, NULL, 0, auth, sizeof(auth),
	    &al), M2M_OK);
	cr_assert_eq(proto_srv_auth_start(ctx, &a, &shs, auth, al), M2M_OK);
	/* The same AUTH again while the first is in flight. */
	cr_assert_eq(proto_srv_auth_start(ctx, &b, &shs, auth, al), M2M_E_PROTO_STATE);
	cr_assert_eq(proto_srv_auth_module(&a, &w.rec), M2M_OK);
	cr_assert_eq(proto_p256_ecdh(ctx, w.server_priv, 32, a.hs.e_m, PROTO_POINT_FULL_LEN, dh1), M2M_OK);
	cr_assert_eq(proto_srv_auth_dh1(ctx, &a, dh1), M2M_OK);
	cr_assert_eq(proto_srv_hs_settle(&shs, &a, M2M_OK), 0);
	/* And after it succeeded: the token is used up. */
	cr_assert_eq(proto_srv_auth_start(ctx, &b, &shs, auth, al), M2M_E_PROTO_STATE);
}

/* A HELLO received again while its entry is open gets the very CHALLENGE
 * it got first; any other HELLO, or a later one, does not. */
Test(handshake, hello_again_gets_the_same_challenge)
{
	struct proto_mod_hs mhs;
	struct proto_srv_hs shs;
	uint8_t hello[PROTO_DATAGRAM_MAX], ch[PROTO_DATAGRAM_MAX], again[PROTO_DATAGRAM_MAX];
	size_t hl, cl, al;

	cr_assert_eq(proto_mod_hello(ctx, &mhs, &w.creds, hello, sizeof(hello), &hl), M2M_OK);
	cr_assert_eq(proto_srv_hello(ctx, &w.key, 1, 0, hello, hl, &shs, ch, sizeof(ch), &cl),
	    M2M_OK);
	cr_assert_eq(proto_srv_hello_again(ctx, &shs, hello, hl, again, sizeof(again), &al),
	    M2M_OK);
	cr_assert_eq(al, cl);
	cr_assert_arr_eq(again, ch, cl);
	for (size_t i = 0; i < hl; i++) {
		hello[i] ^= 0x40;
		cr_assert_eq(proto_srv_hello_again(ctx, &shs, hello, hl, again, sizeof(again),
		    &al), M2M_E_PROTO_STATE, "byte %zu changed", i);
		hello[i] ^= 0x40;
	}
	cr_assert_eq(proto_srv_hello_again(ctx, &shs, hello, hl - 1, again, sizeof(again), &al),
	    M2M_E_PROTO_STATE);
	shs.state = PROTO_SRV_HS_BUSY;
	cr_assert_eq(proto_srv_hello_again(ctx, &shs, hello, hl, again, sizeof(again), &al),
	    M2M_E_PROTO_STATE, "the AUTH is being served");
}

Test(handshake, wrong_module_key_is_refused)
{
	static struct tu_flight f;

	cr_assert_eq(proto_p256_keygen(ctx, w.creds.priv, w.creds.pub), M2M_OK);
	cr_assert_eq(tu_handshake(&w, NULL, 0, &f), M2M_E_PROTO_MODULE_KEY);
}

Test(handshake, uncompressed_module_key_on_record_is_the_one_used)
{
	static struct tu_flight f;
	uint8_t other_priv[PROTO_SCALAR_LEN], other[PROTO_POINT_LEN];

	/* The record's M uncompressed: the same handshake, no square root. */
	cr_assert_eq(proto_p256_decompress(ctx, w.rec.key, PROTO_POINT_LEN, w.rec.key_full),
	    M2M_OK);
	w.rec.has_key_full = 1;
	cr_assert_eq(tu_handshake(&w, NULL, 0, &f), M2M_OK);
	/* It is what C2 is opened with: another point there refuses the module. */
	cr_assert_eq(proto_p256_keygen(ctx, other_priv, other), M2M_OK);
	cr_assert_eq(proto_p256_decompress(ctx, other, PROTO_POINT_LEN, w.rec.key_full), M2M_OK);
	cr_assert_eq(tu_handshake(&w, NULL, 0, &f), M2M_E_PROTO_MODULE_KEY);
	/* One off the curve is no key at all: the compressed M serves. */
	cr_assert_eq(proto_p256_decompress(ctx, w.rec.key, PROTO_POINT_LEN, w.rec.key_full),
	    M2M_OK);
	w.rec.key_full[PROTO_POINT_FULL_LEN - 1] ^= 1;
	cr_assert_eq(tu_handshake(&w, NULL, 0, &f), M2M_OK);
}

Test(handshake, wrong_server_key_is_refused)
{
	static struct tu_flight f;
	uint8_t other[PROTO_SCALAR_LEN];

	/* The module pinned another key under the same key id. */
	cr_assert_eq(proto_p256_keygen(ctx, other, w.creds.server_pub), M2M_OK);
	cr_assert_eq(tu_handshake(&w, NULL, 0, &f), M2M_E_PROTO_DECRYPT);
	/* And a key id the server does not hold. */
	w.creds.key_id[0] ^= 0xff;
	cr_assert_eq(tu_handshake(&w, NULL, 0, &f), M2M_E_PROTO_KEY_ID);
}

Test(handshake, wrong_pseudonym_is_refused)
{
	static struct tu_flight f;
	static const char other[] = "meter-0000000002";

	/* The pseudonym belongs to another module: its record comes back. */
	memcpy(w.rec.identity, other, sizeof(other) - 1);
	cr_assert_eq(tu_handshake(&w, NULL, 0, &f), M2M_E_PROTO_IDENTITY);
}

Test(handshake, unknown_pseudonym_and_inactive_module_stop_before_the_hsm)
{
	struct proto_mod_hs mhs;
	struct proto_srv_hs shs;
	static struct proto_srv_auth a;
	uint8_t hello[PROTO_DATAGRAM_MAX], ch[PROTO_DATAGRAM_MAX], auth[PROTO_DATAGRAM_MAX];
	size_t hl, cl, al;

	cr_assert_eq(proto_mod_hello(ctx, &mhs, &w.creds, hello, sizeof(hello), &hl), M2M_OK);
	cr_assert_eq(proto_srv_hello(ctx, &w.key, 1, 0, hello, hl, &shs, ch, sizeof(ch), &cl), M2M_OK);
	cr_assert_eq(proto_mod_challenge(ctx, &mhs, &w.creds, ch, cl, NULL, 0, auth, sizeof(auth),
	    &al), M2M_OK);
	cr_assert_eq(proto_srv_auth_start(ctx, &a, &shs, auth, al), M2M_OK);
	cr_assert_eq(a.req, PROTO_REQ_LOOKUP);
	cr_assert_eq(proto_srv_auth_module(&a, NULL), M2M_E_PROTO_UNKNOWN_MODULE);
	cr_assert_eq(a.req, PROTO_REQ_LOOKUP, "no ECDH requested");
	w.rec.active = 0;
	cr_assert_eq(proto_srv_auth_module(&a, &w.rec), M2M_E_PROTO_MODULE_STATUS);
	cr_assert_eq(a.req, PROTO_REQ_LOOKUP, "no ECDH requested");
}

Test(handshake, wrong_token_is_refused)
{
	struct proto_mod_hs mhs;
	struct proto_srv_hs shs;
	static struct proto_srv_auth a;
	uint8_t hello[PROTO_DATAGRAM_MAX], ch[PROTO_DATAGRAM_MAX], auth[PROTO_DATAGRAM_MAX];
	size_t hl, cl, al;

	cr_assert_eq(proto_mod_hello(ctx, &mhs, &w.creds, hello, sizeof(hello), &hl), M2M_OK);
	cr_assert_eq(proto_srv_hello(ctx, &w.key, 1, 0, hello, hl, &shs, ch, sizeof(ch), &cl), M2M_OK);
	cr_assert_eq(proto_mod_challenge(ctx, &mhs, &w.creds, ch, cl, NULL, 0, auth, sizeof(auth),
	    &al), M2M_OK);
	auth[PROTO_HDR_LEN] ^= 0x80;
	cr_assert_eq(proto_srv_auth_start(ctx, &a, &shs, auth, al), M2M_E_PROTO_TOKEN);
	cr_assert_eq(shs.attempts_left, PROTO_AUTH_ATTEMPTS, "a wrong token uses no attempt");
}

Test(handshake, pending_key_proves_itself)
{
	static struct tu_flight f;
	uint8_t old_priv[PROTO_SCALAR_LEN];

	/* The module already uses the key it submitted by REKEY; the record
	 * still has its old key as current. */
	memcpy(w.rec.pending_key, w.creds.pub, PROTO_POINT_LEN);
	w.rec.has_pending = 1;
	cr_assert_eq(proto_p256_keygen(ctx, old_priv, w.rec.key), M2M_OK);
	cr_assert_eq(tu_handshake(&w, NULL, 0, &f), M2M_OK);
	cr_assert(f.auth.used_pending_key);
	cr_assert_eq(f.welcome.status, PROTO_STATUS_KEY_ROTATED);
	/* Without the pending key on record the same module is refused. */
	w.rec.has_pending = 0;
	cr_assert_eq(tu_handshake(&w, NULL, 0, &f), M2M_E_PROTO_MODULE_KEY);
}

Test(handshake, retry_cookie_round_trip)
{
	static const uint8_t secret[32] = { 42 };
	static const uint8_t addr[] = { 127, 0, 0, 1, 0x30, 0x39 };
	struct proto_mod_hs mhs;
	struct proto_hello h;
	uint8_t hello[PROTO_DATAGRAM_MAX], retry[64], cookie[PROTO_COOKIE_LEN];
	size_t hl, rl;

	cr_assert_eq(proto_mod_hello(ctx, &mhs, &w.creds, hello, sizeof(hello), &hl), M2M_OK);
	cr_assert_eq(proto_hello_decode(hello, hl, &h), M2M_OK);
	cr_assert_not(proto_cookie_valid(secret, 7, addr, sizeof(addr), h.e_m, h.cookie,
	    h.cookie_len));
	cr_assert_eq(proto_cookie(secret, 7, addr, sizeof(addr), h.e_m, cookie), M2M_OK);
	cr_assert_eq(proto_retry_encode(cookie, retry, sizeof(retry), &rl), M2M_OK);
	cr_assert_eq(proto_mod_retry(ctx, &mhs, &w.creds, retry, rl, hello, sizeof(hello), &hl),
	    M2M_OK);
	cr_assert_eq(proto_hello_decode(hello, hl, &h), M2M_OK);
	cr_assert(proto_cookie_valid(secret, 7, addr, sizeof(addr), h.e_m, h.cookie, h.cookie_len));
	cr_assert(proto_cookie_valid(secret, 8, addr, sizeof(addr), h.e_m, h.cookie, h.cookie_len),
	    "the previous epoch is still accepted");
	cr_assert_not(proto_cookie_valid(secret, 9, addr, sizeof(addr), h.e_m, h.cookie,
	    h.cookie_len), "two epochs later it expired");
	{
		uint8_t other[sizeof(addr)];

		memcpy(other, addr, sizeof(addr));
		other[5] ^= 1;	/* another source port */
		cr_assert_not(proto_cookie_valid(secret, 7, other, sizeof(other), h.e_m, h.cookie,
		    h.cookie_len));
	}
}
