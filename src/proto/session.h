/* SPDX-License-Identifier: Apache-2.0 */
/* Established sessions: per-direction keys, 64-bit sequence numbers, a
 * sliding replay window that also remembers which records were answered.
 * Plain data, safe to copy; about 110 bytes. */
#ifndef M2M_PROTO_SESSION_H
#define M2M_PROTO_SESSION_H

#define PROTO_REPLAY_WINDOW	64

enum proto_role { PROTO_ROLE_MODULE = 0, PROTO_ROLE_SERVER = 1 };

struct proto_session {
	uint8_t id[PROTO_SESSION_ID_LEN];
	uint8_t role;			/* enum proto_role */
	uint8_t tx_key[PROTO_KEY_LEN];
	uint8_t tx_iv[PROTO_IV_LEN];
	uint8_t rx_key[PROTO_KEY_LEN];
	uint8_t rx_iv[PROTO_IV_LEN];
	uint64_t tx_next;		/* next sequence number to send */
	uint64_t rx_top;		/* highest received + 1; 0 = none yet */
	uint64_t rx_window;		/* bit i: rx_top - 1 - i was received */
	uint64_t rx_answered;		/* bit i: rx_top - 1 - i was answered */
};

/* Derives both directions from PRK2 and TH4 (doc/protocol.md, key schedule). */
enum m2m_err proto_session_init(struct proto_ctx *ctx, struct proto_session *s,
    enum proto_role role, const uint8_t id[PROTO_SESSION_ID_LEN],
    const uint8_t prk2[PROTO_HASH_LEN], const uint8_t th4[PROTO_HASH_LEN]);

/* Seals a record of the given type (the role decides which types it may
 * send) and writes the datagram; uses and advances tx_next. */
enum m2m_err proto_session_seal(struct proto_ctx *ctx, struct proto_session *s,
    uint8_t type, const uint8_t *pt, size_t ptlen, uint8_t *out, size_t cap,
    size_t *outlen, uint64_t *seq);

/* Opens a received record: session id, direction, replay window, tag. The
 * window moves only after the tag verifies. pt needs rec->ct_len - 16. */
enum m2m_err proto_session_open(struct proto_ctx *ctx, struct proto_session *s,
    const struct proto_record *rec, const uint8_t *buf, uint8_t *pt, size_t cap,
    size_t *ptlen);

/* A DATA resent after a lost answer is the same record, byte for byte; the
 * window rejects it as a replay. These let the receiver answer it again
 * without taking it twice, and take it again if it was never answered. */

/* Record seq was committed and answered: a resend may be answered again. */
void proto_session_answered(struct proto_session *s, uint64_t seq);
/* Record seq was not committed: the window forgets it, so the resend of
 * the same bytes is opened as new. */
void proto_session_forget(struct proto_session *s, uint64_t seq);
/* Opens a resent record that was answered: the tag is verified, the window
 * does not move. M2M_E_PROTO_REPLAY if seq was not answered (still in
 * flight), M2M_E_PROTO_TOO_OLD beyond the window, M2M_E_PROTO_STATE if
 * the window never took it (proto_session_open's). */
enum m2m_err proto_session_reopen(struct proto_ctx *ctx, const struct proto_session *s,
    const struct proto_record *rec, const uint8_t *buf, uint8_t *pt, size_t cap,
    size_t *ptlen);

void proto_session_wipe(struct proto_session *s);

#endif
