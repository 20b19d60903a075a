/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the module role fed RETRY, CHALLENGE, WELCOME and records
 * after its HELLO, answering as a device does (HELLO, AUTH, DATA, REKEY). */
#include "config.h"

#include "tests/fuzz/fuzz.h"

#include <string.h>

struct fmod {
	struct fuzz_rng rng;
	struct proto_ctx *ctx;
	struct proto_mod_creds creds;
	struct proto_mod_hs hs;
	struct proto_session s;
	int established;
	size_t dlen;		/* first data of the handshake: one for all its AUTHs */
	uint8_t acks[PROTO_ACKS_MAX][PROTO_INSTR_ID_LEN];	/* to confirm next */
	size_t n_acks;
};

struct fmod *
fmod_get(void)
{
	static struct fmod m;

	if (m.ctx == NULL)
		m.ctx = fuzz_ctx_new(&m.rng);
	return &m;
}

static size_t
hello(struct fmod *m, uint8_t *out)
{
	size_t n = 0;

	FUZZ_ASSERT(proto_mod_hello(m->ctx, &m->hs, &m->creds, out, PROTO_DATAGRAM_MAX, &n) ==
	    M2M_OK);
	FUZZ_ASSERT(m->hs.state == PROTO_MOD_HELLO_SENT);
	return n;
}

size_t
fmod_reset(struct fmod *m, uint8_t *out)
{
	struct proto_ctx *ctx = m->ctx;

	memset(m, 0, sizeof(*m));
	m->ctx = ctx;
	fuzz_rng_reset(&m->rng, "m2m fuzz module");
	m->creds = fuzz_world()->creds;
	return hello(m, out);
}

static void
keep_acks(struct fmod *m, const struct proto_instr *in, size_t n)
{
	size_t i;

	for (i = 0; i < n && m->n_acks < PROTO_ACKS_MAX; i++)
		memcpy(m->acks[m->n_acks++], in[i].id, PROTO_INSTR_ID_LEN);
}

/* The next record of the session: DATA confirming what came in, or REKEY. */
static size_t
send_record(struct fmod *m, uint8_t op, uint8_t *out)
{
	static const uint8_t payload[] = "t=21.5";
	uint8_t pt[PROTO_DATAGRAM_MAX], priv[PROTO_SCALAR_LEN];
	struct proto_data_pt d;
	size_t ptlen, n = 0;
	uint8_t type = PROTO_DATA;

	if (op & FMOD_REKEY) {
		type = PROTO_REKEY;
		FUZZ_ASSERT(proto_p256_keygen(m->ctx, priv, pt) == M2M_OK);
		ptlen = PROTO_POINT_LEN;
	} else {
		d.acks = m->acks[0];
		d.n_acks = m->n_acks;
		d.payload = payload;
		d.payload_len = sizeof(payload) - 1;
		FUZZ_ASSERT(proto_data_pt_encode(&d, pt, sizeof(pt), &ptlen) == M2M_OK);
		m->n_acks = 0;
	}
	if (proto_session_seal(m->ctx, &m->s, type, pt, ptlen, out, PROTO_DATAGRAM_MAX, &n,
	    NULL) != M2M_OK)
		return 0;
	return n;
}

/* Every CHALLENGE of the handshake is answered, each into its own candidate;
 * the same one again is not answered twice. */
static size_t
on_challenge(struct fmod *m, uint8_t op, const uint8_t *dg, size_t len, uint8_t *out)
{
	static uint8_t data[63 * 16];
	size_t n = 0, i;
	unsigned before = m->hs.n_cand;
	enum proto_mod_state st = m->hs.state;
	struct proto_auth a;
	enum m2m_err err;

	if (before == 0)
		m->dlen = (size_t)(op >> FMOD_DATA_SHIFT) * 16;
	for (i = 0; i < m->dlen; i++)
		data[i] = (uint8_t)i;
	err = proto_mod_challenge(m->ctx, &m->hs, &m->creds, dg, len, data, m->dlen, out,
	    PROTO_DATAGRAM_MAX, &n);
	if (err != M2M_OK) {
		FUZZ_ASSERT(m->hs.state == st && m->hs.n_cand == before);
		FUZZ_ASSERT(err != M2M_E_PROTO_ANSWERED || m->hs.last < before);
		return 0;
	}
	FUZZ_ASSERT(m->hs.state == PROTO_MOD_AUTH_SENT && (st == PROTO_MOD_HELLO_SENT ||
	    st == PROTO_MOD_AUTH_SENT));
	FUZZ_ASSERT(m->hs.n_cand == (before < PROTO_MOD_CANDIDATES ? before + 1 : before));
	FUZZ_ASSERT(proto_mod_challenge(m->ctx, &m->hs, &m->creds, dg, len, data, m->dlen,
	    out + n, PROTO_DATAGRAM_MAX - n, &i) == M2M_E_PROTO_ANSWERED);
	FUZZ_ASSERT(proto_auth_decode(out, n, &a) == M2M_OK);
	FUZZ_ASSERT(a.c1_len == proto_identity_pt_len(m->creds.identity_len) + PROTO_TAG_LEN &&
	    a.c2_len == m->dlen + PROTO_TAG_LEN);
	FUZZ_ASSERT(memcmp(a.token, dg + PROTO_HDR_LEN, PROTO_TOKEN_LEN) == 0);
	/* The identity never leaves in clear (the token is the peer's bytes, echoed). */
	FUZZ_ASSERT(memmem(out + PROTO_HDR_LEN + PROTO_TOKEN_LEN, n - PROTO_HDR_LEN -
	    PROTO_TOKEN_LEN, m->creds.identity, m->creds.identity_len) == NULL);
	fuzz_stats.mod_auths++;
	return n;
}

static size_t
on_welcome(struct fmod *m, uint8_t op, const uint8_t *dg, size_t len, uint8_t *out)
{
	static uint8_t pt[PROTO_DATAGRAM_MAX];
	struct proto_welcome_pt w;
	enum proto_mod_state st = m->hs.state;
	unsigned cands = m->hs.n_cand;
	size_t i;

	/* One that does not verify changes nothing: the real one may follow. */
	if (proto_mod_welcome(m->ctx, &m->hs, dg, len, &m->s, pt, &w) != M2M_OK) {
		FUZZ_ASSERT(m->hs.state == st && m->hs.n_cand == cands);
		return 0;
	}
	FUZZ_ASSERT(m->hs.state == PROTO_MOD_ESTABLISHED);
	FUZZ_ASSERT(w.status <= PROTO_STATUS_KEY_ROTATED && w.n_instr <= PROTO_INSTR_MAX);
	FUZZ_ASSERT(w.pseudonym_len >= PROTO_PSEUDONYM_MIN &&
	    w.pseudonym_len <= PROTO_PSEUDONYM_MAX);
	FUZZ_ASSERT(w.pseudonym == pt + 2);
	for (i = 0; i < w.n_instr; i++)
		FUZZ_ASSERT(w.instr[i].body >= pt && w.instr[i].body + w.instr[i].body_len <=
		    pt + (len - PROTO_HDR_LEN - PROTO_SESSION_ID_LEN - PROTO_TAG_LEN));
	FUZZ_ASSERT(memcmp(m->s.id, dg + PROTO_HDR_LEN, PROTO_SESSION_ID_LEN) == 0);
	/* The next HELLO uses the new pseudonym. */
	memcpy(m->creds.pseudonym, w.pseudonym, w.pseudonym_len);
	m->creds.pseudonym_len = w.pseudonym_len;
	m->established = 1;
	m->n_acks = 0;
	keep_acks(m, w.instr, w.n_instr);
	fuzz_stats.mod_established++;
	return send_record(m, op, out);
}

static size_t
on_record(struct fmod *m, uint8_t op, const uint8_t *dg, size_t len, uint8_t *out)
{
	static uint8_t pt[PROTO_DATAGRAM_MAX];
	struct proto_record r;
	struct proto_ack_pt ack;
	size_t ptlen;

	if (!m->established || proto_record_decode(dg, len, &r) != M2M_OK)
		return 0;
	if (proto_session_open(m->ctx, &m->s, &r, dg, pt, sizeof(pt), &ptlen) != M2M_OK)
		return 0;
	FUZZ_ASSERT(r.type == PROTO_DATA_ACK || r.type == PROTO_REKEY_ACK);
	FUZZ_ASSERT(proto_session_open(m->ctx, &m->s, &r, dg, pt, sizeof(pt), &ptlen) ==
	    M2M_E_PROTO_REPLAY);
	if (proto_ack_pt_decode(r.type, pt, ptlen, &ack) != M2M_OK)
		return 0;
	if (r.type == PROTO_REKEY_ACK) {
		FUZZ_ASSERT(ptlen == 9 && ack.n_instr == 0);
		fuzz_stats.mod_rekey_acks++;
	} else {
		FUZZ_ASSERT(ack.n_instr <= PROTO_INSTR_MAX);
		keep_acks(m, ack.instr, ack.n_instr);
		fuzz_stats.mod_acks++;
	}
	return send_record(m, op, out);
}

size_t
fmod_step(struct fmod *m, uint8_t op, const uint8_t *dg, size_t len, uint8_t *out)
{
	uint8_t type;
	size_t n = 0;

	if (op & FMOD_RESTART) {
		m->established = 0;
		return hello(m, out);
	}
	if (proto_peek(dg, len, &type) != M2M_OK)
		return 0;
	switch (type) {
	case PROTO_RETRY:
		if (proto_mod_retry(m->ctx, &m->hs, &m->creds, dg, len, out, PROTO_DATAGRAM_MAX,
		    &n) != M2M_OK)
			return 0;
		FUZZ_ASSERT(n == m->hs.hello_len && memcmp(out, m->hs.hello, n) == 0);
		return n;
	case PROTO_CHALLENGE:
		return on_challenge(m, op, dg, len, out);
	case PROTO_WELCOME:
		return on_welcome(m, op, dg, len, out);
	case PROTO_DATA:
	case PROTO_DATA_ACK:
	case PROTO_REKEY:
	case PROTO_REKEY_ACK:
		return on_record(m, op, dg, len, out);
	default:
		return 0;	/* what only a module sends */
	}
}

FUZZ_TARGET(module)
{
	static uint8_t out[PROTO_DATAGRAM_MAX];
	struct fmod *m = fmod_get();
	struct fuzz_in in = { data, size };
	const uint8_t *dg;
	size_t len;
	uint8_t op;

	fmod_reset(m, out);
	while (fuzz_next(&in, &op, &dg, &len))
		fmod_step(m, op, dg, len, out);
	return 0;
}
