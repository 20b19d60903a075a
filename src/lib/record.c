/* SPDX-License-Identifier: Apache-2.0 */
/* libm2m after the handshake: DATA and its DATA_ACK (instructions),
 * REKEY and its REKEY_ACK, one exchange in flight; and the calls every
 * phase shares: output, timers, reasons, software keys. */
#include "config.h"

#include "src/lib/lib.h"

#include "src/crypto/backend.h"

#include <string.h>

static int
seal_wait(struct lib *l, uint64_t now, uint8_t type, const uint8_t *pt, size_t ptlen)
{
	enum m2m_err err;
	uint64_t seq;

	err = proto_session_seal(l->ctx, &l->s, type, pt, ptlen, l->out, sizeof(l->out),
	    &l->out_len, &seq);
	if (err != M2M_OK)
		return lib_rc(l, err);
	l->wait_type = type;
	l->wait_seq = seq;
	lib_arm(l, now);
	return M2M_RC_OK;
}

static int
may_send(struct lib *l)
{
	if (l->phase != LIB_ESTABLISHED)
		return M2M_RC_ESTATE;
	return l->waiting ? M2M_RC_EBUSY : M2M_RC_OK;
}

int
m2m_module_send(struct m2m_module *m, uint64_t now_ms,
    const uint8_t (*acks)[M2M_INSTR_ID_LEN], size_t n_acks, const uint8_t *payload,
    size_t len, uint64_t *seq)
{
	struct lib *l = lib_of(m);
	struct proto_data_pt d;
	uint8_t pt[PROTO_RECORD_MAX_PT];
	size_t ptlen;
	enum m2m_err err;
	int rc;

	if ((rc = may_send(l)) != M2M_RC_OK)
		return rc;
	if (n_acks > PROTO_ACKS_MAX || (n_acks > 0 && acks == NULL) ||
	    (len > 0 && payload == NULL))
		return lib_rc(l, M2M_E_INVALID_ARG);
	d.acks = n_acks > 0 ? acks[0] : NULL;
	d.n_acks = n_acks;
	d.payload = payload;
	d.payload_len = len;
	if ((err = proto_data_pt_encode(&d, pt, sizeof(pt), &ptlen)) != M2M_OK)
		return lib_rc(l, err == M2M_E_PROTO_BUFFER ? M2M_E_INVALID_ARG : err);
	if ((rc = seal_wait(l, now_ms, PROTO_DATA, pt, ptlen)) == M2M_RC_OK && seq != NULL)
		*seq = l->wait_seq;
	return rc;
}

int
m2m_module_rekey(struct m2m_module *m, uint64_t now_ms, const uint8_t next_pub[M2M_POINT_LEN])
{
	struct lib *l = lib_of(m);
	int rc;

	if ((rc = may_send(l)) != M2M_RC_OK)
		return rc;
	if (next_pub == NULL || proto_p256_check(l->ctx, next_pub, PROTO_POINT_LEN) != M2M_OK)
		return lib_rc(l, M2M_E_INVALID_ARG);
	memcpy(l->rekey_pub, next_pub, PROTO_POINT_LEN);
	return seal_wait(l, now_ms, PROTO_REKEY, next_pub, PROTO_POINT_LEN);
}

/* The answer to the exchange in flight; other answers (to a DATA answered
 * already, whose DATA_ACK came twice) are authentic but stale: dropped. */
static int
on_ack(struct lib *l, uint8_t type, const uint8_t *pt, size_t ptlen, struct m2m_event *ev)
{
	struct proto_ack_pt a;
	enum m2m_err err;

	if ((err = proto_ack_pt_decode(type, pt, ptlen, &a)) != M2M_OK)
		return lib_rc(l, err);
	if (!l->waiting || l->wait_seq != a.acked_seq ||
	    l->wait_type != (type == PROTO_DATA_ACK ? PROTO_DATA : PROTO_REKEY))
		return lib_rc(l, M2M_E_PROTO_STATE);
	l->waiting = 0;
	l->ready = 0;
	ev->seq = a.acked_seq;
	ev->status = a.status;
	if (type == PROTO_DATA_ACK) {
		ev->type = M2M_EV_DATA_ACKED;
		for (size_t i = 0; i < a.n_instr; i++) {
			ev->instr[i].id = a.instr[i].id;
			ev->instr[i].body = a.instr[i].body;
			ev->instr[i].body_len = a.instr[i].body_len;
		}
		ev->n_instr = a.n_instr;
		return M2M_RC_OK;
	}
	ev->type = M2M_EV_REKEY_ACKED;
	if (a.status != 0)
		return M2M_RC_OK;
	l->flags |= LIB_FLAG_NEXT_KEY;
	memcpy(l->next_pub, l->rekey_pub, PROTO_POINT_LEN);
	return lib_save(l, M2M_SAVE_KEY_PENDING);
}

int
lib_record_input(struct lib *l, const uint8_t *dgram, size_t len, struct m2m_event *ev)
{
	struct proto_record r;
	size_t ptlen;
	enum m2m_err err;

	if ((err = proto_record_decode(dgram, len, &r)) != M2M_OK)
		return lib_rc(l, err);
	if ((err = proto_session_open(l->ctx, &l->s, &r, dgram, l->pt, sizeof(l->pt),
	    &ptlen)) != M2M_OK)
		return lib_rc(l, err);
	return on_ack(l, r.type, l->pt, ptlen, ev);
}

size_t
m2m_module_output(struct m2m_module *m, uint8_t *buf, size_t cap)
{
	struct lib *l = lib_of(m);

	const uint8_t *src = l->send_hello ? l->hs.hello : l->out;
	size_t n = l->send_hello ? l->hs.hello_len : l->out_len;

	if (!l->ready || buf == NULL || cap < n)
		return 0;
	l->ready = 0;
	memcpy(buf, src, n);
	return n;
}

uint64_t
m2m_module_next_timeout(const struct m2m_module *m)
{
	const struct lib *l = lib_of_const(m);

	return l->waiting ? l->due : UINT64_MAX;
}

/* Gives up the exchange in flight: a handshake is erased (connect starts
 * another); a DATA or REKEY is dropped, the session stays. */
static void
give_up(struct lib *l, struct m2m_event *ev)
{
	ev->type = M2M_EV_GAVE_UP;
	ev->seq = l->wait_seq;
	l->waiting = 0;
	l->ready = 0;
	if (l->phase == LIB_HANDSHAKE) {
		proto_mod_hs_wipe(&l->hs);
		proto_wipe(l->data, sizeof(l->data));
		l->phase = LIB_IDLE;
	}
}

int
m2m_module_timeout(struct m2m_module *m, uint64_t now_ms, struct m2m_event *ev)
{
	struct lib *l = lib_of(m);

	if (ev == NULL)
		return M2M_RC_EINVAL;
	memset(ev, 0, sizeof(*ev));
	if (!l->waiting || now_ms < l->due)
		return M2M_RC_OK;
	if (l->tries >= l->cfg.max_tries) {
		give_up(l, ev);
		return M2M_RC_OK;
	}
	l->tries++;
	l->rto = l->rto > l->cfg.rto_max_ms / 2 ? l->cfg.rto_max_ms : l->rto * 2;
	l->due = now_ms + l->rto;
	l->ready = 1;
	/* Waiting for a WELCOME, every other try re-sends the HELLO: a lost
	 * WELCOME is answered by a new CHALLENGE, which a re-sent AUTH would
	 * not get once its token is spent. */
	l->send_hello = l->phase == LIB_HANDSHAKE && l->hs.state == PROTO_MOD_AUTH_SENT &&
	    l->tries % 2 == 1;
	return M2M_RC_OK;
}

int
m2m_module_established(const struct m2m_module *m)
{
	return lib_of_const(m)->phase == LIB_ESTABLISHED;
}

const char *
m2m_module_reason(const struct m2m_module *m)
{
	return m2m_strerror(lib_of_const(m)->reason);
}

const char *
m2m_rc_str(int rc)
{
	switch (rc) {
	case M2M_RC_OK: return "success";
	case M2M_RC_IGNORED: return "datagram ignored";
	case M2M_RC_EINVAL: return "invalid argument";
	case M2M_RC_ESTATE: return "not possible in this state";
	case M2M_RC_EBUSY: return "an exchange is in flight";
	case M2M_RC_ECRYPTO: return "crypto operation failed";
	case M2M_RC_ESAVE: return "the state could not be saved";
	case M2M_RC_ESTATEBLOB: return "saved state unreadable";
	case M2M_RC_ENOMEM: return "out of memory";
	default: return "unknown code";
	}
}

const char *
m2m_crypto_backend(void)
{
	return crypto_be_name();
}

int
m2m_ecdh(struct m2m_module *m, const uint8_t priv[M2M_SCALAR_LEN],
    const uint8_t peer[M2M_POINT_FULL_LEN], uint8_t dh[M2M_DH_LEN])
{
	struct lib *l = lib_of(m);

	return lib_rc(l, proto_p256_ecdh(l->ctx, priv, PROTO_SCALAR_LEN, peer,
	    PROTO_POINT_FULL_LEN, dh));
}

int
m2m_keygen(struct m2m_module *m, uint8_t priv[M2M_SCALAR_LEN], uint8_t pub[M2M_POINT_LEN])
{
	struct lib *l = lib_of(m);

	return lib_rc(l, proto_p256_keygen(l->ctx, priv, pub));
}
