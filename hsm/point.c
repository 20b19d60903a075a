/* SPDX-License-Identifier: Apache-2.0 */
/* P-256 point forms: the token stores CKA_EC_POINT (a DER OCTET STRING of
 * the uncompressed point, or the bare point); the protocol pins 33 bytes. */
#include "config.h"

#include "hsm/hsm_int.h"

#include <string.h>

#include <openssl/ec.h>
#include <openssl/obj_mac.h>

enum m2m_err
hsm_ec_point_compress(const uint8_t *der, size_t len, uint8_t out[HSM_POINT_LEN])
{
	/* 04 41 04 X Y: DER-wrapped, as PKCS#11 2.20+ says; 04 X Y: bare. */
	if (len == 67 && der[0] == 0x04 && der[1] == 0x41) {
		der += 2;
		len -= 2;
	}
	if (len != 65 || der[0] != 0x04)
		return M2M_E_HSM_KEY_TYPE;
	out[0] = (uint8_t)(0x02 | (der[64] & 1));
	memcpy(out + 1, der + 1, 32);
	return M2M_OK;
}

static EC_GROUP *p256;
static pthread_once_t p256_once = PTHREAD_ONCE_INIT;

static void
p256_init(void)
{
	p256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
}

/* Decodes (so validates: on the curve, not infinity) and re-encodes. The
 * uncompressed form costs only the on-curve check; the compressed one a
 * square root. */
enum m2m_err
hsm_ec_point_expand(const uint8_t *in, size_t len, uint8_t out[65])
{
	EC_POINT *pt;
	enum m2m_err e = M2M_E_HSM_PEER;

	pthread_once(&p256_once, p256_init);
	if (p256 == NULL || (pt = EC_POINT_new(p256)) == NULL)
		return M2M_E_NOMEM;
	if ((len == HSM_POINT_LEN || (len == 65 && in[0] == 0x04)) &&
	    EC_POINT_oct2point(p256, pt, in, len, NULL) == 1 &&
	    EC_POINT_point2oct(p256, pt, POINT_CONVERSION_UNCOMPRESSED, out, 65, NULL) == 65)
		e = M2M_OK;
	EC_POINT_free(pt);
	return e;
}
