/* SPDX-License-Identifier: Apache-2.0 */
/* The SoftHSM2 token fixture of the HSM tests (see tok.h) and software
 * ECDH, computed with plain OpenSSL EVP so that it checks the HSM path. */
#define _GNU_SOURCE
#include "tests/hsm/tok.h"

#include <dlfcn.h>
#include <stdint.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	cr_assert(fd >= 0, "create %s", path);
	cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	chmod(path, mode);
}

void
tok_write_pin(struct tok *t, const char *pin)
{
	char line[128];

	snprintf(line, sizeof(line), "%s\n", pin);
	write_file(t->pin_file, line, 0600);
}

void
tok_create(struct tok *t, const char *label, int via_shim)
{
	char text[256], cmd[512];

	memset(t, 0, sizeof(*t));
	cr_assert(getenv("SOFTHSM2_MODULE") != NULL, "SOFTHSM2_MODULE is not set");
	snprintf(t->dir, sizeof(t->dir), "/tmp/m2m-hsm-test-XXXXXX");
	cr_assert(mkdtemp(t->dir) != NULL);
	snprintf(t->conf, sizeof(t->conf), "%s/softhsm2.conf", t->dir);
	snprintf(t->pin_file, sizeof(t->pin_file), "%s/pin", t->dir);
	snprintf(text, sizeof(text), "directories.tokendir = %s\nobjectstore.backend = file\n"
	    "log.level = ERROR\nslots.removable = false\n", t->dir);
	write_file(t->conf, text, 0600);
	setenv("SOFTHSM2_CONF", t->conf, 1);
	snprintf(cmd, sizeof(cmd), "softhsm2-util --init-token --free --label '%s' "
	    "--so-pin %s --pin %s >/dev/null", label, TOK_SO_PIN, TOK_PIN);
	cr_assert(system(cmd) == 0, "softhsm2-util --init-token failed");
	tok_write_pin(t, TOK_PIN);
	snprintf(t->shim, sizeof(t->shim), "%s/tests/hsm/.libs/m2mshim.so", TEST_BUILDDIR);
	hsm_config_init(&t->cfg);
	t->cfg.module = via_shim ? t->shim : getenv("SOFTHSM2_MODULE");
	t->cfg.token = label;
	t->cfg.pin_file = t->pin_file;
	unsetenv("M2M_PIN");
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

void
tok_destroy(struct tok *t)
{
	if (t->dir[0] != '\0')
		nftw(t->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void *
shim_sym(struct tok *t, const char *name)
{
	/* Kept open on purpose: the counters must survive hsm_close(). */
	void *dl = dlopen(t->shim, RTLD_NOW | RTLD_LOCAL);
	void *sym;

	cr_assert(dl != NULL, "cannot load the shim: %s", dlerror());
	sym = dlsym(dl, name);
	cr_assert(sym != NULL);
	return sym;
}

struct m2m_shim_ctl *
tok_shim(struct tok *t)
{
	return ((m2m_shim_ctl_fn *)(uintptr_t)shim_sym(t, "m2m_shim_ctl"))();
}

void
tok_shim_reset(struct tok *t)
{
	((m2m_shim_reset_fn *)(uintptr_t)shim_sym(t, "m2m_shim_reset"))();
}

void
tok_pub_compressed(void *pkey, uint8_t pub[HSM_POINT_LEN])
{
	uint8_t full[65];
	size_t len;

	cr_assert(EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, full,
	    sizeof(full), &len) == 1 && len == 65 && full[0] == 0x04);
	pub[0] = (uint8_t)(0x02 | (full[64] & 1));
	memcpy(pub + 1, full + 1, 32);
}

void
tok_soft_key(uint8_t pub[HSM_POINT_LEN], void **pkey)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");

	cr_assert(pk != NULL);
	tok_pub_compressed(pk, pub);
	*pkey = pk;
}

void
tok_soft_ecdh(void *pkey, const uint8_t pub[HSM_POINT_LEN], uint8_t out[HSM_SECRET_LEN])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, HSM_POINT_LEN),
		OSSL_PARAM_END
	};
	EVP_PKEY_CTX *fctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL), *dctx;
	EVP_PKEY *peer = NULL;
	size_t len = HSM_SECRET_LEN;

	cr_assert(fctx != NULL && EVP_PKEY_fromdata_init(fctx) == 1 &&
	    EVP_PKEY_fromdata(fctx, &peer, EVP_PKEY_PUBLIC_KEY, params) == 1);
	dctx = EVP_PKEY_CTX_new(pkey, NULL);
	cr_assert(dctx != NULL && EVP_PKEY_derive_init(dctx) == 1 &&
	    EVP_PKEY_derive_set_peer(dctx, peer) == 1 &&
	    EVP_PKEY_derive(dctx, out, &len) == 1 && len == HSM_SECRET_LEN);
	EVP_PKEY_CTX_free(dctx);
	EVP_PKEY_CTX_free(fctx);
	EVP_PKEY_free(peer);
}

void
tok_soft_free(void *pkey)
{
	EVP_PKEY_free(pkey);
}
