/* SPDX-License-Identifier: Apache-2.0 */
/* Finding keys: by label or CKA_ID (C_FindObjects on a raw session, since
 * libp11 0.4 exposes neither object handles nor CKA_DERIVE), and listing. */
#include "config.h"

#include "hsm/hsm_int.h"

#include <stdio.h>
#include <string.h>

#define HSM_FIND_MAX	64

/* Up to max objects of class cls (and, if sel, its label/id). */
static enum m2m_err
find(struct hsm *h, CK_SESSION_HANDLE s, const struct hsm_keysel *sel, CK_OBJECT_CLASS cls,
    CK_OBJECT_HANDLE *objs, size_t max, size_t *n, char *err, size_t errlen)
{
	CK_ATTRIBUTE t[3] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_ULONG nt = 1, got = 0;
	CK_RV rv;

	if (sel != NULL && sel->has_label)
		t[nt++] = (CK_ATTRIBUTE){ CKA_LABEL, (void *)sel->label, strlen(sel->label) };
	if (sel != NULL && sel->has_id)
		t[nt++] = (CK_ATTRIBUTE){ CKA_ID, (void *)sel->id, sel->id_len };
	if ((rv = h->f->C_FindObjectsInit(s, t, nt)) != CKR_OK)
		return hsm_ckr_fail(hsm_ckr_is_token_failure(rv) ? M2M_E_HSM_TOKEN_FAILED :
		    M2M_E_HSM_PKCS11, rv, err, errlen, "C_FindObjectsInit");
	rv = h->f->C_FindObjects(s, objs, max, &got);
	h->f->C_FindObjectsFinal(s);
	if (rv != CKR_OK)
		return hsm_ckr_fail(hsm_ckr_is_token_failure(rv) ? M2M_E_HSM_TOKEN_FAILED :
		    M2M_E_HSM_PKCS11, rv, err, errlen, "C_FindObjects");
	*n = got;
	return M2M_OK;
}

static void
sel_name(const struct hsm_keysel *sel, char *buf, size_t len)
{
	size_t i, o;

	if (sel->has_label) {
		snprintf(buf, len, "'%s'", sel->label);
		return;
	}
	o = (size_t)snprintf(buf, len, "id:");
	for (i = 0; i < sel->id_len && o + 3 <= len; i++, o += 2)
		snprintf(buf + o, len - o, "%02x", sel->id[i]);
}

enum m2m_err
hsm_key_lookup(struct hsm *h, CK_SESSION_HANDLE s, const struct hsm_keysel *sel,
    CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *obj, char *err, size_t errlen)
{
	char name[80];
	size_t n;
	enum m2m_err e;

	if ((e = find(h, s, sel, cls, obj, 1, &n, err, errlen)) != M2M_OK)
		return e;
	if (n == 0) {
		sel_name(sel, name, sizeof(name));
		hsm_detail(err, errlen, "no %s key %s in token %s (m2mctl hsm list shows them)",
		    cls == CKO_PRIVATE_KEY ? "private" : "public", name, h->name);
		return M2M_E_HSM_KEY_NOT_FOUND;
	}
	return M2M_OK;
}

enum m2m_err
hsm_key_list(struct hsm *h, struct hsm_key_info *keys, size_t max, size_t *n,
    char *err, size_t errlen)
{
	CK_OBJECT_HANDLE objs[HSM_FIND_MAX];
	size_t i, got;
	enum m2m_err e;

	if ((e = find(h, h->admin, NULL, CKO_PRIVATE_KEY, objs, HSM_FIND_MAX, &got, err,
	    errlen)) != M2M_OK)
		return e;
	*n = 0;
	for (i = 0; i < got && *n < max; i++)
		if (hsm_key_info_read(h, h->admin, objs[i], &keys[*n]) == M2M_OK)
			(*n)++;
	return M2M_OK;
}

enum m2m_err
hsm_key_find(struct hsm *h, const char *selstr, struct hsm_key_info *info,
    char *err, size_t errlen)
{
	struct hsm_keysel sel = h->sel;
	CK_OBJECT_HANDLE obj;
	enum m2m_err e;

	if (selstr != NULL && (e = hsm_keysel_parse(selstr, &sel, err, errlen)) != M2M_OK)
		return e;
	if (!sel.has_label && !sel.has_id) {
		hsm_detail(err, errlen, "no key named: --key LABEL or id:HEX, or object= in the token URI");
		return M2M_E_INVALID_ARG;
	}
	if ((e = hsm_key_lookup(h, h->admin, &sel, CKO_PRIVATE_KEY, &obj, err, errlen)) != M2M_OK)
		return e;
	hsm_key_info_read(h, h->admin, obj, info);
	return hsm_key_usable(info, err, errlen);
}
