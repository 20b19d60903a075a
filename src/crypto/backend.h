/* SPDX-License-Identifier: Apache-2.0 */
/* The crypto backend interface: everything the protocol core asks of a
 * crypto library, and nothing more. Exactly one backend is linked into a
 * build of the core (src/crypto/openssl.c, src/crypto/mbedtls.c); no other
 * file of the core includes a crypto library's header. A backend keeps its
 * own state in struct crypto_be, made once per proto_ctx at set-up.
 *
 * Sizes are the suite's (doc/protocol.md §2): scalars and x coordinates 32
 * bytes, points SEC1 compressed (33) or uncompressed (65). */
#ifndef M2M_CRYPTO_BACKEND_H
#define M2M_CRYPTO_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "src/common/err.h"

#define CRYPTO_SCALAR_LEN	32
#define CRYPTO_POINT_LEN	33
#define CRYPTO_POINT_FULL_LEN	65
#define CRYPTO_HASH_LEN		32
#define CRYPTO_KEY_LEN		16
#define CRYPTO_IV_LEN		12
#define CRYPTO_TAG_LEN		16

struct crypto_be;

/* The backend's name, for logs and the library's docs ("openssl"). */
const char *crypto_be_name(void);

/* Set-up: the only place a backend may allocate. */
enum m2m_err crypto_be_new(struct crypto_be **out);
void crypto_be_free(struct crypto_be *be);

/* The default randomness of a proto_ctx (struct proto_rng's fill): the
 * library's DRBG or the system's. arg is the struct crypto_be. 1 on success. */
int crypto_be_random(void *arg, uint8_t *buf, size_t len);

/* Decodes and validates a SEC1 point, compressed (33 bytes, 0x02/0x03) or
 * uncompressed (65, 0x04): coordinates below p, on the curve, not the point
 * at infinity; M2M_E_PROTO_POINT otherwise. Writes the uncompressed form to
 * full unless it is NULL. */
enum m2m_err crypto_p256_point(struct crypto_be *be, const uint8_t *pt, size_t len,
    uint8_t full[CRYPTO_POINT_FULL_LEN]);

/* The compressed public point of priv (big-endian, 1 to 33 bytes);
 * M2M_E_INVALID_ARG unless 1 <= priv < n. */
enum m2m_err crypto_p256_public(struct crypto_be *be, const uint8_t *priv, size_t privlen,
    uint8_t pub[CRYPTO_POINT_LEN]);

/* ECDH: the x coordinate of priv * peer. The peer point (either form) is
 * validated as crypto_p256_point does first; priv as crypto_p256_public. */
enum m2m_err crypto_p256_ecdh(struct crypto_be *be, const uint8_t *priv, size_t privlen,
    const uint8_t *peer, size_t peerlen, uint8_t out[CRYPTO_HASH_LEN]);

/* SHA-256 of a || b || c; empty parts may be NULL. Stateless: callable
 * without a proto_ctx (key ids, the tests' deterministic rng). */
enum m2m_err crypto_sha256(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
    const uint8_t *c, size_t clen, uint8_t out[CRYPTO_HASH_LEN]);

/* HMAC-SHA-256 (key of any length). be may be NULL (RETRY cookies have no
 * context); a backend may use it to keep prepared state. */
enum m2m_err crypto_hmac_sha256(struct crypto_be *be, const uint8_t *key, size_t keylen,
    const uint8_t *msg, size_t msglen, uint8_t out[CRYPTO_HASH_LEN]);

/* RFC 5869 HKDF-Expand with SHA-256: 1 <= outlen <= 255 * 32, prklen >= 32. */
enum m2m_err crypto_hkdf_expand(struct crypto_be *be, const uint8_t *prk, size_t prklen,
    const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen);

/* AES-128-GCM, 12-byte IV, 16-byte tag appended: out holds ptlen + 16. */
enum m2m_err crypto_aead_seal(struct crypto_be *be, const uint8_t key[CRYPTO_KEY_LEN],
    const uint8_t iv[CRYPTO_IV_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *pt, size_t ptlen, uint8_t *out);
/* Opens ct (ctlen >= 16, tag last) into out (ctlen - 16 bytes); the tag is
 * compared in constant time. M2M_E_PROTO_DECRYPT, out wiped, when it does
 * not verify. */
enum m2m_err crypto_aead_open(struct crypto_be *be, const uint8_t key[CRYPTO_KEY_LEN],
    const uint8_t iv[CRYPTO_IV_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *ct, size_t ctlen, uint8_t *out);

#endif
