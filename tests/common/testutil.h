/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the tests: hex, Wycheproof JSON files, a deterministic
 * random source and an in-memory handshake between the two roles. */
#ifndef M2M_TESTUTIL_H
#define M2M_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "src/proto/proto.h"

/* Decodes hex into a malloc'd buffer (never NULL); *len gets its size. */
uint8_t *tu_unhex(const char *hex, size_t *len);
void tu_hex(const uint8_t *p, size_t len, char *out);
/* Loads tests/vectors/NAME; aborts the test on failure. */
json_object *tu_load_vectors(const char *name);

/* Deterministic rng: SHA-256 counter stream from a seed. */
struct tu_rng {
	uint8_t seed[32];
	uint64_t counter;
};
void tu_rng_init(struct tu_rng *r, const char *seed);
struct proto_rng tu_rng_of(struct tu_rng *r);

/* A server with one key and one enrolled module, all in memory. */
struct tu_world {
	struct proto_ctx *ctx;
	uint8_t server_priv[PROTO_SCALAR_LEN];
	struct proto_srv_key key;
	struct proto_mod_creds creds;
	struct proto_module_rec rec;
};
void tu_world_init(struct tu_world *w, struct proto_ctx *ctx);

/* Runs a whole handshake; returns the first error. The datagrams are kept
 * in msgs[0..3] (HELLO, CHALLENGE, AUTH, WELCOME) with their lengths. */
struct tu_flight {
	uint8_t msg[4][PROTO_DATAGRAM_MAX];
	size_t len[4];
	struct proto_session mod_s, srv_s;
	struct proto_welcome_pt welcome;
	uint8_t welcome_pt[PROTO_DATAGRAM_MAX];
	struct proto_srv_auth auth;
};
enum m2m_err tu_handshake(struct tu_world *w, const uint8_t *data, size_t len,
    struct tu_flight *f);

#endif
