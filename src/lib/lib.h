/* SPDX-License-Identifier: Apache-2.0 */
/* Inside of struct m2m_module, shared by the files of src/lib only: the
 * protocol core's module role (src/proto/module.h) plus what a device
 * needs around it: the exchange in flight, its timer, the saved state. */
#ifndef M2M_LIB_H
#define M2M_LIB_H

#include "include/m2m/m2m.h"
#include "src/proto/proto.h"

enum lib_phase { LIB_IDLE = 0, LIB_HANDSHAKE, LIB_ESTABLISHED };

#define LIB_FLAG_NEXT_KEY	0x1	/* the server recorded the next key */

struct lib {
	struct proto_ctx *ctx;
	struct m2m_config cfg;
	struct proto_mod_creds creds;		/* identity, S, key id, pseudonym */
	uint8_t flags;				/* LIB_FLAG_*, saved */
	uint8_t next_pub[PROTO_POINT_LEN];	/* recorded by the last REKEY_ACK, saved */
	enum lib_phase phase;
	struct proto_mod_hs hs;
	struct proto_mod_prep prep;
	int prepared;
	struct proto_session s;
	uint8_t data[PROTO_DATAGRAM_MAX];	/* first data, for every CHALLENGE */
	size_t data_len;
	/* The datagram in flight, re-sent on timeouts; ready: queued to send. */
	uint8_t out[PROTO_DATAGRAM_MAX];
	size_t out_len;
	int ready;
	int send_hello;				/* the next output is hs.hello, not out */
	unsigned auth_cand;			/* candidate whose AUTH is in out */
	/* The timer of the exchange in flight. */
	int waiting;
	uint8_t wait_type;			/* PROTO_DATA, PROTO_REKEY; 0 in a handshake */
	uint64_t wait_seq;
	uint8_t rekey_pub[PROTO_POINT_LEN];	/* the M' of the REKEY in flight */
	uint64_t due;
	uint32_t rto;
	unsigned tries;
	uint8_t pt[PROTO_DATAGRAM_MAX];		/* plaintext the events point into */
	enum m2m_err reason;
};

static inline struct lib *
lib_of(struct m2m_module *m)
{
	return (struct lib *)(void *)m->opaque.bytes;
}

static inline const struct lib *
lib_of_const(const struct m2m_module *m)
{
	return (const struct lib *)(const void *)m->opaque.bytes;
}

/* The public code of an internal error, remembering it as the reason. */
int lib_rc(struct lib *l, enum m2m_err err);
/* Arms the timer for a datagram just put in out, and queues it. */
void lib_arm(struct lib *l, uint64_t now_ms);
/* Writes the state blob from l and hands it to the save callback. */
int lib_save(struct lib *l, unsigned why);
/* Reads a state blob into l. */
int lib_state_load(struct lib *l, const uint8_t state[M2M_STATE_LEN]);
/* Records after the handshake: DATA_ACK and REKEY_ACK. */
int lib_record_input(struct lib *l, const uint8_t *dgram, size_t len, struct m2m_event *ev);

#endif
