/* SPDX-License-Identifier: Apache-2.0 */
/* libm2m's module: set-up, the handshake (HELLO, RETRY, CHALLENGE, AUTH,
 * WELCOME) on the core's module role, the output slot and the
 * retransmission timer. Records after the handshake are in record.c. */
#include "config.h"

#include "src/lib/lib.h"

#include <string.h>

_Static_assert(sizeof(struct lib) <= M2M_MODULE_SIZE, "M2M_MODULE_SIZE too small");
_Static_assert(M2M_DATAGRAM_MAX == PROTO_DATAGRAM_MAX && M2M_POINT_LEN == PROTO_POINT_LEN &&
    M2M_INSTR_MAX == PROTO_INSTR_MAX && M2M_ACKS_MAX == PROTO_ACKS_MAX &&
    M2M_PSEUDONYM_MAX == PROTO_PSEUDONYM_MAX && M2M_IDENTITY_MAX == PROTO_IDENTITY_MAX &&
    M2M_DATA_MAX == PROTO_RECORD_MAX_PT - 1, "public sizes are the protocol's");

int
lib_rc(struct lib *l, enum m2m_err err)
{
	l->reason = err;
	switch (err) {
	case M2M_OK:
		return M2M_RC_OK;
	case M2M_E_NOMEM:
		return M2M_RC_ENOMEM;
	case M2M_E_INVALID_ARG:
	case M2M_E_PROTO_BUFFER:
	case M2M_E_PROTO_OVERSIZE:
		return M2M_RC_EINVAL;
	case M2M_E_CRYPTO:
	case M2M_E_PROTO_SEQ_EXHAUSTED:
		return M2M_RC_ECRYPTO;
	default:
		/* Anything a datagram caused: it is dropped. */
		return M2M_RC_IGNORED;
	}
}

void
lib_arm(struct lib *l, uint64_t now_ms)
{
	l->ready = 1;
	l->send_hello = 0;
	l->waiting = 1;
	l->tries = 1;
	l->rto = l->cfg.rto_ms;
	l->due = now_ms + l->rto;
}

/* DH2 with the static key: the caller's, which one by the saved flag. */
static enum m2m_err
static_dh(void *arg, const uint8_t e_s[PROTO_POINT_FULL_LEN], uint8_t out[PROTO_DH_LEN])
{
	struct lib *l = arg;
	enum m2m_key k = (l->flags & LIB_FLAG_NEXT_KEY) ? M2M_KEY_NEXT : M2M_KEY_CURRENT;

	return l->cfg.static_ecdh(l->cfg.arg, (struct m2m_module *)(void *)l, k, e_s, out) == 0 ?
	    M2M_OK : M2M_E_CRYPTO;
}

static int
config_check(const struct m2m_config *cfg)
{
	if (cfg == NULL || cfg->identity == NULL || cfg->identity_len == 0 ||
	    cfg->identity_len > PROTO_IDENTITY_MAX || cfg->static_ecdh == NULL)
		return M2M_RC_EINVAL;
	return M2M_RC_OK;
}

int
m2m_module_init(struct m2m_module *m, const struct m2m_config *cfg,
    const uint8_t state[M2M_STATE_LEN])
{
	struct lib *l = lib_of(m);
	struct proto_rng rng;
	int rc;

	memset(m, 0, sizeof(*m));
	if (config_check(cfg) != M2M_RC_OK || state == NULL)
		return M2M_RC_EINVAL;
	l->cfg = *cfg;
	l->cfg.identity = NULL;			/* copied below: nothing of the caller's kept */
	l->cfg.rto_ms = cfg->rto_ms ? cfg->rto_ms : 1000;
	l->cfg.rto_max_ms = cfg->rto_max_ms ? cfg->rto_max_ms : 16000;
	l->cfg.max_tries = cfg->max_tries ? cfg->max_tries : 8;
	memcpy(l->creds.identity, cfg->identity, cfg->identity_len);
	l->creds.identity_len = cfg->identity_len;
	memcpy(l->creds.server_pub, cfg->server_pub, PROTO_POINT_LEN);
	l->creds.static_dh = static_dh;
	l->creds.static_dh_arg = l;
	if ((rc = lib_state_load(l, state)) != M2M_RC_OK)
		return rc;
	if (proto_key_id(cfg->server_pub, l->creds.key_id) != M2M_OK)
		return M2M_RC_ECRYPTO;
	rng.fill = cfg->random;
	rng.arg = cfg->arg;
	if ((rc = lib_rc(l, proto_ctx_new(&l->ctx, cfg->random ? &rng : NULL))) != M2M_RC_OK)
		return rc;
	/* S is checked once here rather than failing every handshake. */
	if (proto_p256_check(l->ctx, cfg->server_pub, PROTO_POINT_LEN) != M2M_OK) {
		m2m_module_free(m);
		return M2M_RC_EINVAL;
	}
	return M2M_RC_OK;
}

void
m2m_module_free(struct m2m_module *m)
{
	struct lib *l = lib_of(m);

	proto_ctx_free(l->ctx);
	proto_wipe(m, sizeof(*m));
}

int
m2m_module_prepare(struct m2m_module *m)
{
	struct lib *l = lib_of(m);
	int rc;

	rc = lib_rc(l, proto_mod_prepare(l->ctx, l->creds.server_pub, &l->prep));
	l->prepared = rc == M2M_RC_OK;
	return rc;
}

int
m2m_module_connect(struct m2m_module *m, uint64_t now_ms, const uint8_t *data, size_t len)
{
	struct lib *l = lib_of(m);
	enum m2m_err err;

	/* The AUTH must fit one datagram: 51 + I + D bytes (doc/protocol.md 4.4). */
	if ((data == NULL && len > 0) || 51 + l->creds.identity_len + len > PROTO_DATAGRAM_MAX)
		return lib_rc(l, M2M_E_INVALID_ARG);
	proto_mod_hs_wipe(&l->hs);
	proto_session_wipe(&l->s);
	l->phase = LIB_IDLE;
	l->waiting = 0;
	l->ready = 0;
	if (len > 0)
		memcpy(l->data, data, len);
	l->data_len = len;
	if (l->prepared)
		err = proto_mod_hello_prepared(&l->hs, &l->creds, &l->prep, l->out,
		    sizeof(l->out), &l->out_len);
	else
		err = proto_mod_hello(l->ctx, &l->hs, &l->creds, l->out, sizeof(l->out),
		    &l->out_len);
	l->prepared = 0;
	proto_wipe(&l->prep, sizeof(l->prep));
	if (err != M2M_OK)
		return lib_rc(l, err);
	l->phase = LIB_HANDSHAKE;
	l->wait_type = 0;
	lib_arm(l, now_ms);
	return M2M_RC_OK;
}
