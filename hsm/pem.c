/* SPDX-License-Identifier: Apache-2.0 */
/* The public key as PEM (SubjectPublicKeyInfo), the form OpenSSL and most
 * tools read; the raw 33 bytes are what modules pin. */
#include "config.h"

#include "hsm/hsm_int.h"

#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

static EVP_PKEY *
pkey_from_point(const uint8_t pub[HSM_POINT_LEN])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, HSM_POINT_LEN),
		OSSL_PARAM_END
	};
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pk = NULL;

	if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(pctx);
	return pk;
}

enum m2m_err
hsm_pub_pem(const uint8_t pub[HSM_POINT_LEN], char *buf, size_t len)
{
	EVP_PKEY *pk = pkey_from_point(pub);
	BIO *bio = BIO_new(BIO_s_mem());
	enum m2m_err e = M2M_E_CRYPTO;
	char *data;
	long n;

	if (pk != NULL && bio != NULL && PEM_write_bio_PUBKEY(bio, pk) == 1) {
		n = BIO_get_mem_data(bio, &data);
		if (n > 0 && (size_t)n < len) {
			memcpy(buf, data, (size_t)n);
			buf[n] = '\0';
			e = M2M_OK;
		} else
			e = M2M_E_INVALID_ARG;
	}
	BIO_free(bio);
	EVP_PKEY_free(pk);
	return e;
}
