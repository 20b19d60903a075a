/* SPDX-License-Identifier: Apache-2.0 */
/* The keys sessions serve, resolved once: the configured one, or every
 * usable P-256 key (several are live during a rotation), by protocol key id. */
#include "config.h"

#include "hsm/hsm_int.h"

#include <stdlib.h>
#include <string.h>

#define HSM_SERVE_MAX	16

static void
add(struct hsm *h, const struct hsm_key_info *k)
{
	struct hsm_srvkey *sk = &h->keys[h->nkeys++];

	memcpy(sk->key_id, k->key_id, sizeof(sk->key_id));
	memcpy(sk->id, k->id, k->id_len);
	sk->id_len = k->id_len;
	memcpy(sk->label, k->label, sizeof(sk->label));
}

static enum m2m_err
all_usable(struct hsm *h, char *err, size_t errlen)
{
	struct hsm_key_info keys[HSM_SERVE_MAX];
	size_t i, n;
	enum m2m_err e;

	if ((e = hsm_key_list(h, keys, HSM_SERVE_MAX, &n, err, errlen)) != M2M_OK)
		return e;
	for (i = 0; i < n; i++)
		if (keys[i].id_len > 0 && hsm_key_usable(&keys[i], NULL, 0) == M2M_OK)
			add(h, &keys[i]);
	if (h->nkeys == 0) {
		hsm_detail(err, errlen, "token %s holds no usable P-256 derive key (%zu private "
		    "keys; m2mctl hsm list)", h->name, n);
		return M2M_E_HSM_KEY_NOT_FOUND;
	}
	return M2M_OK;
}

enum m2m_err
hsm_keys_resolve(struct hsm *h, char *err, size_t errlen)
{
	struct hsm_key_info k;
	enum m2m_err e;

	if (h->keys != NULL)
		return M2M_OK;
	if ((e = hsm_mech_check(h, CKM_ECDH1_DERIVE, err, errlen)) != M2M_OK)
		return e;
	if ((h->keys = calloc(HSM_SERVE_MAX, sizeof(*h->keys))) == NULL)
		return M2M_E_NOMEM;
	if (h->sel.has_label || h->sel.has_id) {
		e = hsm_key_find(h, NULL, &k, err, errlen);
		if (e == M2M_OK && k.id_len == 0) {
			hsm_detail(err, errlen, "key '%s' has no CKA_ID", k.label);
			e = M2M_E_HSM_KEY_TYPE;
		}
		if (e == M2M_OK)
			add(h, &k);
	} else
		e = all_usable(h, err, errlen);
	if (e != M2M_OK) {
		free(h->keys);
		h->keys = NULL;
		h->nkeys = 0;
	}
	return e;
}

enum m2m_err
hsm_keys_present(struct hsm *h, char *err, size_t errlen)
{
	CK_OBJECT_HANDLE obj;
	enum m2m_err e;
	size_t i;

	for (i = 0; i < h->nkeys; i++) {
		struct hsm_keysel sel = { .has_id = 1, .id_len = h->keys[i].id_len };

		memcpy(sel.id, h->keys[i].id, sel.id_len);
		if ((e = hsm_key_lookup(h, h->admin, &sel, CKO_PRIVATE_KEY, &obj, err,
		    errlen)) != M2M_OK)
			return e;
	}
	return M2M_OK;
}
