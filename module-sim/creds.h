/* SPDX-License-Identifier: Apache-2.0 */
/* The credentials file of m2m-sim (from `m2mctl enroll --count`): loading
 * with line-precise messages, atomic write-back of the new pseudonyms. */
#ifndef SIM_CREDS_H
#define SIM_CREDS_H

#include <stddef.h>
#include <stdint.h>

#include "src/proto/proto.h"

#define SIM_CREDS_HEADER	"# m2m-credentials 1"

/* One virtual module: its provisioning, and what a device would keep in
 * flash between sessions (current pseudonym, instructions to confirm). */
struct sim_mod {
	struct proto_mod_creds c;
	uint8_t acks[PROTO_INSTR_MAX][PROTO_INSTR_ID_LEN];
	uint8_t n_acks;
	uint8_t renamed;		/* the server issued a new pseudonym */
	unsigned line;			/* in the file, for messages */
};

struct sim_creds {
	uint8_t key_id[PROTO_KEY_ID_LEN];
	uint8_t server_pub[PROTO_POINT_LEN];
	struct sim_mod *mods;
	size_t n, cap;
	size_t max_identity;		/* longest identity, to size AUTH */
};

/* Loads path. On failure detail says "FILE:LINE: what is wrong";
 * M2M_E_IO when it cannot be read, M2M_E_CONFIG when it is malformed. */
enum m2m_err sim_creds_load(struct sim_creds *cr, const char *path, char *detail,
    size_t dlen);
/* Rewrites path with the current pseudonyms: temp file in the same
 * directory, mode 0600, fsync, rename, fsync of the directory. */
enum m2m_err sim_creds_save(const struct sim_creds *cr, const char *path, char *detail,
    size_t dlen);
/* Wipes the private keys and frees. */
void sim_creds_free(struct sim_creds *cr);

#endif
