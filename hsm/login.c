/* SPDX-License-Identifier: Apache-2.0 */
/* Logging in: at most one C_Login per failure of the token, never a second
 * one after a wrong or locked PIN, so a bad PIN file cannot lock the token.
 * Raw C_Login because libp11's PKCS11_login keeps a copy of the PIN for the
 * life of the slot, and the PIN must be wiped right after login. */
#include "config.h"

#include "hsm/hsm_int.h"

#include <string.h>

#include <openssl/crypto.h>

static int
logged_in(struct hsm *h, CK_SESSION_HANDLE s)
{
	CK_SESSION_INFO si;

	if (h->f->C_GetSessionInfo(s, &si) != CKR_OK)
		return 0;
	return si.state == CKS_RO_USER_FUNCTIONS || si.state == CKS_RW_USER_FUNCTIONS;
}

static enum m2m_err
login_result(struct hsm *h, CK_RV rv, char *err, size_t errlen)
{
	enum m2m_err e;

	switch (rv) {
	case CKR_OK:
	case CKR_USER_ALREADY_LOGGED_IN:
		return M2M_OK;
	case CKR_PIN_INCORRECT:
	case CKR_PIN_LEN_RANGE:
		e = M2M_E_HSM_PIN_WRONG;
		hsm_detail(h->login_detail, sizeof(h->login_detail), "token %s: wrong PIN (%s); "
		    "one attempt was made and none will be retried, so the token is not locked",
		    h->name, hsm_ckr_name(rv));
		break;
	case CKR_PIN_LOCKED:
		e = M2M_E_HSM_PIN_LOCKED;
		hsm_detail(h->login_detail, sizeof(h->login_detail), "token %s: the user PIN is "
		    "locked (CKR_PIN_LOCKED); the SO must unlock it", h->name);
		break;
	default:
		return hsm_ckr_fail(M2M_E_HSM_LOGIN, rv, err, errlen, "C_Login");
	}
	h->login_dead = e;
	hsm_detail(err, errlen, "%s", h->login_detail);
	return e;
}

static enum m2m_err
login_once(struct hsm *h, CK_SESSION_HANDLE s, char *err, size_t errlen)
{
	CK_TOKEN_INFO ti;
	char pin[HSM_PIN_MAX];
	enum m2m_err e;
	CK_RV rv;

	rv = h->f->C_GetTokenInfo(h->slot, &ti);
	if (rv != CKR_OK)
		return hsm_ckr_fail(M2M_E_HSM_TOKEN_FAILED, rv, err, errlen, "C_GetTokenInfo");
	if (ti.flags & CKF_USER_PIN_LOCKED)
		return login_result(h, CKR_PIN_LOCKED, err, errlen);
	if ((e = hsm_pin_read(h->pin_file, pin, sizeof(pin), err, errlen)) != M2M_OK)
		return e;
	rv = h->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
	OPENSSL_cleanse(pin, sizeof(pin));
	return login_result(h, rv, err, errlen);
}

enum m2m_err
hsm_login(struct hsm *h, CK_SESSION_HANDLE s, char *err, size_t errlen)
{
	enum m2m_err e = M2M_OK;

	pthread_mutex_lock(&h->login_lock);
	if (h->login_dead) {
		e = h->login_dead;
		hsm_detail(err, errlen, "%s", h->login_detail);
	} else if (!logged_in(h, s))
		e = login_once(h, s, err, errlen);
	pthread_mutex_unlock(&h->login_lock);
	return e;
}
