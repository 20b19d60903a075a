/* SPDX-License-Identifier: Apache-2.0 */
/* Stateless RETRY cookies: a MAC over the source address and the module's
 * ephemeral key, so the server keeps no state until a module proves it
 * receives at the address it claims. */
#include "config.h"

#include "src/proto/ctx.h"

#include <string.h>


enum m2m_err
proto_cookie(const uint8_t secret[32], uint64_t epoch, const uint8_t *addr, size_t addrlen,
    const uint8_t e_m[PROTO_POINT_LEN], uint8_t cookie[PROTO_COOKIE_LEN])
{
	uint8_t msg[8 + 1 + 32 + PROTO_POINT_LEN], mac[PROTO_HASH_LEN];

	if (addrlen > 32)
		return M2M_E_INVALID_ARG;
	proto_put_u64(msg, epoch);
	msg[8] = (uint8_t)addrlen;
	memset(msg + 9, 0, 32);
	memcpy(msg + 9, addr, addrlen);
	memcpy(msg + 9 + 32, e_m, PROTO_POINT_LEN);
	if (crypto_hmac_sha256(NULL, secret, 32, msg, sizeof(msg), mac) != M2M_OK)
		return M2M_E_CRYPTO;
	memcpy(cookie, mac, PROTO_COOKIE_LEN);
	return M2M_OK;
}

int
proto_cookie_valid(const uint8_t secret[32], uint64_t epoch, const uint8_t *addr,
    size_t addrlen, const uint8_t e_m[PROTO_POINT_LEN], const uint8_t *cookie,
    size_t cookielen)
{
	uint8_t want[PROTO_COOKIE_LEN];
	int i;

	if (cookie == NULL || cookielen != PROTO_COOKIE_LEN)
		return 0;
	/* The current and the previous epoch, so a cookie never dies in flight. */
	for (i = 0; i < 2 && (uint64_t)i <= epoch; i++) {
		if (proto_cookie(secret, epoch - (uint64_t)i, addr, addrlen, e_m, want) != M2M_OK)
			return 0;
		if (proto_ct_equal(want, cookie, PROTO_COOKIE_LEN))
			return 1;
	}
	return 0;
}
