/* SPDX-License-Identifier: Apache-2.0 */
/* libm2m: the module role of the m2m protocol (doc/protocol.md) as a
 * library for devices. Sans-I/O: the caller moves datagrams and passes the
 * time; the library never opens a socket, never reads a clock, keeps no
 * globals, and its own code allocates only in m2m_module_init (the crypto
 * backend's context; the crypto library may allocate inside operations,
 * doc/devices.md section 5). Its state lives in a struct m2m_module the
 * caller provides, of a size known at compile time. doc/devices.md
 * describes the use.
 *
 * One exchange is in flight at a time: the handshake (HELLO, RETRY,
 * CHALLENGE, AUTH with the first data, WELCOME), then one DATA or one
 * REKEY until its answer. The library says when its next timeout is due
 * (m2m_module_next_timeout); the caller calls m2m_module_timeout then, and
 * sends whatever m2m_module_output gives after every call. */
#ifndef M2M_M2M_H
#define M2M_M2M_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define M2M_API_VERSION		1

#define M2M_DATAGRAM_MAX	1200	/* no datagram of the protocol is longer */
#define M2M_IDENTITY_MAX	64
#define M2M_PSEUDONYM_MAX	32
#define M2M_POINT_LEN		33	/* SEC1 compressed P-256 point */
#define M2M_POINT_FULL_LEN	65	/* SEC1 uncompressed */
#define M2M_SCALAR_LEN		32
#define M2M_DH_LEN		32	/* x coordinate of the shared point */
#define M2M_INSTR_ID_LEN	8
#define M2M_INSTR_MAX		8	/* instructions per WELCOME or DATA_ACK */
#define M2M_ACKS_MAX		16	/* instruction confirmations per DATA */
#define M2M_DATA_MAX		1165	/* DATA payload without confirmations */
#define M2M_STATE_LEN		80	/* the saved state (m2m_module_init) */
#define M2M_MODULE_SIZE		5120	/* sizeof(struct m2m_module) */

/* What every call returns. Negative: the call did nothing. */
enum m2m_rc {
	M2M_RC_OK = 0,
	M2M_RC_IGNORED = 1,	/* datagram dropped (malformed, forged, replayed, late) */
	M2M_RC_EINVAL = -1,	/* bad argument */
	M2M_RC_ESTATE = -2,	/* not in a state where this call makes sense */
	M2M_RC_EBUSY = -3,	/* an exchange is still in flight: wait for its event */
	M2M_RC_ECRYPTO = -4,	/* crypto backend or static-key callback failed */
	M2M_RC_ESAVE = -5,	/* the save callback failed: see m2m_module_init */
	M2M_RC_ESTATEBLOB = -6,	/* saved state unreadable (length, version, check) */
	M2M_RC_ENOMEM = -7,	/* set-up could not allocate */
};

/* Which static key an ECDH is asked for: the current one, or the next one
 * after a REKEY_ACK recorded it (until a WELCOME shows it current). */
enum m2m_key { M2M_KEY_CURRENT = 0, M2M_KEY_NEXT = 1 };

/* What a save callback is given (bits): why the state changed. */
#define M2M_SAVE_PSEUDONYM	0x1	/* a WELCOME delivered the next pseudonym */
#define M2M_SAVE_KEY_PENDING	0x2	/* a REKEY_ACK recorded the next key */
#define M2M_SAVE_KEY_PROMOTED	0x4	/* the next key is now the current one */

struct m2m_module;

struct m2m_config {
	const uint8_t *identity;		/* 1..M2M_IDENTITY_MAX bytes */
	size_t identity_len;
	uint8_t server_pub[M2M_POINT_LEN];	/* the pinned server key S */
	/* DH2 = m * E_s with the static key: the key may stay in a file, a
	 * PKCS#11 token or a secure element. peer is validated and
	 * uncompressed. 0 on success. m2m_ecdh does it for a key in memory. */
	int (*static_ecdh)(void *arg, struct m2m_module *m, enum m2m_key key,
	    const uint8_t peer[M2M_POINT_FULL_LEN], uint8_t dh[M2M_DH_LEN]);
	/* Called with the new state whenever it must survive a power loss,
	 * before the library acts on it (doc/devices.md); 0 on success. With
	 * M2M_SAVE_KEY_PROMOTED the caller makes its next key current in the
	 * same save. */
	int (*save)(void *arg, const uint8_t state[M2M_STATE_LEN], unsigned why);
	/* Randomness (ephemeral keys); NULL: the crypto backend's. 1 on success. */
	int (*random)(void *arg, uint8_t *buf, size_t len);
	void *arg;				/* passed to the callbacks */
	uint32_t rto_ms;		/* first retransmission timeout; 0: 1000 */
	uint32_t rto_max_ms;		/* doubled up to this; 0: 16000 */
	unsigned max_tries;		/* sends of one datagram before giving up; 0: 8 */
};

/* An instruction from the server: its id (confirm it in a later DATA once
 * executed; an id seen before was executed already) and its body. The
 * pointers are valid until the next call on the module. */
struct m2m_instr {
	const uint8_t *id;		/* M2M_INSTR_ID_LEN */
	const uint8_t *body;
	size_t body_len;
};

enum m2m_event_type {
	M2M_EV_NONE = 0,
	M2M_EV_ESTABLISHED,	/* WELCOME verified: status, instructions */
	M2M_EV_DATA_ACKED,	/* the DATA of seq was acknowledged: instructions */
	M2M_EV_REKEY_ACKED,	/* status 0: the next key is recorded (pending) */
	M2M_EV_GAVE_UP,		/* max_tries sends unanswered: the exchange is dropped */
};

struct m2m_event {
	enum m2m_event_type type;
	uint8_t status;		/* WELCOME (1: key rotated) or REKEY_ACK status */
	uint64_t seq;		/* DATA_ACKED, REKEY_ACKED: the record answered */
	struct m2m_instr instr[M2M_INSTR_MAX];
	size_t n_instr;
};

/* The caller's memory for one module: nothing else is kept anywhere. */
struct m2m_module {
	union {
		uint8_t bytes[M2M_MODULE_SIZE];
		uint64_t align_u64;
		void *align_ptr;
	} opaque;
};

/* The first state of a device, from what it was provisioned with: its
 * first pseudonym (16..32 bytes). Pure bytes: a factory station can make
 * it. */
int m2m_state_new(uint8_t state[M2M_STATE_LEN], const uint8_t *pseudonym, size_t len);

/* Set-up: the configuration (copied; identity included) and the last
 * state saved. Allocates the crypto backend's context, the only
 * allocation; m2m_module_free releases it. */
int m2m_module_init(struct m2m_module *m, const struct m2m_config *cfg,
    const uint8_t state[M2M_STATE_LEN]);
void m2m_module_free(struct m2m_module *m);

/* Makes the ephemeral key of the next handshake ahead of time (one ECDH),
 * for a device that has time before it has data. Optional. */
int m2m_module_prepare(struct m2m_module *m);
/* Starts a handshake carrying data as the first data (in the AUTH);
 * queues the HELLO. Any session or handshake before is dropped. */
int m2m_module_connect(struct m2m_module *m, uint64_t now_ms, const uint8_t *data,
    size_t len);
/* Hands a received datagram to the module. ev receives what happened
 * (M2M_EV_NONE for most). M2M_RC_IGNORED: dropped; m2m_module_reason says
 * why. A datagram may queue an answer (m2m_module_output). */
int m2m_module_input(struct m2m_module *m, uint64_t now_ms, const uint8_t *dgram,
    size_t len, struct m2m_event *ev);
/* Sends a DATA: confirmations of executed instructions, then the payload
 * (1 + 8 * n_acks + len <= 1166). M2M_RC_EBUSY while a DATA or REKEY is
 * unanswered. *seq (if not NULL) gets its sequence number. */
int m2m_module_send(struct m2m_module *m, uint64_t now_ms,
    const uint8_t (*acks)[M2M_INSTR_ID_LEN], size_t n_acks, const uint8_t *payload,
    size_t len, uint64_t *seq);
/* Sends a REKEY with next_pub, the public half of the caller's next static
 * key (made in its token, or with m2m_keygen). */
int m2m_module_rekey(struct m2m_module *m, uint64_t now_ms,
    const uint8_t next_pub[M2M_POINT_LEN]);
/* The next datagram to send, copied into buf (M2M_DATAGRAM_MAX bytes);
 * 0 when there is none. Call it after every other call. */
size_t m2m_module_output(struct m2m_module *m, uint8_t *buf, size_t cap);
/* When m2m_module_timeout is next due (the caller's clock, in ms);
 * UINT64_MAX when nothing waits for an answer. */
uint64_t m2m_module_next_timeout(const struct m2m_module *m);
/* At or after the due time: queues the retransmission, or gives up after
 * max_tries (ev: M2M_EV_GAVE_UP; a given-up handshake needs a connect). */
int m2m_module_timeout(struct m2m_module *m, uint64_t now_ms, struct m2m_event *ev);

/* 1 once a WELCOME verified, until connect or a given-up handshake. */
int m2m_module_established(const struct m2m_module *m);
/* Why the last datagram was ignored or the last call failed: a sentence. */
const char *m2m_module_reason(const struct m2m_module *m);
const char *m2m_rc_str(int rc);
/* The crypto backend the library was built with: "openssl" or "mbedtls". */
const char *m2m_crypto_backend(void);

/* For a static key held in memory (a file): ECDH with the module's crypto
 * backend, to call from a static_ecdh callback, and a fresh key pair. */
int m2m_ecdh(struct m2m_module *m, const uint8_t priv[M2M_SCALAR_LEN],
    const uint8_t peer[M2M_POINT_FULL_LEN], uint8_t dh[M2M_DH_LEN]);
int m2m_keygen(struct m2m_module *m, uint8_t priv[M2M_SCALAR_LEN],
    uint8_t pub[M2M_POINT_LEN]);

#ifdef __cplusplus
}
#endif

#endif
