/* Inside of struct proto_ctx, shared by the files of src/proto only. */
#ifndef M2M_PROTO_CTX_H
#define M2M_PROTO_CTX_H

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "src/proto/proto.h"

struct proto_ctx {
	struct proto_rng rng;
	EC_GROUP *group;
	BN_CTX *bn;
	EVP_CIPHER *cipher;		/* AES-128-GCM, fetched once */
	EVP_CIPHER_CTX *cctx;		/* reused for every AEAD operation */
	EVP_MAC *hmac;
	EVP_KDF *kdf;
	struct proto_ops ops;
	/* Drawn at creation: module handshake state made under another
	 * context (before a restart, say) is refused (module.c). */
	uint8_t instance[PROTO_INSTANCE_LEN];
};

#endif
