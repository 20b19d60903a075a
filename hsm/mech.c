/* SPDX-License-Identifier: Apache-2.0 */
/* Whether the token can do what we ask before we ask: a missing mechanism
 * is reported once, by name, instead of on every handshake. */
#include "config.h"

#include "hsm/hsm_int.h"

static enum m2m_err
mech_has(struct hsm *h, CK_MECHANISM_TYPE m, CK_FLAGS need, const char *name,
    char *err, size_t errlen)
{
	CK_MECHANISM_INFO mi;
	CK_RV rv;

	rv = h->f->C_GetMechanismInfo(h->slot, m, &mi);
	if (rv == CKR_MECHANISM_INVALID || (rv == CKR_OK && (mi.flags & need) != need)) {
		hsm_detail(err, errlen, "token %s does not support %s (%s)", h->name, name,
		    rv == CKR_OK ? "flags" : hsm_ckr_name(rv));
		return M2M_E_HSM_MECHANISM;
	}
	if (rv != CKR_OK)
		return hsm_ckr_fail(M2M_E_HSM_PKCS11, rv, err, errlen, "C_GetMechanismInfo");
	return M2M_OK;
}

enum m2m_err
hsm_mech_check(struct hsm *h, CK_MECHANISM_TYPE m, char *err, size_t errlen)
{
	if (m == CKM_ECDH1_DERIVE)
		return mech_has(h, m, CKF_DERIVE, "CKM_ECDH1_DERIVE", err, errlen);
	return mech_has(h, m, CKF_GENERATE_KEY_PAIR, "CKM_EC_KEY_PAIR_GEN", err, errlen);
}
