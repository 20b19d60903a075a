/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the server role fed a sequence of datagrams, driven as m2md
 * drives it (cookies, lookups, software ECDH for the HSM, commit, records). */
#include "config.h"

#include "tests/fuzz/fuzz.h"

#include <string.h>

#define SLOTS	2		/* half-open entries and sessions, reused round robin */
#define EPOCH	7		/* the cookie epoch; the previous one is valid too */

struct fsrv {
	struct fuzz_rng rng;
	struct proto_ctx *ctx;
	struct proto_srv_hs hs[SLOTS];
	int hs_used[SLOTS];
	unsigned dh1s[SLOTS];		/* DH1 asked per entry: at most one */
	unsigned hs_next;
	struct proto_session sess[SLOTS];
	int sess_used[SLOTS];
	unsigned sess_next;
	uint8_t sid_counter;
	struct proto_srv_auth auth;
	int has_pending;		/* a REKEY recorded M' */
	uint8_t pending[PROTO_POINT_LEN];
};

struct fsrv *
fsrv_get(void)
{
	static struct fsrv s;

	if (s.ctx == NULL)
		s.ctx = fuzz_ctx_new(&s.rng);
	return &s;
}

struct proto_ctx *
fsrv_ctx(void)
{
	return fsrv_get()->ctx;
}

void
fsrv_reset(struct fsrv *s)
{
	struct proto_ctx *ctx = s->ctx;

	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	fuzz_rng_reset(&s->rng, "m2m fuzz server");
}

static const uint8_t addr_a[18] = { 127, 0, 0, 1, 0x4e, 0x20 };
static const uint8_t addr_b[18] = { 10, 0, 0, 2, 0x4e, 0x21 };

/* Instructions with ids 1..n and short bodies, as the database would give. */
static size_t
instructions(uint8_t op, struct proto_instr *in)
{
	static const uint8_t body[] = "set interval=60";
	size_t n = (op >> FSRV_INSTR_SHIFT) & 7, i;

	memset(in, 0, PROTO_INSTR_MAX * sizeof(*in));
	for (i = 0; i < n; i++) {
		in[i].id[PROTO_INSTR_ID_LEN - 1] = (uint8_t)(i + 1);
		in[i].body = body;
		in[i].body_len = i % 2 == 0 ? sizeof(body) - 1 : 0;
	}
	return n;
}

static size_t
on_hello(struct fsrv *s, uint8_t op, const uint8_t *dg, size_t len, uint8_t *out)
{
	const struct fuzz_world *w = fuzz_world();
	const uint8_t *addr = op & FSRV_ADDR_B ? addr_b : addr_a;
	struct proto_hello h;
	struct proto_challenge c;
	uint8_t cookie[PROTO_COOKIE_LEN];
	unsigned slot;
	size_t n = 0;
	enum m2m_err err;

	if (proto_hello_decode(dg, len, &h) != M2M_OK)
		return 0;
	if (op & FSRV_COOKIES && !(h.cookie != NULL && proto_cookie_valid(w->cookie_secret,
	    EPOCH, addr, sizeof(addr_a), h.e_m, h.cookie, h.cookie_len))) {
		FUZZ_ASSERT(proto_cookie(w->cookie_secret, EPOCH, addr, sizeof(addr_a), h.e_m,
		    cookie) == M2M_OK);
		FUZZ_ASSERT(proto_retry_encode(cookie, out, PROTO_DATAGRAM_MAX, &n) == M2M_OK);
		FUZZ_ASSERT(n == PROTO_HDR_LEN + PROTO_COOKIE_LEN);
		return n;
	}
	slot = s->hs_next++ % SLOTS;
	s->hs_used[slot] = 0;
	s->dh1s[slot] = 0;
	err = proto_srv_hello(s->ctx, &w->key, 1, 0x0102, dg, len, &s->hs[slot], out,
	    PROTO_DATAGRAM_MAX, &n);
	if (err != M2M_OK)
		return 0;
	/* What leaves is a CHALLENGE the module can decode, one byte over HELLO at most. */
	FUZZ_ASSERT(n == PROTO_HDR_LEN + PROTO_TOKEN_LEN + PROTO_POINT_LEN && n <= len + 1);
	FUZZ_ASSERT(proto_challenge_decode(out, n, &c) == M2M_OK);
	FUZZ_ASSERT(c.token[0] == 0x01 && c.token[1] == 0x02);
	FUZZ_ASSERT(proto_p256_check(s->ctx, c.e_s, PROTO_POINT_LEN) == M2M_OK);
	FUZZ_ASSERT(s->hs[slot].state == PROTO_SRV_HS_OPEN &&
	    s->hs[slot].attempts_left == PROTO_AUTH_ATTEMPTS);
	s->hs_used[slot] = 1;
	fuzz_stats.challenges++;
	return n;
}

static void
settle(struct fsrv *s, unsigned slot, enum m2m_err err)
{
	if (proto_srv_hs_settle(&s->hs[slot], &s->auth, err)) {
		FUZZ_ASSERT(err != M2M_OK);
		proto_wipe(&s->hs[slot], sizeof(s->hs[slot]));
		s->hs_used[slot] = 0;
	}
}

static size_t
on_auth(struct fsrv *s, uint8_t op, const uint8_t *dg, size_t len, uint8_t *out)
{
	const struct fuzz_world *w = fuzz_world();
	struct proto_srv_auth *a = &s->auth;
	struct proto_module_rec rec;
	struct proto_instr in[PROTO_INSTR_MAX];
	struct proto_welcome wm;
	struct proto_srv_hs before;
	uint8_t dh1[PROTO_DH_LEN], sid[PROTO_SESSION_ID_LEN] = { 0x01, 0x02 };
	unsigned slot, k;
	size_t n = 0, n_in;
	enum m2m_err err;

	/* m2md finds the entry by token; an AUTH that names none is dropped
	 * there. Without a match the first entry in use gets it, so the core
	 * sees wrong tokens too. */
	if (len < PROTO_HDR_LEN + PROTO_TOKEN_LEN)
		return 0;
	for (slot = SLOTS, k = 0; k < SLOTS; k++)
		if (s->hs_used[k] && memcmp(s->hs[k].token, dg + PROTO_HDR_LEN,
		    PROTO_TOKEN_LEN) == 0)
			slot = k;
	for (k = 0; slot == SLOTS && k < SLOTS; k++)
		if (s->hs_used[k])
			slot = k;
	if (slot == SLOTS)
		return 0;
	before = s->hs[slot];
	err = proto_srv_auth_start(s->ctx, a, &s->hs[slot], dg, len);
	if (err == M2M_E_PROTO_ATTEMPTS) {
		proto_wipe(&s->hs[slot], sizeof(s->hs[slot]));
		s->hs_used[slot] = 0;
		return 0;
	}
	/* A refused AUTH (garbage C1 on a keyed entry too) leaves it as it was. */
	if (err != M2M_OK) {
		FUZZ_ASSERT(memcmp(&before, &s->hs[slot], sizeof(before)) == 0);
		return 0;
	}
	FUZZ_ASSERT(a->req == PROTO_REQ_LOOKUP && s->hs[slot].state == PROTO_SRV_HS_BUSY);
	FUZZ_ASSERT(a->c1_opened == s->hs[slot].keyed);
	/* A second AUTH while this one is in flight is refused. */
	{
		static struct proto_srv_auth b;

		FUZZ_ASSERT(proto_srv_auth_start(s->ctx, &b, &s->hs[slot], dg, len) ==
		    M2M_E_PROTO_STATE);
	}
	rec = w->rec;
	if (s->has_pending) {
		rec.has_pending = 1;
		memcpy(rec.pending_key, s->pending, PROTO_POINT_LEN);
	}
	switch (op & FSRV_REC_MASK) {
	case FSRV_REC_UNKNOWN:
		err = proto_srv_auth_module(a, NULL);
		break;
	case FSRV_REC_INACTIVE:
		rec.active = 0;
		err = proto_srv_auth_module(a, &rec);
		break;
	case FSRV_REC_ROTATING:
		memcpy(rec.key, w->m2_pub, PROTO_POINT_LEN);
		rec.has_pending = 1;
		memcpy(rec.pending_key, w->creds.pub, PROTO_POINT_LEN);
		err = proto_srv_auth_module(a, &rec);
		break;
	default:
		err = proto_srv_auth_module(a, &rec);
		break;
	}
	if (err != M2M_OK)
		goto fail;
	/* A keyed entry needs no HSM; the others ask it once in their life. */
	if (a->req == PROTO_REQ_VERIFY) {
		FUZZ_ASSERT(s->hs[slot].keyed && s->dh1s[slot] == 1);
		err = proto_srv_auth_verify(s->ctx, a);
	} else {
		FUZZ_ASSERT(a->req == PROTO_REQ_ECDH && !s->hs[slot].keyed);
		FUZZ_ASSERT(s->dh1s[slot]++ == 0);
		/* Software stands in for the HSM: DH1 = ECDH(s, E_m). */
		FUZZ_ASSERT(proto_p256_ecdh(s->ctx, w->server_priv, PROTO_SCALAR_LEN, a->hs.e_m,
		    PROTO_POINT_FULL_LEN, dh1) == M2M_OK);
		err = proto_srv_auth_dh1(s->ctx, a, dh1);
	}
	if (err != M2M_OK)
		goto fail;
	FUZZ_ASSERT(a->req == PROTO_REQ_COMMIT);
	FUZZ_ASSERT(a->data_len + PROTO_TAG_LEN == a->msg.c2_len);
	FUZZ_ASSERT(!a->used_pending_key || rec.has_pending);
	/* Out of order calls are refused. */
	FUZZ_ASSERT(proto_srv_auth_dh1(s->ctx, a, dh1) == M2M_E_PROTO_STATE);
	FUZZ_ASSERT(proto_srv_auth_verify(s->ctx, a) == M2M_E_PROTO_STATE);
	FUZZ_ASSERT(proto_srv_auth_module(a, &rec) == M2M_E_PROTO_STATE);
	if (op & FSRV_COMMIT_FAILS) {
		err = M2M_E_IO;
		goto fail;
	}
	if (a->used_pending_key) {	/* the commit makes M' current */
		fuzz_stats.rotations++;
		s->has_pending = 0;
	}
	n_in = instructions(op, in);
	sid[PROTO_SESSION_ID_LEN - 1] = ++s->sid_counter;
	k = s->sess_next++ % SLOTS;
	s->sess_used[k] = 0;
	/* No instructions: NULL, as the API allows (and the tests do). */
	err = proto_srv_welcome(s->ctx, a, sid, a->next_pseudonym, PROTO_PSEUDONYM_LEN,
	    n_in != 0 ? in : NULL, n_in, &s->sess[k], out, PROTO_DATAGRAM_MAX, &n);
	if (err != M2M_OK)
		goto fail;
	FUZZ_ASSERT(n <= PROTO_DATAGRAM_MAX && a->req == PROTO_REQ_DONE);
	FUZZ_ASSERT(proto_welcome_decode(out, n, &wm) == M2M_OK);
	FUZZ_ASSERT(memcmp(wm.session_id, sid, sizeof(sid)) == 0);
	s->sess_used[k] = 1;
	settle(s, slot, M2M_OK);
	FUZZ_ASSERT(s->hs[slot].state == PROTO_SRV_HS_DONE);
	/* The token is used up: the same AUTH again is refused. */
	FUZZ_ASSERT(proto_srv_auth_start(s->ctx, a, &s->hs[slot], dg, len) == M2M_E_PROTO_STATE);
	proto_srv_auth_wipe(a);
	fuzz_stats.welcomes++;
	return n;
fail:
	settle(s, slot, err);
	proto_srv_auth_wipe(a);
	return 0;
}

static size_t
answer(struct fsrv *s, struct proto_session *se, uint8_t type, const struct proto_ack_pt *ack,
    uint8_t *out)
{
	uint8_t pt[PROTO_DATAGRAM_MAX];
	struct proto_record r;
	size_t ptlen, n;
	uint64_t seq;

	FUZZ_ASSERT(proto_ack_pt_encode(type, ack, pt, sizeof(pt), &ptlen) == M2M_OK);
	if (se->tx_next == UINT64_MAX) {
		FUZZ_ASSERT(proto_session_seal(s->ctx, se, type, pt, ptlen, out,
		    PROTO_DATAGRAM_MAX, &n, &seq) == M2M_E_PROTO_SEQ_EXHAUSTED);
		return 0;
	}
	FUZZ_ASSERT(proto_session_seal(s->ctx, se, type, pt, ptlen, out, PROTO_DATAGRAM_MAX, &n,
	    &seq) == M2M_OK);
	FUZZ_ASSERT(proto_record_decode(out, n, &r) == M2M_OK && r.seq == seq && r.type == type);
	return n;
}

static size_t
on_record(struct fsrv *s, uint8_t op, const uint8_t *dg, size_t len, uint8_t *out)
{
	struct proto_record r;
	struct proto_session *se = NULL;
	struct proto_data_pt d;
	struct proto_ack_pt ack;
	uint8_t pt[PROTO_DATAGRAM_MAX];
	size_t ptlen, i, n = 0;
	enum m2m_err err;

	if (proto_record_decode(dg, len, &r) != M2M_OK)
		return 0;
	for (i = 0; i < SLOTS; i++)
		if (s->sess_used[i] && proto_ct_equal(s->sess[i].id, r.session_id,
		    PROTO_SESSION_ID_LEN))
			se = &s->sess[i];
	if (se == NULL)
		return 0;
	if ((err = proto_session_open(s->ctx, se, &r, dg, pt, sizeof(pt), &ptlen)) != M2M_OK)
		return 0;
	FUZZ_ASSERT(ptlen + PROTO_TAG_LEN == r.ct_len);
	FUZZ_ASSERT(r.type == PROTO_DATA || r.type == PROTO_REKEY);
	FUZZ_ASSERT(proto_session_open(s->ctx, se, &r, dg, pt, sizeof(pt), &ptlen) ==
	    M2M_E_PROTO_REPLAY);
	fuzz_stats.srv_records++;
	memset(&ack, 0, sizeof(ack));
	ack.acked_seq = r.seq;
	if (r.type == PROTO_REKEY) {
		ack.status = 1;
		if (ptlen == PROTO_POINT_LEN && proto_p256_check(s->ctx, pt, ptlen) == M2M_OK) {
			memcpy(s->pending, pt, PROTO_POINT_LEN);
			s->has_pending = 1;
			ack.status = 0;
			fuzz_stats.rekeys_recorded++;
		}
		return answer(s, se, PROTO_REKEY_ACK, &ack, out);
	}
	if (proto_data_pt_decode(pt, ptlen, &d) != M2M_OK)
		return 0;
	FUZZ_ASSERT(d.n_acks <= PROTO_ACKS_MAX);
	FUZZ_ASSERT(1 + d.n_acks * PROTO_INSTR_ID_LEN + d.payload_len == ptlen);
	ack.n_instr = instructions(op, ack.instr);
	n = answer(s, se, PROTO_DATA_ACK, &ack, out);
	return n;
}

size_t
fsrv_step(struct fsrv *s, uint8_t op, const uint8_t *dg, size_t len, uint8_t *out)
{
	uint8_t type;

	if (proto_peek(dg, len, &type) != M2M_OK)
		return 0;
	switch (type) {
	case PROTO_HELLO:
		return on_hello(s, op, dg, len, out);
	case PROTO_AUTH:
		return on_auth(s, op, dg, len, out);
	case PROTO_DATA:
	case PROTO_DATA_ACK:
	case PROTO_REKEY:
	case PROTO_REKEY_ACK:
		return on_record(s, op, dg, len, out);
	default:
		return 0;	/* what only a server sends */
	}
}

FUZZ_TARGET(server)
{
	static uint8_t out[PROTO_DATAGRAM_MAX];
	struct fsrv *s = fsrv_get();
	struct fuzz_in in = { data, size };
	const uint8_t *dg;
	size_t len;
	uint8_t op;

	fsrv_reset(s);
	while (fuzz_next(&in, &op, &dg, &len))
		fsrv_step(s, op, dg, len, out);
	return 0;
}
