/* SPDX-License-Identifier: Apache-2.0 */
/* Loading a PKCS#11 module by path: our own dlopen first, for the dlopen
 * reason and the function list, then libp11 loads and initializes it.
 * Our reference keeps the module mapped when libp11 unloads it to
 * re-initialize (hsm_reopen), so the function list stays valid. */
#include "config.h"

#include "hsm/hsm_int.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* C_Initialize has no return value for "permission denied" (SoftHSM2 says
 * CKR_GENERAL_ERROR when its configuration or token directory cannot be
 * read); errno, left by the failing open, and the module's files can. */
static void
init_failed(const char *path, int saved_errno, char *err, size_t errlen)
{
	char why[256], hint[1024], user[96];

	hsm_p11_last_error(why, sizeof(why));
	if (hsm_access_hint(path, hint, sizeof(hint)))
		hsm_detail(err, errlen, "PKCS#11 module %s failed to initialize: %s; %s", path, why,
		    hint);
	else if (saved_errno == EACCES || saved_errno == EPERM)
		hsm_detail(err, errlen, "PKCS#11 module %s failed to initialize: %s; a file access "
		    "was refused (%s): check that user %s can read the module's configuration and "
		    "token files", path, why, strerror(saved_errno),
		    hsm_user_name(user, sizeof(user)));
	else
		hsm_detail(err, errlen, "PKCS#11 module %s failed to initialize: %s", path, why);
}

enum m2m_err
hsm_p11_load(struct hsm *h, const char *path, char *err, size_t errlen)
{
	/* A fresh context each time: libp11 0.4 keeps copies of the module's
	 * strings per load, which a reused context would leak. */
	if ((h->ctx = PKCS11_CTX_new()) == NULL)
		return M2M_E_NOMEM;
	errno = 0;
	if (PKCS11_CTX_load(h->ctx, path) != 0) {
		init_failed(path, errno, err, errlen);
		PKCS11_CTX_free(h->ctx);
		h->ctx = NULL;
		return M2M_E_HSM_MODULE_INIT;
	}
	return M2M_OK;
}

void
hsm_p11_unload(struct hsm *h)
{
	/* C_Finalize closes every session: the admin handle means nothing after. */
	h->admin = CK_INVALID_HANDLE;
	if (h->ctx == NULL)
		return;
	if (h->slots != NULL)
		PKCS11_release_all_slots(h->ctx, h->slots, h->nslots);
	h->slots = NULL;
	h->nslots = 0;
	PKCS11_CTX_unload(h->ctx);
	PKCS11_CTX_free(h->ctx);
	h->ctx = NULL;
}

enum m2m_err
hsm_module_load(struct hsm *h, const char *path, char *err, size_t errlen)
{
	CK_C_GetFunctionList getfl;
	enum m2m_err e;

	/* libp11 only says "load module error"; dlerror() says why. */
	h->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h->dl == NULL) {
		hsm_detail(err, errlen, "cannot load PKCS#11 module %s: %s", path, dlerror());
		return M2M_E_HSM_MODULE_LOAD;
	}
	getfl = (CK_C_GetFunctionList)(uintptr_t)dlsym(h->dl, "C_GetFunctionList");
	if (getfl == NULL) {
		hsm_detail(err, errlen, "%s is not a PKCS#11 module: no C_GetFunctionList", path);
		return M2M_E_HSM_MODULE_LOAD;
	}
	if ((e = hsm_p11_load(h, path, err, errlen)) != M2M_OK)
		return e;
	/* The same handle libp11 got, so the same, initialized, function list:
	 * libp11 0.4 exposes no session handles, so derive and the per-thread
	 * sessions of the pool go through it directly. */
	if (getfl(&h->f) != CKR_OK || h->f == NULL) {
		hsm_detail(err, errlen, "%s: C_GetFunctionList failed", path);
		return M2M_E_HSM_MODULE_INIT;
	}
	return M2M_OK;
}
