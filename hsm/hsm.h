/* SPDX-License-Identifier: Apache-2.0 */
/* The HSM layer: the server's P-256 key lives in a PKCS#11 token and ECDH
 * runs inside it. Opaque API; nothing outside hsm/ sees PKCS#11 or libp11. */
#ifndef M2M_HSM_H
#define M2M_HSM_H

#include <stddef.h>
#include <stdint.h>

#include "src/common/err.h"

#define HSM_POINT_LEN	33	/* SEC1 compressed P-256 point */
#define HSM_POINT_FULL_LEN 65	/* SEC1 uncompressed: what tokens take */
#define HSM_SECRET_LEN	32	/* x coordinate of the shared point */
#define HSM_KEY_ID_LEN	4	/* protocol key id: SHA-256(point)[0..3] */
#define HSM_DETAIL_LEN	512	/* a detail buffer this size never truncates in practice */
#define HSM_LABEL_MAX	64
#define HSM_CKA_ID_MAX	32

/* Where the key is. Strings are borrowed, not copied: the command line, the
 * environment or the [hsm] section of m2md.conf own them. The PIN itself is
 * never here: it is read from pin_file (or M2M_PIN) only when logging in. */
struct hsm_config {
	const char *module;	/* PKCS#11 module path; no default */
	const char *token;	/* label, serial or pkcs11: URI (RFC 7512) */
	const char *key;	/* label, or "id:HEX"; NULL: every P-256 derive key */
	const char *pin_file;	/* first line is the PIN */
	unsigned pool_threads;	/* HSM pool worker threads */
	unsigned pool_queue;	/* pending requests before M2M_E_FULL */
};

/* Zeroes cfg and sets the pool defaults. */
void hsm_config_init(struct hsm_config *cfg);
/* Fills unset fields from M2M_PKCS11_MODULE, M2M_PIN_FILE, M2M_TOKEN, M2M_KEY. */
void hsm_config_from_env(struct hsm_config *cfg);

struct hsm;

/* Loads the module, selects the token and logs in once (the PIN buffer is
 * wiped right after). On error, err explains: the dlopen reason, the tokens
 * present, the CKR_ name. */
enum m2m_err hsm_open(struct hsm **out, const struct hsm_config *cfg, char *err, size_t errlen);
void hsm_close(struct hsm *h);
/* "label (serial S)" of the selected token. */
const char *hsm_token_name(const struct hsm *h);
/* When a token or key is missing or the module fails to initialize: for
 * SoftHSM2 (module path), the first of its configuration, token directory
 * and object files this user cannot read, as a sentence in buf; returns 1
 * if there is one, 0 (buf untouched) otherwise or for another module. */
int hsm_access_hint(const char *module, char *buf, size_t len);
/* "name (uid N)" of the effective user, for messages about access. */
const char *hsm_user_name(char *buf, size_t len);

struct hsm_key_info {
	char label[HSM_LABEL_MAX + 1];
	uint8_t id[HSM_CKA_ID_MAX];	/* CKA_ID */
	size_t id_len;
	uint8_t pub[HSM_POINT_LEN];	/* from the public key object */
	uint8_t key_id[HSM_KEY_ID_LEN];
	int has_pub;		/* 0: no public object, pub and key_id unset */
	int p256, derive, sensitive, extractable, token, private_;
};

/* Private EC keys of the token, up to max. */
enum m2m_err hsm_key_list(struct hsm *h, struct hsm_key_info *keys, size_t max, size_t *n,
    char *err, size_t errlen);
/* The key named by sel ("label" or "id:HEX"; NULL: the configured one),
 * checked usable: P-256, CKA_DERIVE, public half present. */
enum m2m_err hsm_key_find(struct hsm *h, const char *sel, struct hsm_key_info *info,
    char *err, size_t errlen);
/* New P-256 pair: CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE true, CKA_EXTRACTABLE
 * false, CKA_DERIVE true. id NULL: the protocol key id becomes CKA_ID. */
enum m2m_err hsm_keygen(struct hsm *h, const char *label, const uint8_t *id, size_t idlen,
    struct hsm_key_info *info, char *err, size_t errlen);
/* SubjectPublicKeyInfo PEM of a public point, NUL-terminated. */
enum m2m_err hsm_pub_pem(const uint8_t pub[HSM_POINT_LEN], char *buf, size_t len);

/* One PKCS#11 session, for one thread at a time: the direct path. It serves
 * the configured key, or every usable P-256 key, each by protocol key id. */
struct hsm_session;
enum m2m_err hsm_session_open(struct hsm *h, struct hsm_session **out, char *err, size_t errlen);
void hsm_session_close(struct hsm_session *s);
/* ECDH inside the token; the derived session object is destroyed. The
 * caller wipes secret after use. */
enum m2m_err hsm_derive(struct hsm_session *s, const uint8_t key_id[HSM_KEY_ID_LEN],
    const uint8_t peer[HSM_POINT_LEN], uint8_t secret[HSM_SECRET_LEN], char *err, size_t errlen);
/* The same with the peer point compressed (33) or uncompressed (65 bytes,
 * which spares the decompression). */
enum m2m_err hsm_derive_point(struct hsm_session *s, const uint8_t key_id[HSM_KEY_ID_LEN],
    const uint8_t *peer, size_t peer_len, uint8_t secret[HSM_SECRET_LEN], char *err,
    size_t errlen);

/* The pool: fixed threads, each with its own session, fed by a bounded
 * queue; results come back in the requester's libevent loop. */
struct hsm_pool;
struct hsm_pool_client;
struct event_base;

/* Runs in the client's event_base thread. secret is NULL on error and valid
 * only during the call (the pool wipes it after); detail is the reason. */
typedef void hsm_done_fn(void *arg, enum m2m_err err, const uint8_t *secret, const char *detail);
/* Token trouble and recovery, for the server's log; runs in a pool thread.
 * WARN when the token is lost (or a re-open fails for a new reason), INFO
 * when it is back, DEBUG for each failed re-open attempt: never one line
 * per request. */
enum hsm_log_level { HSM_LOG_DEBUG, HSM_LOG_INFO, HSM_LOG_WARN };
typedef void hsm_log_fn(void *arg, enum hsm_log_level level, const char *msg);

struct hsm_pool_stats {
	uint64_t submitted, rejected_full, derive_ok, derive_failed;
	uint64_t latency_ns_sum;	/* submit to result, over ok + failed */
	uint64_t token_failures;	/* token-level errors seen, each retried once */
	uint64_t recoveries;		/* sessions reopened after a failure */
	uint64_t token_lost;		/* outages: the token up, then lost */
	uint64_t reopens;		/* the module re-opened: outages healed */
	uint64_t reopen_failures;	/* re-open attempts that failed */
	uint64_t rejected_down;		/* requests refused at once while lost */
	uint64_t probes;		/* ECDH probes of an idle token */
	unsigned queue_depth, in_flight, threads, queue_size;
	int token_ok;			/* 0 from the loss of the token to its re-open */
};

enum m2m_err hsm_pool_new(struct hsm *h, unsigned threads, unsigned queue, hsm_log_fn *log,
    void *logarg, struct hsm_pool **out, char *err, size_t errlen);
/* Stops the threads. Call after the client loops stopped: requests still
 * queued are dropped without callback. */
void hsm_pool_free(struct hsm_pool *p);
/* One per requester thread; base must outlive the client. */
enum m2m_err hsm_pool_client_new(struct hsm_pool *p, struct event_base *base,
    struct hsm_pool_client **out);
void hsm_pool_client_free(struct hsm_pool_client *c);
/* Never blocks: M2M_E_FULL at once (counted) when the queue is full,
 * M2M_E_HSM_TOKEN_FAILED at once (counted) while the token is lost and
 * being re-opened, M2M_E_HSM_KEY_NOT_FOUND at once for a key id the pool
 * does not serve. */
enum m2m_err hsm_pool_derive(struct hsm_pool_client *c, const uint8_t key_id[HSM_KEY_ID_LEN],
    const uint8_t peer[HSM_POINT_LEN], hsm_done_fn *done, void *arg);
/* The same with the peer in either SEC1 form: a caller that already
 * decoded the point passes it uncompressed and spares the square root. */
enum m2m_err hsm_pool_derive_point(struct hsm_pool_client *c,
    const uint8_t key_id[HSM_KEY_ID_LEN], const uint8_t *peer, size_t peer_len,
    hsm_done_fn *done, void *arg);
void hsm_pool_stats(struct hsm_pool *p, struct hsm_pool_stats *st);

#endif
