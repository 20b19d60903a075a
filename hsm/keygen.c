/* SPDX-License-Identifier: Apache-2.0 */
/* Server key generation inside the token: the private half can derive and
 * nothing else, and can never leave (sensitive, not extractable). */
#include "config.h"

#include "hsm/hsm_int.h"

#include <stdio.h>
#include <string.h>

#include "src/proto/proto.h"

static const uint8_t p256_oid[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

static CK_RV
generate(struct hsm *h, const char *label, const uint8_t *id, size_t idlen,
    CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	CK_MECHANISM mech = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_BBOOL t = CK_TRUE, f = CK_FALSE;
	CK_ULONG llen = strlen(label);
	CK_ATTRIBUTE pubt[] = {
		{ CKA_TOKEN, &t, sizeof(t) }, { CKA_PRIVATE, &f, sizeof(f) },
		{ CKA_VERIFY, &f, sizeof(f) }, { CKA_ENCRYPT, &f, sizeof(f) },
		{ CKA_EC_PARAMS, (void *)p256_oid, sizeof(p256_oid) },
		{ CKA_LABEL, (void *)label, llen }, { CKA_ID, (void *)id, idlen },
	};
	CK_ATTRIBUTE privt[] = {
		{ CKA_TOKEN, &t, sizeof(t) }, { CKA_PRIVATE, &t, sizeof(t) },
		{ CKA_SENSITIVE, &t, sizeof(t) }, { CKA_EXTRACTABLE, &f, sizeof(f) },
		{ CKA_DERIVE, &t, sizeof(t) }, { CKA_SIGN, &f, sizeof(f) },
		{ CKA_DECRYPT, &f, sizeof(f) }, { CKA_UNWRAP, &f, sizeof(f) },
		{ CKA_LABEL, (void *)label, llen }, { CKA_ID, (void *)id, idlen },
	};
	CK_ULONG npub = sizeof(pubt) / sizeof(pubt[0]), npriv = sizeof(privt) / sizeof(privt[0]);

	/* No id yet: it becomes the protocol key id once the point is known. */
	if (id == NULL) {
		npub--;
		npriv--;
	}
	return h->f->C_GenerateKeyPair(h->admin, &mech, pubt, npub, privt, npriv, pub, priv);
}

static CK_RV
set_id(struct hsm *h, CK_OBJECT_HANDLE o, const uint8_t *id, size_t len)
{
	CK_ATTRIBUTE a = { CKA_ID, (void *)id, len };

	return h->f->C_SetAttributeValue(h->admin, o, &a, 1);
}

/* Two keys with one label would make --key ambiguous; refuse up front. */
static enum m2m_err
exists(struct hsm *h, const char *label, const uint8_t *id, size_t idlen, char *err,
    size_t errlen)
{
	struct hsm_keysel bylabel = { .has_label = 1 }, byid = { .has_id = 1, .id_len = idlen };
	CK_OBJECT_HANDLE o;

	snprintf(bylabel.label, sizeof(bylabel.label), "%s", label);
	if (id != NULL)
		memcpy(byid.id, id, idlen);
	if (hsm_key_lookup(h, h->admin, &bylabel, CKO_PRIVATE_KEY, &o, NULL, 0) == M2M_OK ||
	    (id != NULL && hsm_key_lookup(h, h->admin, &byid, CKO_PRIVATE_KEY, &o, NULL, 0) ==
	    M2M_OK)) {
		hsm_detail(err, errlen, "token %s already holds a key labelled '%s' or with "
		    "that id", h->name, label);
		return M2M_E_HSM_KEY_EXISTS;
	}
	return M2M_OK;
}

enum m2m_err
hsm_keygen(struct hsm *h, const char *label, const uint8_t *id, size_t idlen,
    struct hsm_key_info *info, char *err, size_t errlen)
{
	CK_OBJECT_HANDLE pub, priv;
	struct hsm_key_info tmp;
	enum m2m_err e;
	CK_RV rv;

	if (strlen(label) == 0 || strlen(label) > HSM_LABEL_MAX || idlen > HSM_CKA_ID_MAX) {
		hsm_detail(err, errlen, "label: 1 to %d bytes; id: at most %d bytes",
		    HSM_LABEL_MAX, HSM_CKA_ID_MAX);
		return M2M_E_INVALID_ARG;
	}
	if ((e = exists(h, label, id, idlen, err, errlen)) != M2M_OK ||
	    (e = hsm_mech_check(h, CKM_EC_KEY_PAIR_GEN, err, errlen)) != M2M_OK)
		return e;
	if ((rv = generate(h, label, id, idlen, &pub, &priv)) != CKR_OK)
		return hsm_ckr_fail(M2M_E_HSM_PKCS11, rv, err, errlen, "C_GenerateKeyPair");
	if (id == NULL) {
		/* Read the point back through the public object, found by handle. */
		CK_ATTRIBUTE a = { CKA_EC_POINT, NULL, 0 };
		uint8_t der[80], kid[HSM_KEY_ID_LEN], pt[HSM_POINT_LEN];

		a.pValue = der;
		a.ulValueLen = sizeof(der);
		rv = h->f->C_GetAttributeValue(h->admin, pub, &a, 1);
		if (rv != CKR_OK || hsm_ec_point_compress(der, a.ulValueLen, pt) != M2M_OK ||
		    proto_key_id(pt, kid) != M2M_OK)
			return hsm_ckr_fail(M2M_E_HSM_PKCS11, rv, err, errlen, "reading CKA_EC_POINT");
		if ((rv = set_id(h, pub, kid, sizeof(kid))) != CKR_OK ||
		    (rv = set_id(h, priv, kid, sizeof(kid))) != CKR_OK)
			return hsm_ckr_fail(M2M_E_HSM_PKCS11, rv, err, errlen, "setting CKA_ID");
	}
	hsm_key_info_read(h, h->admin, priv, info != NULL ? info : &tmp);
	return M2M_OK;
}
