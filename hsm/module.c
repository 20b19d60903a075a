/* Loading a PKCS#11 module by path: our own dlopen first, for the dlopen
 * reason and the function list, then libp11 loads and initializes it. */
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
hsm_module_load(struct hsm *h, const char *path, char *err, size_t errlen)
{
	CK_C_GetFunctionList getfl;

	snprintf(h->module, sizeof(h->module), "%s", path);
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
	h->ctx = PKCS11_CTX_new();
	if (h->ctx == NULL)
		return M2M_E_NOMEM;
	errno = 0;
	if (PKCS11_CTX_load(h->ctx, path) != 0) {
		init_failed(path, errno, err, errlen);
		PKCS11_CTX_free(h->ctx);
		h->ctx = NULL;
		return M2M_E_HSM_MODULE_INIT;
	}
	/* The same handle libp11 got, so the same, initialized, function list:
	 * libp11 0.4 exposes no session handles, so derive and the per-thread
	 * sessions of the pool go through it directly. */
	if (getfl(&h->f) != CKR_OK || h->f == NULL) {
		hsm_detail(err, errlen, "%s: C_GetFunctionList failed", path);
		return M2M_E_HSM_MODULE_INIT;
	}
	return M2M_OK;
}
