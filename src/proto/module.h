/* SPDX-License-Identifier: Apache-2.0 */
/* The module role of the handshake, sans-I/O: what a device (and m2m-sim)
 * runs. Order: proto_mod_hello (or proto_mod_prepare ahead of time, then
 * proto_mod_hello_prepared), [proto_mod_retry], proto_mod_challenge (once
 * per CHALLENGE received), proto_mod_welcome (once per WELCOME received,
 * until one verifies). */
#ifndef M2M_PROTO_MODULE_H
#define M2M_PROTO_MODULE_H

/* What a module is provisioned with. */
struct proto_mod_creds {
	uint8_t identity[PROTO_IDENTITY_MAX];
	size_t identity_len;
	uint8_t priv[PROTO_SCALAR_LEN];		/* static m */
	uint8_t pub[PROTO_POINT_LEN];		/* static M */
	uint8_t server_pub[PROTO_POINT_LEN];	/* pinned S */
	uint8_t key_id[PROTO_KEY_ID_LEN];
	uint8_t pseudonym[PROTO_PSEUDONYM_MAX];	/* changes every session */
	size_t pseudonym_len;
	/* DH2 = m * E_s by the caller, for a static key the module cannot
	 * read (a PKCS#11 token, a secure element): when set, priv is not
	 * used. e_s is validated and uncompressed; out gets the x coordinate. */
	enum m2m_err (*static_dh)(void *arg, const uint8_t e_s[PROTO_POINT_FULL_LEN],
	    uint8_t out[PROTO_DH_LEN]);
	void *static_dh_arg;
};

enum proto_mod_state {
	PROTO_MOD_IDLE = 0,
	PROTO_MOD_HELLO_SENT,
	PROTO_MOD_AUTH_SENT,
	PROTO_MOD_ESTABLISHED,
};

#define PROTO_HELLO_MAX (PROTO_HDR_LEN + 1 + PROTO_KEY_ID_LEN + 1 + PROTO_PSEUDONYM_MAX + \
	PROTO_POINT_LEN + 1 + PROTO_COOKIE_LEN)

/* How many CHALLENGEs a module answers at once while it waits for its
 * WELCOME. Anyone who sees the HELLO can forge a CHALLENGE with a valid E_s;
 * the module cannot tell it from the server's, so it answers each one and
 * keeps the keys of the last PROTO_MOD_CANDIDATES: the server's CHALLENGE
 * still completes the handshake if fewer forgeries follow it. */
#define PROTO_MOD_CANDIDATES 4

/* One answered CHALLENGE: what its WELCOME would be checked with. */
struct proto_mod_cand {
	uint8_t th2[PROTO_HASH_LEN];		/* names the CHALLENGE (and HELLO) */
	uint8_t prk2[PROTO_HASH_LEN];
	uint8_t th4[PROTO_HASH_LEN];
};

/* Handshake state lives in the memory where the role made it, for one
 * context, and nowhere else: it must never be persisted, restored or
 * copied (doc/protocol.md, 10.1: a restored e_m would seal other first
 * data under the same key and nonce). The role refuses state that is not
 * where it was made (self) or was made under another context (instance)
 * with M2M_E_PROTO_STALE; that covers copies and state restored after a
 * restart, not an exact restore into the same process. */
struct proto_mod_hs {
	enum proto_mod_state state;
	const struct proto_mod_hs *self;	/* where it was made */
	uint8_t instance[PROTO_INSTANCE_LEN];	/* of the context it was made under */
	uint8_t e_m_priv[PROTO_SCALAR_LEN];
	uint8_t e_m[PROTO_POINT_LEN];
	uint8_t dh1[PROTO_DH_LEN];		/* e_m with the pinned S */
	uint8_t hello[PROTO_HELLO_MAX];		/* as sent, for TH2 */
	size_t hello_len;
	uint8_t data_hash[PROTO_HASH_LEN];	/* of the first data, once a CHALLENGE is answered */
	struct proto_mod_cand cand[PROTO_MOD_CANDIDATES];
	unsigned n_cand;			/* candidates in use, up to PROTO_MOD_CANDIDATES */
	unsigned next;				/* the one to fill next: the oldest when full */
	unsigned last;				/* candidate of the last proto_mod_challenge */
};

/* What a module can compute before it has anything to send: e_m and DH1,
 * which depend only on the pinned server key. A device on a duty cycle can
 * make them while it would otherwise wait; m2m-sim makes them ahead of a run
 * so that its own CPU does not hide the server's limit. Used once. */
struct proto_mod_prep {
	const struct proto_mod_prep *self;	/* where it was made: a copy is refused */
	uint8_t instance[PROTO_INSTANCE_LEN];
	uint8_t e_m_priv[PROTO_SCALAR_LEN];
	uint8_t e_m[PROTO_POINT_LEN];
	uint8_t dh1[PROTO_DH_LEN];
	uint8_t server_pub[PROTO_POINT_LEN];	/* the S it was made for */
};

enum m2m_err proto_mod_prepare(struct proto_ctx *ctx,
    const uint8_t server_pub[PROTO_POINT_LEN], struct proto_mod_prep *p);
/* Writes the HELLO from p, which must have been made for c's server key
 * (M2M_E_INVALID_ARG otherwise) and be the one proto_mod_prepare filled,
 * not a copy of it (M2M_E_PROTO_STALE); p is wiped once it is taken, so
 * it starts one handshake only. */
enum m2m_err proto_mod_hello_prepared(struct proto_mod_hs *hs,
    const struct proto_mod_creds *c, struct proto_mod_prep *p, uint8_t *out, size_t cap,
    size_t *outlen);
/* Both at once: makes e_m and DH1, writes the HELLO. */
enum m2m_err proto_mod_hello(struct proto_ctx *ctx, struct proto_mod_hs *hs,
    const struct proto_mod_creds *c, uint8_t *out, size_t cap, size_t *outlen);
/* Answers a RETRY: the same HELLO with the cookie echoed. Also in state
 * AUTH_SENT, where a forged CHALLENGE may have put the module before the
 * server asked for a cookie. */
enum m2m_err proto_mod_retry(struct proto_ctx *ctx, struct proto_mod_hs *hs,
    const struct proto_mod_creds *c, const uint8_t *pkt, size_t len, uint8_t *out,
    size_t cap, size_t *outlen);
/* Answers a CHALLENGE with the AUTH carrying the identity and first data,
 * in state HELLO_SENT or AUTH_SENT: every CHALLENGE with a valid E_s is
 * answered, since a forged one cannot be told from the server's. Each gets
 * its own keys, stored as candidate hs->last (replacing the oldest when all
 * PROTO_MOD_CANDIDATES are used); e_m and DH1 are kept for the next one.
 * Every call of a handshake must pass the same first data
 * (M2M_E_INVALID_ARG otherwise): a CHALLENGE answered again after its
 * candidate was replaced then gives the same AUTH bytes, never a second
 * plaintext under the same key and nonce. A CHALLENGE already answered
 * (the same bytes for the same HELLO, e.g. the server's answer to a
 * re-sent HELLO) returns M2M_E_PROTO_ANSWERED with nothing written and
 * hs->last naming its candidate: the caller re-sends that AUTH. */
enum m2m_err proto_mod_challenge(struct proto_ctx *ctx, struct proto_mod_hs *hs,
    const struct proto_mod_creds *c, const uint8_t *pkt, size_t len,
    const uint8_t *data, size_t data_len, uint8_t *out, size_t cap, size_t *outlen);
/* Verifies the WELCOME (only the holder of s can make it) against each
 * candidate and sets up the session with the one it verifies for; e_m, DH1
 * and every candidate are then wiped. A WELCOME that verifies for none
 * (forged, or of another handshake) changes nothing: M2M_E_PROTO_DECRYPT.
 * pt (PROTO_DATAGRAM_MAX bytes) receives the plaintext that w's pointers
 * refer to; the caller stores w->pseudonym for the next HELLO. */
enum m2m_err proto_mod_welcome(struct proto_ctx *ctx, struct proto_mod_hs *hs,
    const uint8_t *pkt, size_t len, struct proto_session *s, uint8_t *pt,
    struct proto_welcome_pt *w);
/* Erases the handshake: after a session is set up, or to give up. */
void proto_mod_hs_wipe(struct proto_mod_hs *hs);

#endif
