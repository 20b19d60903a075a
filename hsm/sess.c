/* SPDX-License-Identifier: Apache-2.0 */
/* A raw PKCS#11 session with the handles of the served keys, and ECDH on
 * it: CKM_ECDH1_DERIVE into a session object, read, destroyed. */
#include "config.h"

#include "hsm/hsm_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

enum m2m_err
hsm_sess_open(struct hsm *h, struct hsm_sess *ss, char *err, size_t errlen)
{
	enum m2m_err e;
	size_t i;
	CK_RV rv;

	ss->s = CK_INVALID_HANDLE;
	if (ss->objs == NULL && (ss->objs = calloc(h->nkeys, sizeof(*ss->objs))) == NULL)
		return M2M_E_NOMEM;
	rv = h->f->C_OpenSession(h->slot, CKF_SERIAL_SESSION, NULL, NULL, &ss->s);
	if (rv != CKR_OK) {
		ss->s = CK_INVALID_HANDLE;
		return hsm_ckr_fail(M2M_E_HSM_TOKEN_FAILED, rv, err, errlen, "C_OpenSession");
	}
	if ((e = hsm_login(h, ss->s, err, errlen)) != M2M_OK)
		goto fail;
	/* Handles are looked up again on every new session: after a token
	 * reset, the old ones may name nothing or something else. */
	for (i = 0; i < h->nkeys; i++) {
		struct hsm_keysel sel = { .has_id = 1, .id_len = h->keys[i].id_len };

		memcpy(sel.id, h->keys[i].id, sel.id_len);
		if ((e = hsm_key_lookup(h, ss->s, &sel, CKO_PRIVATE_KEY, &ss->objs[i], err,
		    errlen)) != M2M_OK)
			goto fail;
	}
	return M2M_OK;
fail:
	hsm_sess_close(h, ss);
	return e;
}

void
hsm_sess_close(struct hsm *h, struct hsm_sess *ss)
{
	if (ss->s != CK_INVALID_HANDLE)
		h->f->C_CloseSession(ss->s);
	ss->s = CK_INVALID_HANDLE;
}

static CK_RV
derive_raw(struct hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key, uint8_t *peer,
    size_t peerlen, uint8_t secret[HSM_SECRET_LEN])
{
	CK_ECDH1_DERIVE_PARAMS p = { CKD_NULL, 0, NULL, peerlen, peer };
	CK_MECHANISM m = { CKM_ECDH1_DERIVE, &p, sizeof(p) };
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
	CK_ULONG vlen = HSM_SECRET_LEN;
	CK_BBOOL t = CK_TRUE, f = CK_FALSE;
	/* A session object, readable so that the secret reaches us; not
	 * CKA_PRIVATE, which spares SoftHSM2 encrypting a value we read at once
	 * and destroy (about 20% of a derive, measured). */
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) }, { CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_VALUE_LEN, &vlen, sizeof(vlen) }, { CKA_TOKEN, &f, sizeof(f) },
		{ CKA_PRIVATE, &f, sizeof(f) }, { CKA_SENSITIVE, &f, sizeof(f) },
		{ CKA_EXTRACTABLE, &t, sizeof(t) },
	};
	CK_ATTRIBUTE val = { CKA_VALUE, secret, HSM_SECRET_LEN };
	CK_OBJECT_HANDLE obj;
	CK_RV rv;

	rv = h->f->C_DeriveKey(s, &m, key, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), &obj);
	if (rv != CKR_OK)
		return rv;
	rv = h->f->C_GetAttributeValue(s, obj, &val, 1);
	if (rv == CKR_OK && val.ulValueLen != HSM_SECRET_LEN)
		rv = CKR_GENERAL_ERROR;
	h->f->C_DestroyObject(s, obj);
	return rv;
}

enum m2m_err
hsm_sess_derive(struct hsm *h, struct hsm_sess *ss, const uint8_t key_id[HSM_KEY_ID_LEN],
    const uint8_t *peer, size_t peer_len, uint8_t secret[HSM_SECRET_LEN], CK_RV *rv,
    char *err, size_t errlen)
{
	uint8_t full[65];
	size_t i;

	*rv = CKR_OK;
	for (i = 0; i < h->nkeys; i++)
		if (memcmp(h->keys[i].key_id, key_id, HSM_KEY_ID_LEN) == 0)
			break;
	if (i == h->nkeys) {
		hsm_detail(err, errlen, "no served key has key id %02x%02x%02x%02x",
		    key_id[0], key_id[1], key_id[2], key_id[3]);
		return M2M_E_HSM_KEY_NOT_FOUND;
	}
	/* Tokens differ on compressed points; the uncompressed form is the one
	 * PKCS#11 requires them all to take, and decoding it checks the point. */
	if (hsm_ec_point_expand(peer, peer_len, full) != M2M_OK) {
		hsm_detail(err, errlen, "peer point is not on P-256");
		return M2M_E_HSM_PEER;
	}
	*rv = derive_raw(h, ss->s, ss->objs[i], full, sizeof(full), secret);
	if (*rv == CKR_OK)
		return M2M_OK;
	OPENSSL_cleanse(secret, HSM_SECRET_LEN);
	if (*rv == CKR_MECHANISM_INVALID)
		return hsm_ckr_fail(M2M_E_HSM_MECHANISM, *rv, err, errlen, "C_DeriveKey (ECDH)");
	if (*rv == CKR_KEY_TYPE_INCONSISTENT || *rv == CKR_KEY_FUNCTION_NOT_PERMITTED)
		return hsm_ckr_fail(M2M_E_HSM_KEY_NO_DERIVE, *rv, err, errlen, "C_DeriveKey");
	return hsm_ckr_fail(hsm_ckr_is_token_failure(*rv) ? M2M_E_HSM_TOKEN_FAILED :
	    M2M_E_HSM_PKCS11, *rv, err, errlen, "C_DeriveKey");
}
