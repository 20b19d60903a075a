/* SPDX-License-Identifier: Apache-2.0 */
/* The server role of the handshake, sans-I/O. It never runs the HSM ECDH
 * nor queries the database: each step returns what the caller must fetch
 * and the next step takes it. Order:
 *   proto_srv_hello        HELLO  -> CHALLENGE (state in a proto_srv_hs)
 *   proto_srv_auth_start   AUTH   -> request: look up the pseudonym
 *   proto_srv_auth_module  record -> request: ECDH(s, E_m) in the HSM, or
 *                                    VERIFY when the token's PRK1 is kept
 *   proto_srv_auth_dh1     DH1    -> request: commit (identity, data, pseudonym)
 *   proto_srv_auth_verify  (VERIFY) -> request: commit, no HSM
 *   proto_srv_welcome      commit done -> WELCOME and the session
 *   proto_srv_hs_settle    the outcome, back on the half-open entry
 * A token costs at most one HSM operation in its life: the first AUTH that
 * gets that far keeps PRK1 (from DH1 and DH3, which depend only on the
 * HELLO and the server's keys) in the entry, and every later AUTH is first
 * checked against C1 with it, which only a holder of e_m can pass. */
#ifndef M2M_PROTO_SERVER_H
#define M2M_PROTO_SERVER_H

#define PROTO_AUTH_ATTEMPTS	3	/* AUTH tries per token whose C1 opens */

/* One server key the HSM holds: its public point and key id. */
struct proto_srv_key {
	uint8_t key_id[PROTO_KEY_ID_LEN];
	uint8_t pub[PROTO_POINT_LEN];
};

/* Half-open handshake: what the server keeps between CHALLENGE and AUTH.
 * Plain data, fixed size (under 256 bytes), wiped when dropped. Once
 * keyed, PRK1 takes the place of E_m's Y coordinate, which only DH1 and
 * DH3 needed: the X coordinate stays, by which a resent HELLO finds it. */
enum proto_srv_hs_state {
	PROTO_SRV_HS_OPEN = 0,		/* waiting for an AUTH */
	PROTO_SRV_HS_BUSY,		/* one AUTH in flight: others are refused */
	PROTO_SRV_HS_DONE,		/* token used up: the handshake completed */
};

struct proto_srv_hs {
	uint8_t state;			/* enum proto_srv_hs_state */
	uint8_t token[PROTO_TOKEN_LEN];
	uint8_t key_id[PROTO_KEY_ID_LEN];
	uint8_t pseudonym[PROTO_PSEUDONYM_MAX];
	uint8_t pseudonym_len;
	uint8_t attempts_left;
	uint8_t keyed;			/* prk1 is set: DH1 and DH3 are done */
	union {
		uint8_t e_m[PROTO_POINT_FULL_LEN];	/* validated, uncompressed */
		struct {
			uint8_t e_m_x[1 + PROTO_DH_LEN];	/* 0x04 || X */
			uint8_t prk1[PROTO_HASH_LEN];		/* when keyed */
		};
	};
	uint8_t e_s_priv[PROTO_SCALAR_LEN];
	uint8_t th2[PROTO_HASH_LEN];
};

/* Answers a decoded, cookie-checked HELLO: validates suite, key id and E_m,
 * makes e_s and a token, fills hs and writes the CHALLENGE. The token's
 * first PROTO_ROUTE_LEN bytes are `route` (the server's node and worker,
 * so any worker or load balancer can tell whose entry it is); the other
 * 14 bytes are random. */
#define PROTO_ROUTE_LEN	2
enum m2m_err proto_srv_hello(struct proto_ctx *ctx, const struct proto_srv_key *keys,
    size_t n_keys, uint16_t route, const uint8_t *hello, size_t hello_len,
    struct proto_srv_hs *hs, uint8_t *out, size_t cap, size_t *outlen);

/* The same HELLO again while hs is open (its CHALLENGE was lost): the same
 * CHALLENGE, rebuilt from hs (E_s from e_s, one fixed-base multiplication
 * instead of a square root and a key generation), and no second entry.
 * M2M_E_PROTO_STATE for any other HELLO (TH2 tells) or an entry no longer
 * open: the caller treats it as a new HELLO. */
enum m2m_err proto_srv_hello_again(struct proto_ctx *ctx, const struct proto_srv_hs *hs,
    const uint8_t *hello, size_t hello_len, uint8_t *out, size_t cap, size_t *outlen);

/* What the database holds on a module, as the server role needs it. */
struct proto_module_rec {
	int active;			/* status is active */
	uint8_t identity[PROTO_IDENTITY_MAX];
	size_t identity_len;
	uint8_t key[PROTO_POINT_LEN];	/* current static public key M */
	int has_key_full;		/* key_full is M uncompressed: no square root */
	uint8_t key_full[PROTO_POINT_FULL_LEN];
	int has_pending;
	uint8_t pending_key[PROTO_POINT_LEN];	/* submitted by REKEY, unproven */
};

enum proto_req {
	PROTO_REQ_LOOKUP = 1,		/* fetch the module record of req_pseudonym */
	PROTO_REQ_ECDH,			/* ECDH(server key hs.key_id, hs.e_m) */
	PROTO_REQ_VERIFY,		/* no request: call proto_srv_auth_verify */
	PROTO_REQ_COMMIT,		/* store the outcome, then proto_srv_welcome */
	PROTO_REQ_DONE,
};

/* An AUTH in flight, from arrival to WELCOME. Owned by the caller; it keeps
 * the AUTH datagram (a copy) and intermediate secrets, wiped at the end. */
struct proto_srv_auth {
	enum proto_req req;
	struct proto_srv_hs hs;		/* copy of the half-open entry */
	uint8_t pkt[PROTO_DATAGRAM_MAX];
	size_t pkt_len;
	struct proto_auth msg;		/* points into pkt */
	struct proto_module_rec rec;
	/* C1 opened: the AUTH was made with the handshake's keys, and a failure
	 * from here on uses one of the token's attempts. */
	int c1_opened;
	uint8_t identity[PROTO_IDENTITY_PT_MAX];	/* C1's plaintext: padded */
	size_t identity_len;
	/* Filled by proto_srv_auth_verify, read by the caller for the commit. */
	int used_pending_key;		/* C2 opened with rec.pending_key */
	uint8_t next_pseudonym[PROTO_PSEUDONYM_LEN];	/* offered to the commit */
	uint8_t data[PROTO_DATAGRAM_MAX];	/* first data, decrypted */
	size_t data_len;
	/* Secrets kept for the WELCOME. */
	uint8_t prk2[PROTO_HASH_LEN];
	uint8_t th4[PROTO_HASH_LEN];
};

/* Checks the AUTH against the half-open entry hs: state OPEN, attempts
 * left, token (constant time); then, when hs is keyed, C1 against K1 from
 * the kept PRK1 (M2M_E_PROTO_DECRYPT: made without e_m; no attempt used,
 * the entry unchanged). On success the entry is BUSY (a duplicate cannot
 * run in parallel) and a->req is PROTO_REQ_LOOKUP for hs->pseudonym. If
 * a->hs.keyed is 0 this AUTH will need the HSM: the caller applies its
 * HSM rate limits now, before the lookup. M2M_E_PROTO_ATTEMPTS means the
 * caller must drop the entry. */
enum m2m_err proto_srv_auth_start(struct proto_ctx *ctx, struct proto_srv_auth *a,
    struct proto_srv_hs *hs, const uint8_t *pkt, size_t len);
/* Ends the AUTH a on the half-open entry hs it started on: keeps the PRK1
 * a derived, so the entry never needs the HSM again. M2M_OK marks the
 * token used (single use: a replayed AUTH is refused). An error reopens
 * the entry, and uses one attempt if C1 opened (a->c1_opened) or the
 * record refused the pseudonym (unknown, inactive): an AUTH refused by a
 * rate limit, the HSM, a database error or C1 uses none. Returns 1 when
 * the caller should drop the entry: no attempt left. */
int proto_srv_hs_settle(struct proto_srv_hs *hs, const struct proto_srv_auth *a,
    enum m2m_err result);
/* Takes the module record (NULL: unknown pseudonym). On success a->req is
 * PROTO_REQ_ECDH on a->hs.e_m with a->hs.key_id, or PROTO_REQ_VERIFY when
 * the entry was keyed (C1 has opened already). */
enum m2m_err proto_srv_auth_module(struct proto_srv_auth *a, const struct proto_module_rec *rec);
/* Takes DH1 from the HSM: DH3 and PRK1 (kept in a->hs for the entry, see
 * proto_srv_hs_settle), then C1 (M2M_E_PROTO_DECRYPT, no attempt used)
 * and proto_srv_auth_verify. */
enum m2m_err proto_srv_auth_dh1(struct proto_ctx *ctx, struct proto_srv_auth *a,
    const uint8_t dh1[PROTO_DH_LEN]);
/* The rest of the crypto once C1 has opened: the identity must be
 * rec.identity, C2 must decrypt with rec.key or rec.pending_key (DH2 in
 * software). On success a->req is PROTO_REQ_COMMIT. */
enum m2m_err proto_srv_auth_verify(struct proto_ctx *ctx, struct proto_srv_auth *a);
/* After the commit: writes the WELCOME with the pseudonym the commit left
 * current (a->next_pseudonym if it rotated, else the one the store holds:
 * doc/protocol.md, 12.1) and the given instructions, and sets up the
 * session. Wipes the handshake secrets. */
enum m2m_err proto_srv_welcome(struct proto_ctx *ctx, struct proto_srv_auth *a,
    const uint8_t session_id[PROTO_SESSION_ID_LEN], const uint8_t *pseudonym,
    size_t pseudonym_len, const struct proto_instr *instr, size_t n_instr,
    struct proto_session *s, uint8_t *out, size_t cap, size_t *outlen);
void proto_srv_auth_wipe(struct proto_srv_auth *a);

#endif
