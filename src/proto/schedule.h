/* SPDX-License-Identifier: Apache-2.0 */
/* The key schedule of doc/protocol.md, shared by the module and server
 * roles so both derive from one definition. */
#ifndef M2M_PROTO_SCHEDULE_H
#define M2M_PROTO_SCHEDULE_H

#include "src/proto/proto.h"

#define SCHED_LABEL_K1	"m2m k1"
#define SCHED_LABEL_K2	"m2m k2"
#define SCHED_LABEL_K3	"m2m k3"
#define SCHED_LABEL_C2S	"m2m c2s"
#define SCHED_LABEL_S2C	"m2m s2c"

struct sched_key {
	uint8_t key[PROTO_KEY_LEN];
	uint8_t iv[PROTO_IV_LEN];
};

/* PRK1 = Extract(TH2, DH1 || DH3); K1, IV1 = Expand(PRK1, "m2m k1", 28). */
enum m2m_err proto_sched_k1(struct proto_ctx *ctx, const uint8_t th2[PROTO_HASH_LEN],
    const uint8_t dh1[PROTO_DH_LEN], const uint8_t dh3[PROTO_DH_LEN],
    uint8_t prk1[PROTO_HASH_LEN], struct sched_key *k1);
/* PRK2 = Extract(PRK1, DH2); K2, IV2 = Expand(PRK2, "m2m k2" || TH3, 28). */
enum m2m_err proto_sched_k2(struct proto_ctx *ctx, const uint8_t prk1[PROTO_HASH_LEN],
    const uint8_t dh2[PROTO_DH_LEN], const uint8_t th3[PROTO_HASH_LEN],
    uint8_t prk2[PROTO_HASH_LEN], struct sched_key *k2);
/* Expand(PRK2, label || TH4, 28): the WELCOME key and the session keys;
 * with th4 NULL, Expand(PRK, label, 28): K1 again from a kept PRK1. */
enum m2m_err proto_sched_expand(struct proto_ctx *ctx, const uint8_t prk2[PROTO_HASH_LEN],
    const char *label, const uint8_t th4[PROTO_HASH_LEN], struct sched_key *k);

#endif
