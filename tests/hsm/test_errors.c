/* SPDX-License-Identifier: Apache-2.0 */
/* Every HSM error gives its own code and a message that names the cause:
 * dlopen reason, tokens present, CKR_ names; a wrong PIN is tried once. */
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "tests/hsm/p11raw.h"

static struct tok t;

static void
setup(void)
{
	tok_create(&t, "m2m", 1);
}

static void
teardown(void)
{
	tok_destroy(&t);
}

TestSuite(hsm_errors, .init = setup, .fini = teardown, .timeout = 60);

static char err[HSM_DETAIL_LEN];

static enum m2m_err
try_open(const struct hsm_config *cfg)
{
	struct hsm *h = NULL;
	enum m2m_err e;

	err[0] = '\0';
	e = hsm_open(&h, cfg, err, sizeof(err));
	hsm_close(h);
	cr_log_info("%s: %s", m2m_errname(e), err);
	return e;
}

static void
make_key(const char *label)
{
	struct hsm *h;

	cr_assert_eq(hsm_open(&h, &t.cfg, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(hsm_keygen(h, label, NULL, 0, NULL, err, sizeof(err)), M2M_OK, "%s", err);
	hsm_close(h);
}

Test(hsm_errors, module_not_loadable_says_why)
{
	t.cfg.module = "/nonexistent/libnope.so";
	cr_assert_eq(try_open(&t.cfg), M2M_E_HSM_MODULE_LOAD);
	cr_assert(strstr(err, "/nonexistent/libnope.so") && strstr(err, "No such file"), "%s", err);
	t.cfg.module = "libz.so.1";	/* loads, but is no PKCS#11 module */
	cr_assert_eq(try_open(&t.cfg), M2M_E_HSM_MODULE_LOAD);
	cr_assert(strstr(err, "C_GetFunctionList"), "%s", err);
	t.cfg.module = NULL;
	cr_assert_eq(try_open(&t.cfg), M2M_E_HSM_NO_MODULE);
}

Test(hsm_errors, token_not_found_lists_tokens)
{
	t.cfg.token = "nope";
	cr_assert_eq(try_open(&t.cfg), M2M_E_HSM_TOKEN_NOT_FOUND);
	cr_assert(strstr(err, "nope") && strstr(err, "'m2m' (serial "), "%s", err);
	t.cfg.token = "pkcs11:token=other";
	cr_assert_eq(try_open(&t.cfg), M2M_E_HSM_TOKEN_NOT_FOUND);
	t.cfg.token = "pkcs11:token=m2m?pin-value=1234";
	cr_assert_eq(try_open(&t.cfg), M2M_E_HSM_URI);
	cr_assert(strstr(err, "pin-value"), "%s", err);
}

Test(hsm_errors, wrong_pin_is_tried_once)
{
	struct m2m_shim_ctl *ctl = tok_shim(&t);

	tok_write_pin(&t, "not-the-pin");
	cr_assert_eq(try_open(&t.cfg), M2M_E_HSM_PIN_WRONG);
	cr_assert(strstr(err, "CKR_PIN_INCORRECT") && strstr(err, "one attempt"), "%s", err);
	cr_assert_eq(atomic_load(&ctl->logins), 1, "C_Login was called %u times",
	    atomic_load(&ctl->logins));
	/* Not locked by us: the right PIN still works. */
	tok_write_pin(&t, TOK_PIN);
	cr_assert_eq(try_open(&t.cfg), M2M_OK);
}

Test(hsm_errors, pin_locked_is_not_tried)
{
	struct m2m_shim_ctl *ctl = tok_shim(&t);

	atomic_store(&ctl->pin_locked, 1);
	cr_assert_eq(try_open(&t.cfg), M2M_E_HSM_PIN_LOCKED);
	cr_assert(strstr(err, "locked"), "%s", err);
	cr_assert_eq(atomic_load(&ctl->logins), 0);
}

Test(hsm_errors, pin_sources)
{
	t.cfg.pin_file = NULL;
	cr_assert_eq(try_open(&t.cfg), M2M_E_HSM_NO_PIN);
	setenv("M2M_PIN", TOK_PIN, 1);
	cr_assert_eq(try_open(&t.cfg), M2M_OK);
	unsetenv("M2M_PIN");
	t.cfg.pin_file = t.pin_file;
	chmod(t.pin_file, 0644);
	cr_assert_eq(try_open(&t.cfg), M2M_E_HSM_PIN_SOURCE);
	cr_assert(strstr(err, "not readable by others"), "%s", err);
}

Test(hsm_errors, key_not_found)
{
	struct hsm_session *s;
	struct hsm *h;

	t.cfg.key = "nope";
	cr_assert_eq(hsm_open(&h, &t.cfg, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(hsm_session_open(h, &s, err, sizeof(err)), M2M_E_HSM_KEY_NOT_FOUND);
	cr_assert(strstr(err, "'nope'"), "%s", err);
	t.cfg.key = NULL;	/* every usable key: there is none */
	hsm_close(h);
	cr_assert_eq(hsm_open(&h, &t.cfg, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(hsm_session_open(h, &s, err, sizeof(err)), M2M_E_HSM_KEY_NOT_FOUND);
	cr_assert(strstr(err, "no usable P-256 derive key"), "%s", err);
	hsm_close(h);
}

Test(hsm_errors, key_not_usable_for_derive)
{
	struct hsm_session *s;
	struct hsm *h;

	raw_make_nonderive_key(&t, "signer");
	t.cfg.key = "signer";
	cr_assert_eq(hsm_open(&h, &t.cfg, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(hsm_session_open(h, &s, err, sizeof(err)), M2M_E_HSM_KEY_NO_DERIVE);
	cr_assert(strstr(err, "CKA_DERIVE"), "%s", err);
	hsm_close(h);
}

Test(hsm_errors, mechanism_not_supported)
{
	struct m2m_shim_ctl *ctl = tok_shim(&t);
	struct hsm_session *s;
	struct hsm *h;

	make_key("server");
	atomic_store(&ctl->no_ecdh, 1);
	cr_assert_eq(hsm_open(&h, &t.cfg, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(hsm_session_open(h, &s, err, sizeof(err)), M2M_E_HSM_MECHANISM);
	cr_assert(strstr(err, "CKM_ECDH1_DERIVE") && strstr(err, "CKR_MECHANISM_INVALID"),
	    "%s", err);
	hsm_close(h);
}

Test(hsm_errors, token_failure_names_ckr)
{
	struct m2m_shim_ctl *ctl = tok_shim(&t);
	uint8_t peer[HSM_POINT_LEN], out[HSM_SECRET_LEN];
	struct hsm_key_info k;
	struct hsm_session *s;
	struct hsm *h;
	void *pk;

	cr_assert_eq(hsm_open(&h, &t.cfg, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(hsm_keygen(h, "server", NULL, 0, &k, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(hsm_session_open(h, &s, err, sizeof(err)), M2M_OK, "%s", err);
	tok_soft_key(peer, &pk);
	tok_soft_free(pk);
	atomic_store(&ctl->fail_derive, 1);
	cr_assert_eq(hsm_derive(s, k.key_id, peer, out, err, sizeof(err)), M2M_E_HSM_TOKEN_FAILED);
	cr_assert(strstr(err, "CKR_DEVICE_ERROR"), "%s", err);
	cr_assert_eq(hsm_derive(s, k.key_id, peer, out, err, sizeof(err)), M2M_OK, "%s", err);
	hsm_session_close(s);
	hsm_close(h);
}
