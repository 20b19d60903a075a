/* SPDX-License-Identifier: Apache-2.0 */
/* The m2m protocol core: constants shared by every part and the one header
 * drivers include. Pure: no sockets, threads, clocks or globals. */
#ifndef M2M_PROTO_H
#define M2M_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "src/common/err.h"

#define PROTO_VERSION		1
#define PROTO_SUITE_P256_AES128GCM	1	/* P-256, HKDF-SHA-256, AES-128-GCM */

enum proto_type {
	PROTO_HELLO = 1,
	PROTO_RETRY = 2,
	PROTO_CHALLENGE = 3,
	PROTO_AUTH = 4,
	PROTO_WELCOME = 5,
	PROTO_DATA = 6,
	PROTO_DATA_ACK = 7,
	PROTO_REKEY = 8,
	PROTO_REKEY_ACK = 9,
};
#define PROTO_TYPE_MAX		PROTO_REKEY_ACK

#define PROTO_HDR_LEN		2	/* version, type */
#define PROTO_POINT_LEN		33	/* SEC1 compressed P-256 point */
#define PROTO_POINT_FULL_LEN	65	/* SEC1 uncompressed: decoded once, cheap to reuse */
#define PROTO_SCALAR_LEN	32
#define PROTO_DH_LEN		32	/* x coordinate of the shared point */
#define PROTO_KEY_ID_LEN	4	/* first bytes of SHA-256(server point) */
#define PROTO_TOKEN_LEN		16
#define PROTO_COOKIE_LEN	16
#define PROTO_SESSION_ID_LEN	8
#define PROTO_SEQ_LEN		8
#define PROTO_TAG_LEN		16
#define PROTO_KEY_LEN		16	/* AES-128 */
#define PROTO_IV_LEN		12
#define PROTO_HASH_LEN		32
#define PROTO_PSEUDONYM_MIN	16	/* keeps every HELLO longer than its CHALLENGE */
#define PROTO_PSEUDONYM_MAX	32
#define PROTO_PSEUDONYM_LEN	16	/* what the server issues */
#define PROTO_IDENTITY_MAX	64
/* C1 carries the identity padded: its length byte, the identity, zeros up
 * to 16, 32 or 64 bytes, so that an AUTH's length tells only which of
 * three ranges the identity's length is in (doc/protocol.md, 4.4). */
#define PROTO_IDENTITY_PT_MAX	(1 + PROTO_IDENTITY_MAX)
#define PROTO_INSTR_ID_LEN	8
#define PROTO_DATAGRAM_MAX	1200	/* fits the IPv6 minimum MTU with headers */
#define PROTO_RECORD_HDR_LEN	(PROTO_HDR_LEN + PROTO_SESSION_ID_LEN + PROTO_SEQ_LEN)
#define PROTO_RECORD_MAX_PT	(PROTO_DATAGRAM_MAX - PROTO_RECORD_HDR_LEN - PROTO_TAG_LEN)
#define PROTO_ACKS_MAX		16	/* instruction ids a module confirms per DATA */
#define PROTO_INSTR_MAX		8	/* instructions per WELCOME or DATA_ACK */

/* WELCOME status byte. */
#define PROTO_STATUS_OK		0
#define PROTO_STATUS_KEY_ROTATED 1	/* the pending key proved itself and is now current */

/* Randomness source. NULL in proto_ctx_new means the crypto
 * backend's (OpenSSL's RAND_priv_bytes, Mbed TLS's CTR_DRBG);
 * tests pass a deterministic one to reproduce known-answer vectors. */
struct proto_rng {
	int (*fill)(void *arg, uint8_t *buf, size_t len);	/* 1 on success */
	void *arg;
};

/* Bytes that tell contexts apart (struct proto_mod_hs, module.h). */
#define PROTO_INSTANCE_LEN	8

/* Per-thread crypto context: curve, big-number scratch, cipher contexts. */
struct proto_ctx;

enum m2m_err proto_ctx_new(struct proto_ctx **out, const struct proto_rng *rng);
void proto_ctx_free(struct proto_ctx *ctx);

/* The primitive operations a context has run, counted so that tests can
 * show that two code paths do the same work (doc/protocol.md, 13), which
 * a timing measurement could only suggest. */
struct proto_ops {
	unsigned long ecdh, hkdf_extract, hkdf_expand, aead_seal, aead_open;
};
void proto_ctx_ops(const struct proto_ctx *ctx, struct proto_ops *out);
enum m2m_err proto_random(struct proto_ctx *ctx, uint8_t *buf, size_t len);

#include "src/proto/crypto.h"
#include "src/proto/wire.h"
#include "src/proto/session.h"
#include "src/proto/server.h"
#include "src/proto/module.h"

#endif
