/* SPDX-License-Identifier: Apache-2.0 */
/* The server role: HELLO -> CHALLENGE, then AUTH in steps that hand the
 * pseudonym lookup, the HSM ECDH and the commit to the caller. */
#include "config.h"

#include "src/proto/schedule.h"

#include <string.h>

/* PRK1 takes exactly the place of E_m's Y (struct proto_srv_hs). */
_Static_assert(sizeof(((struct proto_srv_hs *)0)->e_m) ==
    sizeof(((struct proto_srv_hs *)0)->e_m_x) + sizeof(((struct proto_srv_hs *)0)->prk1),
    "prk1 overlays the Y of E_m");

static const struct proto_srv_key *
find_key(const struct proto_srv_key *keys, size_t n, const uint8_t *key_id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(keys[i].key_id, key_id, PROTO_KEY_ID_LEN) == 0)
			return &keys[i];
	return NULL;
}

enum m2m_err
proto_srv_hello(struct proto_ctx *ctx, const struct proto_srv_key *keys, size_t n_keys,
    uint16_t route, const uint8_t *hello, size_t hello_len, struct proto_srv_hs *hs,
    uint8_t *out, size_t cap, size_t *outlen)
{
	struct proto_hello h;
	struct proto_challenge c;
	uint8_t e_s[PROTO_POINT_LEN];
	enum m2m_err err;

	if ((err = proto_hello_decode(hello, hello_len, &h)) != M2M_OK)
		return err;
	if (find_key(keys, n_keys, h.key_id) == NULL)
		return M2M_E_PROTO_KEY_ID;
	memset(hs, 0, sizeof(*hs));
	if ((err = proto_p256_decompress(ctx, h.e_m, PROTO_POINT_LEN, hs->e_m)) != M2M_OK)
		return err;
	hs->token[0] = (uint8_t)(route >> 8);
	hs->token[1] = (uint8_t)route;
	if ((err = proto_random(ctx, hs->token + PROTO_ROUTE_LEN,
	    PROTO_TOKEN_LEN - PROTO_ROUTE_LEN)) != M2M_OK ||
	    (err = proto_p256_keygen(ctx, hs->e_s_priv, e_s)) != M2M_OK)
		goto fail;
	c.token = hs->token;
	c.e_s = e_s;
	if ((err = proto_challenge_encode(&c, out, cap, outlen)) != M2M_OK)
		goto fail;
	if ((err = proto_sha256(hello, hello_len, out, *outlen, NULL, 0, hs->th2)) != M2M_OK)
		goto fail;
	memcpy(hs->key_id, h.key_id, PROTO_KEY_ID_LEN);
	memcpy(hs->pseudonym, h.pseudonym, h.pseudonym_len);
	hs->pseudonym_len = (uint8_t)h.pseudonym_len;
	hs->attempts_left = PROTO_AUTH_ATTEMPTS;
	return M2M_OK;
fail:
	proto_wipe(hs, sizeof(*hs));
	return err;
}

enum m2m_err
proto_srv_hello_again(struct proto_ctx *ctx, const struct proto_srv_hs *hs,
    const uint8_t *hello, size_t hello_len, uint8_t *out, size_t cap, size_t *outlen)
{
	struct proto_challenge c;
	uint8_t e_s[PROTO_POINT_LEN], th2[PROTO_HASH_LEN];
	enum m2m_err err;

	if (hs->state != PROTO_SRV_HS_OPEN)
		return M2M_E_PROTO_STATE;
	if ((err = proto_p256_public(ctx, hs->e_s_priv, PROTO_SCALAR_LEN, e_s)) != M2M_OK)
		return err;
	c.token = hs->token;
	c.e_s = e_s;
	if ((err = proto_challenge_encode(&c, out, cap, outlen)) != M2M_OK ||
	    (err = proto_sha256(hello, hello_len, out, *outlen, NULL, 0, th2)) != M2M_OK)
		return err;
	/* TH2 binds the first HELLO's bytes: any other HELLO is not its resend. */
	if (proto_ct_equal(th2, hs->th2, PROTO_HASH_LEN))
		return M2M_OK;
	proto_wipe(out, *outlen);
	return M2M_E_PROTO_STATE;
}

/* K1 from the kept PRK1; C1 opened into a->identity (the padded identity,
 * doc/protocol.md 4.4). Only a holder of e_m (or of s and e_s) can make a
 * C1 that opens. */
static enum m2m_err
open_c1(struct proto_ctx *ctx, struct proto_srv_auth *a)
{
	struct sched_key k1;
	enum m2m_err err;

	if (a->msg.c1_len - PROTO_TAG_LEN > sizeof(a->identity))
		return M2M_E_PROTO_FIELD_LEN;
	err = proto_sched_expand(ctx, a->hs.prk1, SCHED_LABEL_K1, NULL, &k1);
	if (err == M2M_OK)
		err = proto_aead_open(ctx, k1.key, k1.iv, a->hs.th2, PROTO_HASH_LEN, a->msg.c1,
		    a->msg.c1_len, a->identity);
	proto_wipe(&k1, sizeof(k1));
	if (err != M2M_OK)
		return err;
	a->identity_len = a->msg.c1_len - PROTO_TAG_LEN;
	a->c1_opened = 1;
	return M2M_OK;
}

enum m2m_err
proto_srv_auth_start(struct proto_ctx *ctx, struct proto_srv_auth *a, struct proto_srv_hs *hs,
    const uint8_t *pkt, size_t len)
{
	struct proto_auth m;
	enum m2m_err err;

	if ((err = proto_auth_decode(pkt, len, &m)) != M2M_OK)
		return err;
	if (hs->state != PROTO_SRV_HS_OPEN)
		return M2M_E_PROTO_STATE;
	if (hs->attempts_left == 0)
		return M2M_E_PROTO_ATTEMPTS;
	if (!proto_ct_equal(m.token, hs->token, PROTO_TOKEN_LEN))
		return M2M_E_PROTO_TOKEN;
	memset(a, 0, sizeof(*a));
	a->hs = *hs;
	memcpy(a->pkt, pkt, len);
	a->pkt_len = len;
	err = proto_auth_decode(a->pkt, a->pkt_len, &a->msg);
	/* Keyed: C1 costs one HMAC and one AES-GCM; failing it costs the
	 * entry nothing, so garbage cannot use up the real module's token. */
	if (err == M2M_OK && a->hs.keyed)
		err = open_c1(ctx, a);
	if (err != M2M_OK) {
		proto_srv_auth_wipe(a);
		return err;
	}
	hs->state = PROTO_SRV_HS_BUSY;
	a->req = PROTO_REQ_LOOKUP;
	return M2M_OK;
}

/* What uses an attempt: an AUTH made with e_m (C1 opened), or a refusal
 * by the record, which depends on the entry's pseudonym alone (the same
 * for any AUTH on it, so a stranger's cannot make it happen to a module
 * whose record is fine) and bounds the lookups per token. */
static int
uses_attempt(const struct proto_srv_auth *a, enum m2m_err result)
{
	return a->c1_opened || result == M2M_E_PROTO_UNKNOWN_MODULE ||
	    result == M2M_E_PROTO_MODULE_STATUS;
}

int
proto_srv_hs_settle(struct proto_srv_hs *hs, const struct proto_srv_auth *a,
    enum m2m_err result)
{
	/* The HSM's work is kept whatever became of the AUTH that paid for it. */
	if (a->hs.keyed && !hs->keyed && proto_ct_equal(a->hs.token, hs->token, PROTO_TOKEN_LEN)) {
		memcpy(hs->prk1, a->hs.prk1, PROTO_HASH_LEN);
		hs->keyed = 1;
	}
	if (result == M2M_OK) {
		hs->state = PROTO_SRV_HS_DONE;
		proto_wipe(hs->e_s_priv, sizeof(hs->e_s_priv));
		proto_wipe(hs->prk1, sizeof(hs->prk1));
		return 0;
	}
	hs->state = PROTO_SRV_HS_OPEN;
	if (uses_attempt(a, result) && hs->attempts_left > 0)
		hs->attempts_left--;
	return hs->attempts_left == 0;
}

enum m2m_err
proto_srv_auth_module(struct proto_srv_auth *a, const struct proto_module_rec *rec)
{
	if (a->req != PROTO_REQ_LOOKUP)
		return M2M_E_PROTO_STATE;
	if (rec == NULL)
		return M2M_E_PROTO_UNKNOWN_MODULE;
	if (!rec->active)
		return M2M_E_PROTO_MODULE_STATUS;
	if (rec->identity_len == 0 || rec->identity_len > PROTO_IDENTITY_MAX)
		return M2M_E_INVALID_ARG;
	a->rec = *rec;
	a->req = a->hs.keyed ? PROTO_REQ_VERIFY : PROTO_REQ_ECDH;
	return M2M_OK;
}

/* C2 under K2 from DH2 = ECDH(e_s, M): proves possession of m. */
static enum m2m_err
open_data_with(struct proto_ctx *ctx, struct proto_srv_auth *a, const uint8_t *th3,
    const uint8_t *module_key, size_t key_len)
{
	uint8_t dh2[PROTO_DH_LEN];
	struct sched_key k2;
	enum m2m_err err;

	err = proto_p256_ecdh(ctx, a->hs.e_s_priv, PROTO_SCALAR_LEN, module_key, key_len, dh2);
	if (err == M2M_OK)
		err = proto_sched_k2(ctx, a->hs.prk1, dh2, th3, a->prk2, &k2);
	if (err == M2M_OK)
		err = proto_aead_open(ctx, k2.key, k2.iv, th3, PROTO_HASH_LEN, a->msg.c2,
		    a->msg.c2_len, a->data);
	proto_wipe(dh2, sizeof(dh2));
	proto_wipe(&k2, sizeof(k2));
	return err;
}

static enum m2m_err
open_data(struct proto_ctx *ctx, struct proto_srv_auth *a, const uint8_t *th3)
{
	enum m2m_err err;

	/* The record's uncompressed M is decoded and checked like the wire's
	 * points (on the curve); the database guarantees it is the same M. */
	err = M2M_E_PROTO_POINT;
	if (a->rec.has_key_full)
		err = open_data_with(ctx, a, th3, a->rec.key_full, PROTO_POINT_FULL_LEN);
	/* A stored form that does not decode (the database checks X and the
	 * parity of Y, not the curve) must not lock the module out. */
	if (err == M2M_E_PROTO_POINT)
		err = open_data_with(ctx, a, th3, a->rec.key, PROTO_POINT_LEN);
	/* A REKEYed module may already use its new key: the first C2 that
	 * opens with it is the proof of possession. */
	if (err == M2M_E_PROTO_DECRYPT && a->rec.has_pending) {
		err = open_data_with(ctx, a, th3, a->rec.pending_key, PROTO_POINT_LEN);
		a->used_pending_key = err == M2M_OK;
	}
	if (err == M2M_E_PROTO_DECRYPT)
		return M2M_E_PROTO_MODULE_KEY;
	return err;
}

enum m2m_err
proto_srv_auth_dh1(struct proto_ctx *ctx, struct proto_srv_auth *a,
    const uint8_t dh1[PROTO_DH_LEN])
{
	uint8_t dh3[PROTO_DH_LEN], prk1[PROTO_HASH_LEN];
	struct sched_key k1;
	enum m2m_err err;

	if (a->req != PROTO_REQ_ECDH)
		return M2M_E_PROTO_STATE;
	err = proto_p256_ecdh(ctx, a->hs.e_s_priv, PROTO_SCALAR_LEN, a->hs.e_m,
	    PROTO_POINT_FULL_LEN, dh3);
	if (err == M2M_OK)
		err = proto_sched_k1(ctx, a->hs.th2, dh1, dh3, prk1, &k1);
	if (err == M2M_OK) {
		memcpy(a->hs.prk1, prk1, PROTO_HASH_LEN);	/* E_m's Y is done with */
		a->hs.keyed = 1;
		err = open_c1(ctx, a);
	}
	proto_wipe(dh3, sizeof(dh3));
	proto_wipe(prk1, sizeof(prk1));
	proto_wipe(&k1, sizeof(k1));
	if (err != M2M_OK)
		return err;
	a->req = PROTO_REQ_VERIFY;
	return proto_srv_auth_verify(ctx, a);
}

enum m2m_err
proto_srv_auth_verify(struct proto_ctx *ctx, struct proto_srv_auth *a)
{
	uint8_t th3[PROTO_HASH_LEN], want[PROTO_IDENTITY_PT_MAX];
	size_t n;
	int same_id;
	enum m2m_err err;

	if (a->req != PROTO_REQ_VERIFY || !a->c1_opened)
		return M2M_E_PROTO_STATE;
	/* C1 must carry exactly the identity of the record found by pseudonym,
	 * padded as the module pads it: the whole plaintext is compared, so a
	 * wrong length, identity or padding are one outcome. It is decided
	 * only after C2: a wrong identity costs what a wrong key costs. */
	n = proto_identity_pad(a->rec.identity, a->rec.identity_len, want);
	same_id = n != 0 && a->identity_len == n && proto_ct_equal(a->identity, want, n);
	proto_wipe(want, sizeof(want));
	err = proto_sha256(a->hs.th2, PROTO_HASH_LEN, a->msg.token, PROTO_TOKEN_LEN, a->msg.c1,
	    a->msg.c1_len, th3);
	if (err == M2M_OK)
		err = open_data(ctx, a, th3);
	if (!same_id && (err == M2M_OK || err == M2M_E_PROTO_MODULE_KEY))
		err = M2M_E_PROTO_IDENTITY;
	if (err == M2M_OK)
		err = proto_sha256(th3, PROTO_HASH_LEN, a->msg.c2, a->msg.c2_len, NULL, 0,
		    a->th4);
	if (err == M2M_OK)
		err = proto_random(ctx, a->next_pseudonym, PROTO_PSEUDONYM_LEN);
	proto_wipe(a->hs.e_s_priv, PROTO_SCALAR_LEN);
	if (err != M2M_OK)
		return err;
	a->data_len = a->msg.c2_len - PROTO_TAG_LEN;
	a->req = PROTO_REQ_COMMIT;
	return M2M_OK;
}

enum m2m_err
proto_srv_welcome(struct proto_ctx *ctx, struct proto_srv_auth *a,
    const uint8_t session_id[PROTO_SESSION_ID_LEN], const uint8_t *pseudonym,
    size_t pseudonym_len, const struct proto_instr *instr, size_t n_instr,
    struct proto_session *s, uint8_t *out, size_t cap, size_t *outlen)
{
	struct proto_welcome_pt w;
	struct sched_key k3;
	uint8_t pt[PROTO_DATAGRAM_MAX];
	size_t ptlen, hdr = PROTO_HDR_LEN + PROTO_SESSION_ID_LEN;
	enum m2m_err err;

	if (a->req != PROTO_REQ_COMMIT)
		return M2M_E_PROTO_STATE;
	if (pseudonym == NULL)
		return M2M_E_INVALID_ARG;
	memset(&w, 0, sizeof(w));
	w.status = a->used_pending_key ? PROTO_STATUS_KEY_ROTATED : PROTO_STATUS_OK;
	w.pseudonym = pseudonym;
	w.pseudonym_len = pseudonym_len;
	if (n_instr > PROTO_INSTR_MAX)
		return M2M_E_PROTO_FIELD_LEN;
	if (n_instr != 0)
		memcpy(w.instr, instr, n_instr * sizeof(*instr));
	w.n_instr = n_instr;
	if ((err = proto_welcome_pt_encode(&w, pt, sizeof(pt), &ptlen)) != M2M_OK)
		return err;
	if (hdr + ptlen + PROTO_TAG_LEN > PROTO_DATAGRAM_MAX)
		return M2M_E_PROTO_OVERSIZE;
	if (cap < hdr + ptlen + PROTO_TAG_LEN)
		return M2M_E_PROTO_BUFFER;
	out[0] = PROTO_VERSION;
	out[1] = PROTO_WELCOME;
	memcpy(out + PROTO_HDR_LEN, session_id, PROTO_SESSION_ID_LEN);
	err = proto_sched_expand(ctx, a->prk2, SCHED_LABEL_K3, a->th4, &k3);
	if (err == M2M_OK)
		err = proto_aead_seal(ctx, k3.key, k3.iv, out, hdr, pt, ptlen, out + hdr);
	if (err == M2M_OK)
		err = proto_session_init(ctx, s, PROTO_ROLE_SERVER, session_id, a->prk2, a->th4);
	proto_wipe(&k3, sizeof(k3));
	if (err != M2M_OK)
		return err;
	*outlen = hdr + ptlen + PROTO_TAG_LEN;
	proto_wipe(a->prk2, sizeof(a->prk2));
	proto_wipe(a->th4, sizeof(a->th4));
	a->req = PROTO_REQ_DONE;
	return M2M_OK;
}

void
proto_srv_auth_wipe(struct proto_srv_auth *a)
{
	proto_wipe(a, sizeof(*a));
}
