/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the HSM layer shared by its files: the one place that
 * includes the PKCS#11 and libp11 headers. */
#ifndef M2M_HSM_INT_H
#define M2M_HSM_INT_H

#include <pthread.h>
#include <stdarg.h>

#define CRYPTOKI_COMPAT
#include "hsm/pkcs11.h"
#include <libp11.h>

#include "hsm/hsm.h"

#define HSM_PIN_MAX	256
#define HSM_TOKEN_NAME	96

/* A key the sessions serve, resolved once at open time. */
struct hsm_srvkey {
	uint8_t key_id[HSM_KEY_ID_LEN];
	uint8_t id[HSM_CKA_ID_MAX];
	size_t id_len;
	char label[HSM_LABEL_MAX + 1];
};

/* What a key selector ("label", "id:HEX" or a URI's object/id) names. */
struct hsm_keysel {
	char label[HSM_LABEL_MAX + 1];
	uint8_t id[HSM_CKA_ID_MAX];
	size_t id_len;
	int has_label, has_id;
};

/* What a pkcs11: URI names; empty strings are "any". */
struct hsm_uri {
	char token[33], serial[17], manufacturer[33], model[17];
	char module_path[256], pin_source[256];
	struct hsm_keysel key;
};

struct hsm {
	PKCS11_CTX *ctx;
	PKCS11_SLOT *slots;
	unsigned nslots;
	void *dl;			/* our own reference, for C_GetFunctionList */
	CK_FUNCTION_LIST *f;
	CK_SLOT_ID slot;
	char name[HSM_TOKEN_NAME];
	char *pin_file;			/* copies: the config strings are borrowed */
	struct hsm_keysel sel;		/* configured key, if any */
	CK_SESSION_HANDLE admin;	/* R/W: login, keygen, lookups */
	pthread_mutex_t login_lock;	/* one login attempt at a time, ever */
	enum m2m_err login_dead;	/* a wrong or locked PIN: never try again */
	char login_detail[256];
	struct hsm_srvkey *keys;	/* what sessions serve, NULL until needed */
	size_t nkeys;
	/* Re-opening (hsm_reopen) finalizes the module under everyone's feet:
	 * the pool's PKCS#11 calls hold use for reading, a re-open for writing.
	 * gen counts re-opens, so a session handle from an earlier one is
	 * forgotten, never closed (its number may be someone's new session). */
	pthread_rwlock_t use;
	uint64_t gen;
	char *module_path;		/* what hsm_reopen loads and selects again */
	struct hsm_uri uri;
	char *token_plain;		/* label or serial; NULL: the URI selects */
};

/* detail formatting: always NUL-terminates, tolerates NULL/0 buffers. */
void hsm_detail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *hsm_ckr_name(CK_RV rv);
/* err := "what: CKR_NAME"; returns code. */
enum m2m_err hsm_ckr_fail(enum m2m_err code, CK_RV rv, char *err, size_t errlen,
    const char *what);
/* A failure that means the session or token is gone, not this request. */
int hsm_ckr_is_token_failure(CK_RV rv);
/* Drains the OpenSSL error queue that libp11 filled; returns buf. */
const char *hsm_p11_last_error(char *buf, size_t len);

enum m2m_err hsm_module_load(struct hsm *h, const char *path, char *err, size_t errlen);
/* libp11's part of loading: a fresh context, C_Initialize. */
enum m2m_err hsm_p11_load(struct hsm *h, const char *path, char *err, size_t errlen);
/* C_Finalize through libp11; the admin session and slot list go with it. */
void hsm_p11_unload(struct hsm *h);
/* The R/W admin session, logged in. */
enum m2m_err hsm_admin_open(struct hsm *h, char *err, size_t errlen);
enum m2m_err hsm_uri_parse(const char *s, struct hsm_uri *uri, char *err, size_t errlen);
enum m2m_err hsm_keysel_parse(const char *s, struct hsm_keysel *sel, char *err, size_t errlen);
enum m2m_err hsm_token_select(struct hsm *h, const struct hsm_uri *want, const char *plain,
    char *err, size_t errlen);
enum m2m_err hsm_pin_read(const char *pin_file, char *pin, size_t pinlen, char *err, size_t errlen);
/* Makes sure the application is logged in on session s: one C_Login at most,
 * never again after a wrong or locked PIN. */
enum m2m_err hsm_login(struct hsm *h, CK_SESSION_HANDLE s, char *err, size_t errlen);
/* CKM_ECDH1_DERIVE or CKM_EC_KEY_PAIR_GEN; key sizes are not checked
 * because tokens disagree on bits or bytes. */
enum m2m_err hsm_mech_check(struct hsm *h, CK_MECHANISM_TYPE m, char *err, size_t errlen);

/* Key objects on session s. */
enum m2m_err hsm_key_info_read(struct hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv,
    struct hsm_key_info *info);
enum m2m_err hsm_key_lookup(struct hsm *h, CK_SESSION_HANDLE s, const struct hsm_keysel *sel,
    CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *obj, char *err, size_t errlen);
enum m2m_err hsm_key_usable(const struct hsm_key_info *k, char *err, size_t errlen);
/* Resolves h->keys once: the configured key or every usable P-256 key. */
enum m2m_err hsm_keys_resolve(struct hsm *h, char *err, size_t errlen);
/* Every resolved key still there (private half, by CKA_ID) on the admin session. */
enum m2m_err hsm_keys_present(struct hsm *h, char *err, size_t errlen);
/* Module, token, login and keys again, from scratch: what a token that
 * went away needs once it is back. Takes use for writing; bumps gen and
 * returns it. */
enum m2m_err hsm_reopen(struct hsm *h, uint64_t *gen, char *err, size_t errlen);
/* Point conversions: DER CKA_EC_POINT <-> compressed; compressed -> 65 bytes. */
enum m2m_err hsm_ec_point_compress(const uint8_t *der, size_t len, uint8_t out[HSM_POINT_LEN]);
/* Either SEC1 form in; validated (on the curve) uncompressed out. */
enum m2m_err hsm_ec_point_expand(const uint8_t *in, size_t len, uint8_t out[65]);

/* A raw session with the handles of the served keys. */
struct hsm_sess {
	CK_SESSION_HANDLE s;		/* CK_INVALID_HANDLE: none */
	CK_OBJECT_HANDLE *objs;		/* parallel to h->keys */
};
enum m2m_err hsm_sess_open(struct hsm *h, struct hsm_sess *ss, char *err, size_t errlen);
void hsm_sess_close(struct hsm *h, struct hsm_sess *ss);
/* ECDH on an open raw session; *rv tells the caller whether the session is
 * still good (see hsm_ckr_is_token_failure). */
enum m2m_err hsm_sess_derive(struct hsm *h, struct hsm_sess *ss, const uint8_t key_id[HSM_KEY_ID_LEN],
    const uint8_t *peer, size_t peer_len, uint8_t secret[HSM_SECRET_LEN], CK_RV *rv,
    char *err, size_t errlen);

#endif
