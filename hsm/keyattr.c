/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a key's attributes: what `list` shows and what decides whether
 * the key can serve (P-256, CKA_DERIVE, public half present). */
#include "config.h"

#include "hsm/hsm_int.h"

#include <string.h>

#include "src/proto/proto.h"

/* DER OID 1.2.840.10045.3.1.7, prime256v1: CKA_EC_PARAMS of a P-256 key. */
static const uint8_t p256_oid[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

/* One attribute; *len in: room, out: size. Fails for sensitive values. */
static CK_RV
attr(struct hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t,
    void *buf, size_t *len)
{
	CK_ATTRIBUTE a = { t, buf, *len };
	CK_RV rv = h->f->C_GetAttributeValue(s, o, &a, 1);

	*len = rv == CKR_OK ? a.ulValueLen : 0;
	return rv;
}

static int
flag(struct hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE t)
{
	CK_BBOOL b = CK_FALSE;
	size_t len = sizeof(b);

	return attr(h, s, o, t, &b, &len) == CKR_OK && len == sizeof(b) && b == CK_TRUE;
}

static void
read_pub(struct hsm *h, CK_SESSION_HANDLE s, struct hsm_key_info *k)
{
	struct hsm_keysel sel = { .id_len = k->id_len, .has_id = 1 };
	CK_OBJECT_HANDLE pub;
	uint8_t der[80];
	size_t len = sizeof(der);

	memcpy(sel.id, k->id, k->id_len);
	if (k->id_len == 0 ||
	    hsm_key_lookup(h, s, &sel, CKO_PUBLIC_KEY, &pub, NULL, 0) != M2M_OK ||
	    attr(h, s, pub, CKA_EC_POINT, der, &len) != CKR_OK ||
	    hsm_ec_point_compress(der, len, k->pub) != M2M_OK ||
	    proto_key_id(k->pub, k->key_id) != M2M_OK)
		return;
	k->has_pub = 1;
}

enum m2m_err
hsm_key_info_read(struct hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv,
    struct hsm_key_info *k)
{
	CK_KEY_TYPE type = 0;
	uint8_t params[32];
	size_t len;

	memset(k, 0, sizeof(*k));
	len = sizeof(k->label) - 1;
	attr(h, s, priv, CKA_LABEL, k->label, &len);
	k->label[len] = '\0';
	len = sizeof(k->id);
	attr(h, s, priv, CKA_ID, k->id, &len);
	k->id_len = len;
	len = sizeof(type);
	attr(h, s, priv, CKA_KEY_TYPE, &type, &len);
	len = sizeof(params);
	attr(h, s, priv, CKA_EC_PARAMS, params, &len);
	k->p256 = type == CKK_EC && len == sizeof(p256_oid) && memcmp(params, p256_oid, len) == 0;
	k->derive = flag(h, s, priv, CKA_DERIVE);
	k->sensitive = flag(h, s, priv, CKA_SENSITIVE);
	k->extractable = flag(h, s, priv, CKA_EXTRACTABLE);
	k->token = flag(h, s, priv, CKA_TOKEN);
	k->private_ = flag(h, s, priv, CKA_PRIVATE);
	if (k->p256)
		read_pub(h, s, k);
	return M2M_OK;
}

enum m2m_err
hsm_key_usable(const struct hsm_key_info *k, char *err, size_t errlen)
{
	if (!k->p256 || !k->has_pub) {
		hsm_detail(err, errlen, "key '%s' is %s", k->label, k->p256 ?
		    "P-256 but has no public key object with the same CKA_ID" : "not a P-256 EC key");
		return M2M_E_HSM_KEY_TYPE;
	}
	if (!k->derive) {
		hsm_detail(err, errlen, "key '%s' has CKA_DERIVE false: not usable for ECDH "
		    "(create server keys with m2mctl hsm keygen)", k->label);
		return M2M_E_HSM_KEY_NO_DERIVE;
	}
	return M2M_OK;
}
