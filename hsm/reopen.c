/* Re-opening the module after the token went away: C_Finalize, then what
 * hsm_open did (C_Initialize through libp11, the token found again by the
 * same label, serial or URI, the admin session and its login) and a check
 * that every served key is still there. A token that comes back from a
 * device removal, a reboot or a storage outage needs all of it: SoftHSM2,
 * for one, fails every C_OpenSession until it is initialized again. */
#include "config.h"

#include "hsm/hsm_int.h"

static enum m2m_err
reopen_locked(struct hsm *h, char *err, size_t errlen)
{
	enum m2m_err e;

	hsm_p11_unload(h);
	if ((e = hsm_p11_load(h, h->module_path, err, errlen)) != M2M_OK ||
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
