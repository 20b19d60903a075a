/* SPDX-License-Identifier: Apache-2.0 */
/* Inside of struct proto_ctx, shared by the files of src/proto only. The
 * crypto library's state is the backend's (src/crypto/backend.h). */
#ifndef M2M_PROTO_CTX_H
#define M2M_PROTO_CTX_H

#include "src/crypto/backend.h"
#include "src/proto/proto.h"

struct proto_ctx {
	struct proto_rng rng;
	struct crypto_be *be;
	struct proto_ops ops;
	/* Drawn at creation: module handshake state made under another
	 * context (before a restart, say) is refused (module.c). */
	uint8_t instance[PROTO_INSTANCE_LEN];
};

#endif
