/* SPDX-License-Identifier: Apache-2.0 */
/* The module role: HELLO, the answer to RETRY, AUTH from CHALLENGE, and the
 * check of the WELCOME that authenticates the server. */
#include "config.h"

#include "src/proto/ctx.h"
#include "src/proto/schedule.h"

#include <string.h>

/* The state is where the role made it, under this context: not a copy,
 * not restored after a restart (module.h). Compared plainly: neither the
 * address nor the instance is secret. */
static int
hs_live(const struct proto_ctx *ctx, const struct proto_mod_hs *hs)
{
	return hs->self == hs && memcmp(hs->instance, ctx->instance, PROTO_INSTANCE_LEN) == 0;
}

static enum m2m_err
write_hello(struct proto_mod_hs *hs, const struct proto_mod_creds *c, const uint8_t *cookie,
    uint8_t *out, size_t cap, size_t *outlen)
{
	struct proto_hello h;
	enum m2m_err err;

	h.suite = PROTO_SUITE_P256_AES128GCM;
	h.key_id = c->key_id;
	h.pseudonym = c->pseudonym;
	h.pseudonym_len = c->pseudonym_len;
	h.e_m = hs->e_m;
	h.cookie = cookie;
	h.cookie_len = cookie != NULL ? PROTO_COOKIE_LEN : 0;
	if ((err = proto_hello_encode(&h, hs->hello, sizeof(hs->hello), &hs->hello_len)) != M2M_OK)
		return err;
	if (cap < hs->hello_len)
		return M2M_E_PROTO_BUFFER;
	memcpy(out, hs->hello, hs->hello_len);
	*outlen = hs->hello_len;
	hs->state = PROTO_MOD_HELLO_SENT;
	return M2M_OK;
}

enum m2m_err
proto_mod_prepare(struct proto_ctx *ctx, const uint8_t server_pub[PROTO_POINT_LEN],
    struct proto_mod_prep *p)
{
	enum m2m_err err;

	memset(p, 0, sizeof(*p));
	p->self = p;
	memcpy(p->instance, ctx->instance, PROTO_INSTANCE_LEN);
	memcpy(p->server_pub, server_pub, PROTO_POINT_LEN);
	if ((err = proto_p256_keygen(ctx, p->e_m_priv, p->e_m)) != M2M_OK)
		return err;
	err = proto_p256_ecdh(ctx, p->e_m_priv, PROTO_SCALAR_LEN, server_pub, PROTO_POINT_LEN,
	    p->dh1);
	if (err != M2M_OK)
		proto_wipe(p, sizeof(*p));
	return err;
}

enum m2m_err
proto_mod_hello_prepared(struct proto_mod_hs *hs, const struct proto_mod_creds *c,
    struct proto_mod_prep *p, uint8_t *out, size_t cap, size_t *outlen)
{
	enum m2m_err err;

	if (p->self != p)
		return M2M_E_PROTO_STALE;
	/* S is public: a plain comparison. */
	if (memcmp(p->server_pub, c->server_pub, PROTO_POINT_LEN) != 0)
		return M2M_E_INVALID_ARG;
	memset(hs, 0, sizeof(*hs));
	hs->self = hs;
	memcpy(hs->instance, p->instance, PROTO_INSTANCE_LEN);
	memcpy(hs->e_m_priv, p->e_m_priv, PROTO_SCALAR_LEN);
	memcpy(hs->e_m, p->e_m, PROTO_POINT_LEN);
	memcpy(hs->dh1, p->dh1, PROTO_DH_LEN);
	if ((err = write_hello(hs, c, NULL, out, cap, outlen)) != M2M_OK) {
		proto_wipe(hs, sizeof(*hs));
		return err;
	}
	proto_wipe(p, sizeof(*p));
	return M2M_OK;
}

enum m2m_err
proto_mod_hello(struct proto_ctx *ctx, struct proto_mod_hs *hs,
    const struct proto_mod_creds *c, uint8_t *out, size_t cap, size_t *outlen)
{
	struct proto_mod_prep p;
	enum m2m_err err;

	memset(hs, 0, sizeof(*hs));
	if ((err = proto_mod_prepare(ctx, c->server_pub, &p)) == M2M_OK)
		err = proto_mod_hello_prepared(hs, c, &p, out, cap, outlen);
	proto_wipe(&p, sizeof(p));
	return err;
}

enum m2m_err
proto_mod_retry(struct proto_ctx *ctx, struct proto_mod_hs *hs,
    const struct proto_mod_creds *c, const uint8_t *pkt, size_t len, uint8_t *out,
    size_t cap, size_t *outlen)
{
	const uint8_t *cookie;
	enum m2m_err err;

	if (hs->state != PROTO_MOD_HELLO_SENT && hs->state != PROTO_MOD_AUTH_SENT)
		return M2M_E_PROTO_STATE;
	if (!hs_live(ctx, hs))
		return M2M_E_PROTO_STALE;
	if ((err = proto_retry_decode(pkt, len, &cookie)) != M2M_OK)
		return err;
	return write_hello(hs, c, cookie, out, cap, outlen);
}

/* C1: the padded identity under K1, bound to TH2. Returns PRK1 and TH3. */
static enum m2m_err
seal_identity(struct proto_ctx *ctx, struct proto_mod_hs *hs, const struct proto_mod_creds *c,
    const struct proto_challenge *ch, const uint8_t e_s[PROTO_POINT_FULL_LEN],
    const uint8_t th2[PROTO_HASH_LEN], uint8_t *c1, uint8_t prk1[PROTO_HASH_LEN],
    uint8_t th3[PROTO_HASH_LEN])
{
	uint8_t dh3[PROTO_DH_LEN], pt[PROTO_IDENTITY_PT_MAX];
	size_t n = proto_identity_pad(c->identity, c->identity_len, pt);
	struct sched_key k1;
	enum m2m_err err;

	if (n == 0)
		return M2M_E_PROTO_FIELD_LEN;
	err = proto_p256_ecdh(ctx, hs->e_m_priv, PROTO_SCALAR_LEN, e_s, PROTO_POINT_FULL_LEN,
	    dh3);
	if (err == M2M_OK)
		err = proto_sched_k1(ctx, th2, hs->dh1, dh3, prk1, &k1);
	if (err == M2M_OK)
		err = proto_aead_seal(ctx, k1.key, k1.iv, th2, PROTO_HASH_LEN, pt, n, c1);
	if (err == M2M_OK)
		err = proto_sha256(th2, PROTO_HASH_LEN, ch->token, PROTO_TOKEN_LEN, c1,
		    n + PROTO_TAG_LEN, th3);
	proto_wipe(dh3, sizeof(dh3));
	proto_wipe(pt, sizeof(pt));
	proto_wipe(&k1, sizeof(k1));
	return err;
}

/* C2: the first data under K2, which needs the static key m (DH2). */
static enum m2m_err
seal_data(struct proto_ctx *ctx, struct proto_mod_cand *k, const struct proto_mod_creds *c,
    const uint8_t e_s[PROTO_POINT_FULL_LEN], const uint8_t prk1[PROTO_HASH_LEN],
    const uint8_t th3[PROTO_HASH_LEN], const uint8_t *data, size_t data_len, uint8_t *c2)
{
	uint8_t dh2[PROTO_DH_LEN];
	struct sched_key k2;
	enum m2m_err err;

	if (c->static_dh != NULL)
		err = c->static_dh(c->static_dh_arg, e_s, dh2);
	else
		err = proto_p256_ecdh(ctx, c->priv, PROTO_SCALAR_LEN, e_s, PROTO_POINT_FULL_LEN,
		    dh2);
	if (err == M2M_OK)
		err = proto_sched_k2(ctx, prk1, dh2, th3, k->prk2, &k2);
	if (err == M2M_OK)
		err = proto_aead_seal(ctx, k2.key, k2.iv, th3, PROTO_HASH_LEN, data, data_len, c2);
	if (err == M2M_OK)
		err = proto_sha256(th3, PROTO_HASH_LEN, c2, data_len + PROTO_TAG_LEN, NULL, 0,
		    k->th4);
	proto_wipe(dh2, sizeof(dh2));
	proto_wipe(&k2, sizeof(k2));
	return err;
}

/* Whether this CHALLENGE (named by TH2) was answered already, and which
 * candidate it is. TH2 is a hash of public datagrams: no secret compared. */
static int
answered(const struct proto_mod_hs *hs, const uint8_t th2[PROTO_HASH_LEN], unsigned *idx)
{
	for (unsigned i = 0; i < hs->n_cand; i++)
		if (memcmp(hs->cand[i].th2, th2, PROTO_HASH_LEN) == 0) {
			*idx = i;
			return 1;
		}
	return 0;
}

/* Every answer of a handshake carries the same first data (module.h). */
static enum m2m_err
same_data(struct proto_mod_hs *hs, const uint8_t *data, size_t data_len)
{
	uint8_t h[PROTO_HASH_LEN];
	enum m2m_err err;

	if ((err = proto_sha256(data, data_len, NULL, 0, NULL, 0, h)) != M2M_OK)
		return err;
	if (hs->n_cand == 0)
		memcpy(hs->data_hash, h, sizeof(h));
	else if (!proto_ct_equal(hs->data_hash, h, sizeof(h)))
		err = M2M_E_INVALID_ARG;
	proto_wipe(h, sizeof(h));
	return err;
}

/* The AUTH for one CHALLENGE into candidate k; out holds total bytes. */
static enum m2m_err
seal_auth(struct proto_ctx *ctx, struct proto_mod_hs *hs, const struct proto_mod_creds *c,
    const struct proto_challenge *ch, const uint8_t e_s[PROTO_POINT_FULL_LEN],
    struct proto_mod_cand *k, const uint8_t *data, size_t data_len, uint8_t *out,
    size_t c1_off, size_t c2_off)
{
	uint8_t th3[PROTO_HASH_LEN], prk1[PROTO_HASH_LEN];
	enum m2m_err err;

	out[0] = PROTO_VERSION;
	out[1] = PROTO_AUTH;
	memcpy(out + PROTO_HDR_LEN, ch->token, PROTO_TOKEN_LEN);
	out[PROTO_HDR_LEN + PROTO_TOKEN_LEN] = (uint8_t)(c2_off - c1_off);
	err = seal_identity(ctx, hs, c, ch, e_s, k->th2, out + c1_off, prk1, th3);
	if (err == M2M_OK)
		err = seal_data(ctx, k, c, e_s, prk1, th3, data, data_len, out + c2_off);
	proto_wipe(prk1, sizeof(prk1));
	proto_wipe(th3, sizeof(th3));
	return err;
}

enum m2m_err
proto_mod_challenge(struct proto_ctx *ctx, struct proto_mod_hs *hs,
    const struct proto_mod_creds *c, const uint8_t *pkt, size_t len,
    const uint8_t *data, size_t data_len, uint8_t *out, size_t cap, size_t *outlen)
{
	struct proto_challenge ch;
	struct proto_mod_cand k;
	uint8_t e_s[PROTO_POINT_FULL_LEN];
	size_t c1_off, c2_off, total;
	enum m2m_err err;

	if (hs->state != PROTO_MOD_HELLO_SENT && hs->state != PROTO_MOD_AUTH_SENT)
		return M2M_E_PROTO_STATE;
	if (!hs_live(ctx, hs))
		return M2M_E_PROTO_STALE;
	if ((err = proto_challenge_decode(pkt, len, &ch)) != M2M_OK)
		return err;
	if ((err = proto_sha256(hs->hello, hs->hello_len, pkt, len, NULL, 0, k.th2)) != M2M_OK)
		return err;
	/* Before any ECDH: a replayed CHALLENGE costs one hash. */
	if (answered(hs, k.th2, &hs->last))
		return M2M_E_PROTO_ANSWERED;
	err = proto_auth_layout(c->identity_len, data_len, cap, &c1_off, &c2_off, &total);
	if (err != M2M_OK)
		return err;
	if ((err = same_data(hs, data, data_len)) != M2M_OK)
		return err;
	/* Decoded once for DH3 and DH2: one square root, not two. */
	if ((err = proto_p256_decompress(ctx, ch.e_s, PROTO_POINT_LEN, e_s)) == M2M_OK)
		err = seal_auth(ctx, hs, c, &ch, e_s, &k, data, data_len, out, c1_off, c2_off);
	if (err == M2M_OK) {
		hs->last = hs->next;
		hs->cand[hs->last] = k;
		hs->next = (hs->next + 1) % PROTO_MOD_CANDIDATES;
		if (hs->n_cand < PROTO_MOD_CANDIDATES)
			hs->n_cand++;
		hs->state = PROTO_MOD_AUTH_SENT;
		*outlen = total;
	}
	proto_wipe(&k, sizeof(k));
	return err;
}

/* Opens C3 with candidate k's K3. */
static enum m2m_err
open_welcome(struct proto_ctx *ctx, const struct proto_mod_cand *k, const uint8_t *pkt,
    const struct proto_welcome *m, uint8_t *pt)
{
	struct sched_key k3;
	enum m2m_err err;

	err = proto_sched_expand(ctx, k->prk2, SCHED_LABEL_K3, k->th4, &k3);
	if (err == M2M_OK)
		err = proto_aead_open(ctx, k3.key, k3.iv, pkt, PROTO_HDR_LEN + PROTO_SESSION_ID_LEN,
		    m->c3, m->c3_len, pt);
	proto_wipe(&k3, sizeof(k3));
	return err;
}

enum m2m_err
proto_mod_welcome(struct proto_ctx *ctx, struct proto_mod_hs *hs, const uint8_t *pkt,
    size_t len, struct proto_session *s, uint8_t *pt, struct proto_welcome_pt *w)
{
	struct proto_welcome m;
	const struct proto_mod_cand *k = NULL;
	enum m2m_err err;

	if (hs->state != PROTO_MOD_AUTH_SENT)
		return M2M_E_PROTO_STATE;
	if (!hs_live(ctx, hs))
		return M2M_E_PROTO_STALE;
	if ((err = proto_welcome_decode(pkt, len, &m)) != M2M_OK)
		return err;
	/* An AEAD open per candidate: cheap next to the ECDH of a CHALLENGE. */
	for (unsigned i = 0; i < hs->n_cand && k == NULL; i++) {
		if ((err = open_welcome(ctx, &hs->cand[i], pkt, &m, pt)) == M2M_OK)
			k = &hs->cand[i];
		else if (err != M2M_E_PROTO_DECRYPT)
			return err;
	}
	if (k == NULL)
		return M2M_E_PROTO_DECRYPT;
	if ((err = proto_welcome_pt_decode(pt, m.c3_len - PROTO_TAG_LEN, w)) != M2M_OK)
		return err;
	err = proto_session_init(ctx, s, PROTO_ROLE_MODULE, m.session_id, k->prk2, k->th4);
	if (err != M2M_OK)
		return err;
	proto_mod_hs_wipe(hs);
	hs->state = PROTO_MOD_ESTABLISHED;
	return M2M_OK;
}

void
proto_mod_hs_wipe(struct proto_mod_hs *hs)
{
	proto_wipe(hs, sizeof(*hs));
}
