/* SPDX-License-Identifier: Apache-2.0 */
/* Cryptographic primitives of suite 1 on the crypto backend: P-256 point
 * decoding with validation, key generation, ECDH, HKDF, AES-GCM, SHA-256. */
#ifndef M2M_PROTO_CRYPTO_H
#define M2M_PROTO_CRYPTO_H

/* Decodes and validates a SEC1 point (33-byte compressed or 65-byte
 * uncompressed): canonical coordinates, on the curve, not infinity. The
 * wire accepts only the compressed form; tests use both. */
enum m2m_err proto_p256_check(struct proto_ctx *ctx, const uint8_t *pt, size_t len);

/* Validates a point (either form) and writes it uncompressed, so later
 * uses skip the square root that decompression costs. */
enum m2m_err proto_p256_decompress(struct proto_ctx *ctx, const uint8_t *pt, size_t len,
    uint8_t out[PROTO_POINT_FULL_LEN]);

/* The compressed form of a validated uncompressed point: pure bytes. */
void proto_p256_compress(const uint8_t full[PROTO_POINT_FULL_LEN], uint8_t out[PROTO_POINT_LEN]);

/* A fresh key pair: private scalar in [1, n-1] from the context's rng. */
enum m2m_err proto_p256_keygen(struct proto_ctx *ctx, uint8_t priv[PROTO_SCALAR_LEN],
    uint8_t pub[PROTO_POINT_LEN]);
/* The compressed public point of a private scalar. */
enum m2m_err proto_p256_public(struct proto_ctx *ctx, const uint8_t *priv, size_t privlen,
    uint8_t pub[PROTO_POINT_LEN]);
/* ECDH: x coordinate of priv * peer, the peer point validated first. */
enum m2m_err proto_p256_ecdh(struct proto_ctx *ctx, const uint8_t *priv, size_t privlen,
    const uint8_t *peer, size_t peerlen, uint8_t out[PROTO_DH_LEN]);

/* 4-byte key id of a server public key: SHA-256(point)[0..3]. */
enum m2m_err proto_key_id(const uint8_t pub[PROTO_POINT_LEN], uint8_t id[PROTO_KEY_ID_LEN]);

enum m2m_err proto_sha256(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
    const uint8_t *c, size_t clen, uint8_t out[PROTO_HASH_LEN]);

/* RFC 5869 HKDF with SHA-256. */
enum m2m_err proto_hkdf_extract(struct proto_ctx *ctx, const uint8_t *salt, size_t saltlen,
    const uint8_t *ikm, size_t ikmlen, uint8_t prk[PROTO_HASH_LEN]);
enum m2m_err proto_hkdf_expand(struct proto_ctx *ctx, const uint8_t *prk, size_t prklen,
    const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen);

/* AES-128-GCM, 12-byte IV, 16-byte tag appended: out holds ptlen + 16. */
enum m2m_err proto_aead_seal(struct proto_ctx *ctx, const uint8_t key[PROTO_KEY_LEN],
    const uint8_t iv[PROTO_IV_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *pt, size_t ptlen, uint8_t *out);
/* Verifies and decrypts ct (ctlen >= 16, tag last) into out (ctlen - 16). */
enum m2m_err proto_aead_open(struct proto_ctx *ctx, const uint8_t key[PROTO_KEY_LEN],
    const uint8_t iv[PROTO_IV_LEN], const uint8_t *aad, size_t aadlen,
    const uint8_t *ct, size_t ctlen, uint8_t *out);

/* Stateless cookie for RETRY: HMAC-SHA-256(secret, epoch || addr || E_m)
 * truncated. The caller picks the epoch (e.g. minutes) and checks the
 * current and the previous one. */
enum m2m_err proto_cookie(const uint8_t secret[32], uint64_t epoch,
    const uint8_t *addr, size_t addrlen, const uint8_t e_m[PROTO_POINT_LEN],
    uint8_t cookie[PROTO_COOKIE_LEN]);
int proto_cookie_valid(const uint8_t secret[32], uint64_t epoch,
    const uint8_t *addr, size_t addrlen, const uint8_t e_m[PROTO_POINT_LEN],
    const uint8_t *cookie, size_t cookielen);

/* Constant-time equality; 1 when equal. */
int proto_ct_equal(const void *a, const void *b, size_t len);
void proto_wipe(void *p, size_t len);

#endif
