/* SPDX-License-Identifier: Apache-2.0 */
/* Re-opening the module after the token went away: C_Finalize, then what
 * hsm_open did (C_Initialize through libp11, the token found again by the
 * same label, serial or URI, the admin session and its login) and a check
 * that every served key is still there. A token that comes back from a
 * device removal, a reboot or a storage outage needs all of it: SoftHSM2,
 * for one, fails every C_OpenSession until it is initialized again. */
#include "config.h"

#include "hsm/hsm_int.h"

/* libp11 keeps what it loaded for a module whose C_Initialize fails, and
 * its context does not give it back (a few hundred bytes for each attempt
 * of an outage). The module answers through our own function list first
 * (hsm_module_load keeps it mapped); libp11 loads it only once it can
 * initialize. */
static enum m2m_err
probe(struct hsm *h, char *err, size_t errlen)
{
	CK_RV rv = h->f->C_Initialize(NULL);

	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
		return hsm_ckr_fail(M2M_E_HSM_MODULE_INIT, rv, err, errlen, "C_Initialize");
	h->f->C_Finalize(NULL);
	return M2M_OK;
}

static enum m2m_err
reopen_locked(struct hsm *h, char *err, size_t errlen)
{
	enum m2m_err e;

	hsm_p11_unload(h);
	if ((e = probe(h, err, errlen)) != M2M_OK ||
	    (e = hsm_p11_load(h, h->module_path, err, errlen)) != M2M_OK ||
	    (e = hsm_token_select(h, &h->uri, h->token_plain, err, errlen)) != M2M_OK ||
	    (e = hsm_admin_open(h, err, errlen)) != M2M_OK ||
	    (e = hsm_keys_present(h, err, errlen)) != M2M_OK)
		return e;
	return M2M_OK;
}

enum m2m_err
hsm_reopen(struct hsm *h, uint64_t *gen, char *err, size_t errlen)
{
	enum m2m_err e;

	pthread_rwlock_wrlock(&h->use);
	e = reopen_locked(h, err, errlen);
	/* Whatever the outcome, every session from before is gone. */
	*gen = ++h->gen;
	pthread_rwlock_unlock(&h->use);
	return e;
}
