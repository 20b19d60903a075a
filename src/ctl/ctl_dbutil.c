/* SPDX-License-Identifier: Apache-2.0 */
/* What m2mctl's database subcommands share: connecting the libpq way,
 * reporting errors, and reading hex and PEM public keys. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "src/ctl/ctl.h"
#include "src/ctl/ctl_db.h"
#include "src/common/hex.h"

int
ctl_db_fail(enum m2m_err e, const char *detail)
{
	ctl_errx("%s", detail != NULL && detail[0] != '\0' ? detail : m2m_strerror(e));
	return 1;
}

enum m2m_err
ctl_db_connect(const char *dbarg, struct db_admin **a)
{
	struct db_settings s;
	char err[CTL_ERRLEN] = "";
	enum m2m_err e;

	db_settings_init(&s);
	if ((e = db_settings_conninfo(&s, dbarg, err, sizeof(err))) != M2M_OK ||
	    (e = db_admin_open(s.conninfo, a, err, sizeof(err))) != M2M_OK)
		ctl_db_fail(e, err);
	return e;
}

enum m2m_err
ctl_unhex(const char *what, const char *s, uint8_t *out, size_t len, char *err, size_t errlen)
{
	size_t n = strlen(s), bad = m2m_hex_span(s, n);

	if (bad < n)
		snprintf(err, errlen, "%s: '%c' at position %zu is not a hex digit", what, s[bad],
		    bad + 1);
	else if (n % 2 != 0)
		snprintf(err, errlen, "%s: an odd number of hex digits (%zu)", what, n);
	else if (n != 2 * len)
		snprintf(err, errlen, "%s: %zu hex digits, expected %zu", what, n, 2 * len);
	else if (m2m_unhex(s, n, out, len, &n) == 0)
		return M2M_OK;
	return M2M_E_INVALID_ARG;
}

/* The encoded point of a PEM public key; must be P-256. */
static enum m2m_err
pem_point(const char *path, uint8_t *pt, size_t cap, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;
	char group[32] = "";
	enum m2m_err e = M2M_OK;

	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open", path);
		return M2M_E_IO;
	}
	k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL || !EVP_PKEY_is_a(k, "EC") ||
	    !EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) ||
	    strcmp(group, "prime256v1") != 0 ||
	    !EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, cap, len)) {
		snprintf(err, errlen, "%s: not a PEM P-256 public key (-----BEGIN PUBLIC KEY-----)", path);
		e = M2M_E_DB_KEY;
	}
	EVP_PKEY_free(k);
	return e;
}

enum m2m_err
ctl_pubkey(const char *pem, const char *hex, uint8_t pub[PROTO_POINT_LEN], char *err,
    size_t errlen)
{
	uint8_t pt[65];
	size_t len = 0;
	struct proto_ctx *ctx = NULL;
	enum m2m_err e;

	if (pem != NULL) {
		if ((e = pem_point(pem, pt, sizeof(pt), &len, err, errlen)) != M2M_OK)
			return e;
	} else {
		/* 66 digits (compressed) or 130: the message names the first. */
		len = strlen(hex) == 130 ? 65 : 33;
		if (ctl_unhex("public key", hex, pt, len, err, errlen) != M2M_OK)
			return M2M_E_DB_KEY;
	}
	if ((e = proto_ctx_new(&ctx, NULL)) != M2M_OK)
		return e;
	e = proto_p256_check(ctx, pt, len);
	proto_ctx_free(ctx);
	if (e != M2M_OK) {
		snprintf(err, errlen, "public key: %s", m2m_strerror(e));
		return M2M_E_DB_KEY;
	}
	/* Compressed form: x, and the parity of y in the prefix byte. */
	if (len == 65)
		pt[0] = (uint8_t)(2 | (pt[64] & 1));
	memcpy(pub, pt, PROTO_POINT_LEN);
	return M2M_OK;
}

long
ctl_number(const char *s, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	return end != s && *end == '\0' && v > 0 && v <= max ? v : 0;
}
