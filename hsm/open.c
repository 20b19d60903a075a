/* SPDX-License-Identifier: Apache-2.0 */
/* hsm_open / hsm_close: module, token, admin session and login, in order,
 * each failure with its own code and a detail naming what was found. */
#include "config.h"

#include "hsm/hsm_int.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

/* The URI may carry the module, the PIN file and the key; the explicit
 * options win over it. */
static enum m2m_err
resolve(struct hsm *h, const struct hsm_config *cfg, struct hsm_uri *uri, const char **module,
    char *err, size_t errlen)
{
	const char *pin_file = cfg->pin_file;
	enum m2m_err e;

	memset(uri, 0, sizeof(*uri));
	if (cfg->token == NULL || cfg->token[0] == '\0') {
		hsm_detail(err, errlen, "no token named: --token LABEL|SERIAL|pkcs11:URI");
		return M2M_E_HSM_NO_TOKEN;
	}
	if (strncmp(cfg->token, "pkcs11:", 7) == 0 &&
	    (e = hsm_uri_parse(cfg->token, uri, err, errlen)) != M2M_OK)
		return e;
	*module = cfg->module ? cfg->module : uri->module_path[0] ? uri->module_path : NULL;
	if (*module == NULL) {
		hsm_detail(err, errlen, "no PKCS#11 module: --module PATH or M2M_PKCS11_MODULE");
		return M2M_E_HSM_NO_MODULE;
	}
	if (pin_file == NULL && uri->pin_source[0] != '\0')
		pin_file = uri->pin_source;
	if ((pin_file != NULL && (h->pin_file = strdup(pin_file)) == NULL) ||
	    (h->module_path = strdup(*module)) == NULL ||
	    (strncmp(cfg->token, "pkcs11:", 7) != 0 &&
	    (h->token_plain = strdup(cfg->token)) == NULL))
		return M2M_E_NOMEM;
	if (cfg->key != NULL)
		return hsm_keysel_parse(cfg->key, &h->sel, err, errlen);
	h->sel = uri->key;
	return M2M_OK;
}

enum m2m_err
hsm_admin_open(struct hsm *h, char *err, size_t errlen)
{
	CK_RV rv;

	/* R/W for keygen; a write-protected token still serves read-only. */
	rv = h->f->C_OpenSession(h->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
	    &h->admin);
	if (rv == CKR_TOKEN_WRITE_PROTECTED)
		rv = h->f->C_OpenSession(h->slot, CKF_SERIAL_SESSION, NULL, NULL, &h->admin);
	if (rv != CKR_OK) {
		h->admin = CK_INVALID_HANDLE;
		return hsm_ckr_fail(M2M_E_HSM_PKCS11, rv, err, errlen, "C_OpenSession");
	}
	return hsm_login(h, h->admin, err, errlen);
}

enum m2m_err
hsm_open(struct hsm **out, const struct hsm_config *cfg, char *err, size_t errlen)
{
	const char *module = NULL;
	struct hsm *h;
	enum m2m_err e;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return M2M_E_NOMEM;
	h->admin = CK_INVALID_HANDLE;
	pthread_mutex_init(&h->login_lock, NULL);
	pthread_rwlock_init(&h->use, NULL);
	if ((e = resolve(h, cfg, &h->uri, &module, err, errlen)) != M2M_OK ||
	    (e = hsm_module_load(h, module, err, errlen)) != M2M_OK ||
	    (e = hsm_token_select(h, &h->uri, h->token_plain, err, errlen)) != M2M_OK ||
	    (e = hsm_admin_open(h, err, errlen)) != M2M_OK) {
		hsm_close(h);
		return e;
	}
	*out = h;
	return M2M_OK;
}

void
hsm_close(struct hsm *h)
{
	if (h == NULL)
		return;
	if (h->admin != CK_INVALID_HANDLE)
		h->f->C_CloseSession(h->admin);
	hsm_p11_unload(h);
	if (h->dl != NULL)
		dlclose(h->dl);
	pthread_mutex_destroy(&h->login_lock);
	pthread_rwlock_destroy(&h->use);
	free(h->keys);
	free(h->pin_file);
	free(h->module_path);
	free(h->token_plain);
	free(h);
}

const char *
hsm_token_name(const struct hsm *h)
{
	return h->name;
}
