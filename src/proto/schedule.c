/* SPDX-License-Identifier: Apache-2.0 */
/* The key schedule: TH2 -> PRK1 -> K1 (identity), TH3 -> PRK2 -> K2 (first
 * data), TH4 -> K3 (WELCOME) and the per-direction session keys. */
#include "config.h"

#include "src/proto/schedule.h"

#include <string.h>

static enum m2m_err
expand_key(struct proto_ctx *ctx, const uint8_t prk[PROTO_HASH_LEN], const char *label,
    const uint8_t *th, struct sched_key *k)
{
	uint8_t info[16 + PROTO_HASH_LEN], okm[PROTO_KEY_LEN + PROTO_IV_LEN];
	size_t llen = strlen(label), ilen = llen;
	enum m2m_err err;

	memcpy(info, label, llen);
	if (th != NULL) {
		memcpy(info + llen, th, PROTO_HASH_LEN);
		ilen += PROTO_HASH_LEN;
	}
	err = proto_hkdf_expand(ctx, prk, PROTO_HASH_LEN, info, ilen, okm, sizeof(okm));
	if (err == M2M_OK) {
		memcpy(k->key, okm, PROTO_KEY_LEN);
		memcpy(k->iv, okm + PROTO_KEY_LEN, PROTO_IV_LEN);
	}
	proto_wipe(okm, sizeof(okm));
	return err;
}

enum m2m_err
proto_sched_k1(struct proto_ctx *ctx, const uint8_t th2[PROTO_HASH_LEN],
    const uint8_t dh1[PROTO_DH_LEN], const uint8_t dh3[PROTO_DH_LEN],
    uint8_t prk1[PROTO_HASH_LEN], struct sched_key *k1)
{
	uint8_t ikm[2 * PROTO_DH_LEN];
	enum m2m_err err;

	memcpy(ikm, dh1, PROTO_DH_LEN);
	memcpy(ikm + PROTO_DH_LEN, dh3, PROTO_DH_LEN);
	err = proto_hkdf_extract(ctx, th2, PROTO_HASH_LEN, ikm, sizeof(ikm), prk1);
	proto_wipe(ikm, sizeof(ikm));
	if (err != M2M_OK)
		return err;
	return expand_key(ctx, prk1, SCHED_LABEL_K1, NULL, k1);
}

enum m2m_err
proto_sched_k2(struct proto_ctx *ctx, const uint8_t prk1[PROTO_HASH_LEN],
    const uint8_t dh2[PROTO_DH_LEN], const uint8_t th3[PROTO_HASH_LEN],
    uint8_t prk2[PROTO_HASH_LEN], struct sched_key *k2)
{
	enum m2m_err err;

	err = proto_hkdf_extract(ctx, prk1, PROTO_HASH_LEN, dh2, PROTO_DH_LEN, prk2);
	if (err != M2M_OK)
		return err;
	return expand_key(ctx, prk2, SCHED_LABEL_K2, th3, k2);
}

enum m2m_err
proto_sched_expand(struct proto_ctx *ctx, const uint8_t prk2[PROTO_HASH_LEN],
    const char *label, const uint8_t th4[PROTO_HASH_LEN], struct sched_key *k)
{
	return expand_key(ctx, prk2, label, th4, k);
}
