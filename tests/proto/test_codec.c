/* SPDX-License-Identifier: Apache-2.0 */
/* The strict codec and the record layer: specific errors for malformed
 * datagrams, replay window behaviour, and tampering with records. */
#include "config.h"

#include <string.h>

#include <criterion/criterion.h>

#include "tests/common/testutil.h"

static struct proto_ctx *ctx;
static struct tu_world w;
static struct tu_flight f;

static void
setup(void)
{
	cr_assert_eq(proto_ctx_new(&ctx, NULL), M2M_OK);
	tu_world_init(&w, ctx);
	cr_assert_eq(tu_handshake(&w, NULL, 0, &f), M2M_OK);
}

static void
teardown(void)
{
	proto_ctx_free(ctx);
}

TestSuite(codec, .init = setup, .fini = teardown);

Test(codec, header_errors_are_specific)
{
	uint8_t big[PROTO_DATAGRAM_MAX + 1] = { PROTO_VERSION, PROTO_DATA };
	uint8_t t, buf[80];

	cr_assert_eq(proto_peek(big, sizeof(big), &t), M2M_E_PROTO_OVERSIZE);
	cr_assert_eq(proto_peek(big, 1, &t), M2M_E_PROTO_TRUNCATED);
	memcpy(buf, f.msg[0], f.len[0]);
	buf[0] = 2;
	cr_assert_eq(proto_peek(buf, f.len[0], &t), M2M_E_PROTO_VERSION);
	buf[0] = PROTO_VERSION;
	buf[1] = 0;
	cr_assert_eq(proto_peek(buf, f.len[0], &t), M2M_E_PROTO_TYPE);
	buf[1] = PROTO_TYPE_MAX + 1;
	cr_assert_eq(proto_peek(buf, f.len[0], &t), M2M_E_PROTO_TYPE);
}

Test(codec, hello_fields_are_checked)
{
	struct proto_hello h;
	uint8_t buf[128];
	size_t n = f.len[0];

	memcpy(buf, f.msg[0], n);
	cr_assert_eq(proto_hello_decode(buf, n, &h), M2M_OK);
	cr_assert_eq(proto_hello_decode(buf, n - 1, &h), M2M_E_PROTO_TRUNCATED);
	buf[n] = 0;
	cr_assert_eq(proto_hello_decode(buf, n + 1, &h), M2M_E_PROTO_TRAILING);
	buf[2] = 2;
	cr_assert_eq(proto_hello_decode(buf, n, &h), M2M_E_PROTO_SUITE);
	buf[2] = PROTO_SUITE_P256_AES128GCM;
	buf[7] = PROTO_PSEUDONYM_MAX + 1;
	cr_assert_eq(proto_hello_decode(buf, n, &h), M2M_E_PROTO_FIELD_LEN);
	buf[7] = PROTO_PSEUDONYM_MIN - 1;
	cr_assert_eq(proto_hello_decode(buf, n, &h), M2M_E_PROTO_FIELD_LEN);
	buf[7] = PROTO_PSEUDONYM_LEN;
	buf[n - 1] = 5;		/* cookie length that is neither 0 nor 16 */
	cr_assert_eq(proto_hello_decode(buf, n, &h), M2M_E_PROTO_FIELD_LEN);
	buf[n - 1] = PROTO_COOKIE_LEN;
	cr_assert_eq(proto_hello_decode(buf, n, &h), M2M_E_PROTO_TRUNCATED);
	/* The wrong message type for the decoder. */
	cr_assert_eq(proto_challenge_decode(f.msg[0], f.len[0], NULL), M2M_E_PROTO_TYPE);
}

Test(codec, auth_and_welcome_bounds)
{
	struct proto_auth a;
	struct proto_welcome wm;
	uint8_t buf[PROTO_DATAGRAM_MAX];

	memcpy(buf, f.msg[2], f.len[2]);
	/* C1 is 33, 49 or 81 bytes (a padded identity, 4.4), nothing else. */
	for (unsigned l1 = 0; l1 < 256; l1++) {
		buf[PROTO_HDR_LEN + PROTO_TOKEN_LEN] = (uint8_t)l1;
		if (l1 != 33 && l1 != 49 && l1 != 81)
			cr_assert_eq(proto_auth_decode(buf, f.len[2], &a), M2M_E_PROTO_FIELD_LEN,
			    "L1 %u", l1);
	}
	cr_assert_eq(proto_welcome_decode(f.msg[3], PROTO_HDR_LEN + 4, &wm),
	    M2M_E_PROTO_TRUNCATED);
	cr_assert_eq(proto_auth_layout(PROTO_IDENTITY_MAX + 1, 0, sizeof(buf), &(size_t){0},
	    &(size_t){0}, &(size_t){0}), M2M_E_PROTO_FIELD_LEN);
	cr_assert_eq(proto_auth_layout(16, PROTO_DATAGRAM_MAX, sizeof(buf), &(size_t){0},
	    &(size_t){0}, &(size_t){0}), M2M_E_PROTO_OVERSIZE);
}

/* Seals a DATA record from the module with the given sequence number. */
static size_t
data_with_seq(uint64_t seq, uint8_t *rec)
{
	size_t n;

	f.mod_s.tx_next = seq;
	cr_assert_eq(proto_session_seal(ctx, &f.mod_s, PROTO_DATA, (const uint8_t *)"\0d", 2, rec,
	    PROTO_DATAGRAM_MAX, &n, NULL), M2M_OK);
	return n;
}

/* The server's side of a record: opened, or with again set reopened as a
 * resend of one already answered. */
static enum m2m_err
receive(const uint8_t *rec, size_t n, int again)
{
	struct proto_record r;
	uint8_t pt[PROTO_DATAGRAM_MAX];
	size_t ptlen;
	enum m2m_err err;

	if ((err = proto_record_decode(rec, n, &r)) != M2M_OK)
		return err;
	if (again)
		return proto_session_reopen(ctx, &f.srv_s, &r, rec, pt, sizeof(pt), &ptlen);
	return proto_session_open(ctx, &f.srv_s, &r, rec, pt, sizeof(pt), &ptlen);
}

static enum m2m_err
deliver(const uint8_t *rec, size_t n)
{
	return receive(rec, n, 0);
}

Test(codec, replay_window)
{
	uint8_t r0[128], r1[128], r5[128], r70[128], z[128];
	size_t n0 = data_with_seq(1, r0), n1 = data_with_seq(2, r1);
	size_t n5 = data_with_seq(6, r5), n70 = data_with_seq(71, r70);
	size_t nz = data_with_seq(0, z);

	cr_assert_eq(deliver(z, nz), M2M_E_PROTO_REPLAY, "0 is the first data's number");

	cr_assert_eq(deliver(r5, n5), M2M_OK);
	cr_assert_eq(deliver(r0, n0), M2M_OK, "reordered inside the window");
	cr_assert_eq(deliver(r0, n0), M2M_E_PROTO_REPLAY);
	cr_assert_eq(deliver(r5, n5), M2M_E_PROTO_REPLAY);
	cr_assert_eq(deliver(r70, n70), M2M_OK);
	cr_assert_eq(deliver(r1, n1), M2M_E_PROTO_TOO_OLD, "left the 64-entry window");
	cr_assert_eq(deliver(r70, n70), M2M_E_PROTO_REPLAY);
}

static enum m2m_err
redeliver(const uint8_t *rec, size_t n)
{
	return receive(rec, n, 1);
}

/* A resent record: answered ones may be answered again (tag checked,
 * window unmoved), pending ones not, failed ones are taken as new. */
Test(codec, resent_records)
{
	uint8_t r1[128], r2[128], r3[128], r80[128];
	size_t n1 = data_with_seq(1, r1), n2 = data_with_seq(2, r2);
	size_t n3 = data_with_seq(3, r3), n80 = data_with_seq(80, r80);

	cr_assert_eq(redeliver(r1, n1), M2M_E_PROTO_STATE, "never taken: open it");
	cr_assert_eq(deliver(r1, n1), M2M_OK);
	cr_assert_eq(deliver(r2, n2), M2M_OK);
	cr_assert_eq(redeliver(r1, n1), M2M_E_PROTO_REPLAY, "taken, not answered yet");
	proto_session_answered(&f.srv_s, 1);
	cr_assert_eq(deliver(r1, n1), M2M_E_PROTO_REPLAY, "still no second opening");
	cr_assert_eq(redeliver(r1, n1), M2M_OK);
	cr_assert_eq(redeliver(r1, n1), M2M_OK, "as often as it is lost");
	cr_assert_eq(redeliver(r2, n2), M2M_E_PROTO_REPLAY, "answered is per record");
	r1[n1 - 1] ^= 1;
	cr_assert_eq(redeliver(r1, n1), M2M_E_PROTO_DECRYPT, "a forged copy gets no answer");
	r1[n1 - 1] ^= 1;
	/* Record 2's commit failed: its resend is new again, once. */
	proto_session_forget(&f.srv_s, 2);
	cr_assert_eq(deliver(r2, n2), M2M_OK);
	cr_assert_eq(deliver(r2, n2), M2M_E_PROTO_REPLAY);
	/* Answering a record never taken marks nothing. */
	proto_session_answered(&f.srv_s, 3);
	cr_assert_eq(deliver(r3, n3), M2M_OK);
	cr_assert_eq(redeliver(r3, n3), M2M_E_PROTO_REPLAY);
	/* The answered bits move with the window. */
	proto_session_answered(&f.srv_s, 3);
	cr_assert_eq(deliver(r80, n80), M2M_OK);
	cr_assert_eq(redeliver(r1, n1), M2M_E_PROTO_TOO_OLD);
	cr_assert_eq(redeliver(r3, n3), M2M_E_PROTO_TOO_OLD);
	proto_session_answered(&f.srv_s, 80);
	cr_assert_eq(redeliver(r80, n80), M2M_OK);
}

Test(codec, forged_record_does_not_move_the_window)
{
	uint8_t r[128];
	size_t n = data_with_seq(1000, r);

	r[n - 1] ^= 1;
	cr_assert_eq(deliver(r, n), M2M_E_PROTO_DECRYPT);
	r[n - 1] ^= 1;
	cr_assert_eq(deliver(r, n), M2M_OK);
	n = data_with_seq(10, r);
	cr_assert_eq(deliver(r, n), M2M_E_PROTO_TOO_OLD);
}

Test(codec, sequence_numbers_never_wrap)
{
	uint8_t r[128];
	size_t n;

	f.mod_s.tx_next = UINT64_MAX;
	cr_assert_eq(proto_session_seal(ctx, &f.mod_s, PROTO_DATA, (const uint8_t *)"\0", 1, r,
	    sizeof(r), &n, NULL), M2M_E_PROTO_SEQ_EXHAUSTED);
}

Test(codec, wrong_session_id_is_refused)
{
	uint8_t r[128];
	size_t n = data_with_seq(3, r);

	r[PROTO_HDR_LEN] ^= 1;
	cr_assert_eq(deliver(r, n), M2M_E_PROTO_SESSION);
}

/* Every record type, cut anywhere or with any bit flipped, is refused. */
static void
tamper_all(struct proto_session *tx, struct proto_session *rx, uint8_t type,
    const uint8_t *pt, size_t ptlen)
{
	uint8_t rec[PROTO_DATAGRAM_MAX], bad[PROTO_DATAGRAM_MAX], out[PROTO_DATAGRAM_MAX];
	struct proto_record r;
	size_t n, i, outlen;
	struct proto_session saved;

	cr_assert_eq(proto_session_seal(ctx, tx, type, pt, ptlen, rec, sizeof(rec), &n, NULL),
	    M2M_OK);
	saved = *rx;
	for (i = 0; i < n; i++) {
		*rx = saved;
		cr_assert(proto_record_decode(rec, i, &r) != M2M_OK ||
		    proto_session_open(ctx, rx, &r, rec, out, sizeof(out), &outlen) != M2M_OK,
		    "type %d cut to %zu accepted", type, i);
	}
	for (i = 0; i < 8 * n; i++) {
		*rx = saved;
		memcpy(bad, rec, n);
		bad[i / 8] ^= (uint8_t)(1u << (i % 8));
		cr_assert(proto_record_decode(bad, n, &r) != M2M_OK ||
		    proto_session_open(ctx, rx, &r, bad, out, sizeof(out), &outlen) != M2M_OK,
		    "type %d with bit %zu flipped accepted", type, i);
	}
	*rx = saved;
	cr_assert_eq(proto_record_decode(rec, n, &r), M2M_OK);
	cr_assert_eq(proto_session_open(ctx, rx, &r, rec, out, sizeof(out), &outlen), M2M_OK);
}

Test(codec, every_record_type_resists_tampering)
{
	uint8_t pub[PROTO_POINT_LEN], priv[PROTO_SCALAR_LEN], ack[9] = { 0 };

	cr_assert_eq(proto_p256_keygen(ctx, priv, pub), M2M_OK);
	tamper_all(&f.mod_s, &f.srv_s, PROTO_DATA, (const uint8_t *)"\0payload", 8);
	tamper_all(&f.mod_s, &f.srv_s, PROTO_REKEY, pub, sizeof(pub));
	tamper_all(&f.srv_s, &f.mod_s, PROTO_DATA_ACK, (const uint8_t *)"\0\0\0\0\0\0\0\0\0", 9);
	tamper_all(&f.srv_s, &f.mod_s, PROTO_REKEY_ACK, ack, sizeof(ack));
}

Test(codec, retry_is_strict)
{
	static const uint8_t cookie[PROTO_COOKIE_LEN] = { 1 };
	uint8_t buf[64];
	const uint8_t *c;
	size_t n, i;

	cr_assert_eq(proto_retry_encode(cookie, buf, sizeof(buf), &n), M2M_OK);
	for (i = 0; i < n; i++)
		cr_assert_neq(proto_retry_decode(buf, i, &c), M2M_OK);
	buf[n] = 0;
	cr_assert_eq(proto_retry_decode(buf, n + 1, &c), M2M_E_PROTO_TRAILING);
	cr_assert_eq(proto_retry_decode(buf, n, &c), M2M_OK);
}

Test(codec, payloads_are_strict)
{
	struct proto_instr in[2] = { { { 1 }, (const uint8_t *)"reboot", 6 },
				     { { 2 }, (const uint8_t *)"", 0 } };
	struct proto_ack_pt ack = { .acked_seq = 7, .n_instr = 2 }, got;
	struct proto_data_pt d;
	uint8_t buf[256];
	size_t n, i;

	memcpy(ack.instr, in, sizeof(in));
	cr_assert_eq(proto_ack_pt_encode(PROTO_DATA_ACK, &ack, buf, sizeof(buf), &n), M2M_OK);
	cr_assert_eq(proto_ack_pt_decode(PROTO_DATA_ACK, buf, n, &got), M2M_OK);
	cr_assert_eq(got.acked_seq, 7);
	cr_assert_eq(got.n_instr, 2);
	cr_assert_arr_eq(got.instr[0].body, "reboot", 6);
	for (i = 0; i < n; i++)
		cr_assert_neq(proto_ack_pt_decode(PROTO_DATA_ACK, buf, i, &got), M2M_OK, "cut %zu", i);
	buf[n] = 0;
	cr_assert_eq(proto_ack_pt_decode(PROTO_DATA_ACK, buf, n + 1, &got), M2M_E_PROTO_PAYLOAD);
	buf[0] = 3;		/* claims three confirmations, carries none */
	cr_assert_eq(proto_data_pt_decode(buf, 1, &d), M2M_E_PROTO_PAYLOAD);
	buf[0] = 0;
	cr_assert_eq(proto_data_pt_decode(buf, 1, &d), M2M_OK);
	cr_assert_eq(d.payload_len, 0);
}
