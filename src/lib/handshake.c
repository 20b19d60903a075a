/* SPDX-License-Identifier: Apache-2.0 */
/* libm2m's handshake input: RETRY, CHALLENGE (every valid one answered
 * while waiting, doc/protocol.md 10.1) and WELCOME (one that does not
 * verify changes nothing). */
#include "config.h"

#include "src/lib/lib.h"

#include <string.h>

static int
on_retry(struct lib *l, uint64_t now, const uint8_t *d, size_t len)
{
	enum m2m_err err;

	err = proto_mod_retry(l->ctx, &l->hs, &l->creds, d, len, l->out, sizeof(l->out),
	    &l->out_len);
	if (err != M2M_OK)
		return lib_rc(l, err);
	lib_arm(l, now);
	return M2M_RC_OK;
}

static int
on_challenge(struct lib *l, uint64_t now, const uint8_t *d, size_t len)
{
	uint8_t auth[PROTO_DATAGRAM_MAX];
	size_t n;
	enum m2m_err err;

	err = proto_mod_challenge(l->ctx, &l->hs, &l->creds, d, len, l->data, l->data_len,
	    auth, sizeof(auth), &n);
	if (err == M2M_E_PROTO_ANSWERED && l->hs.last == l->auth_cand &&
	    l->out[1] == PROTO_AUTH) {
		l->ready = 1;		/* the server's answer to a re-sent HELLO */
		l->send_hello = 0;
		return M2M_RC_OK;
	}
	if (err != M2M_OK)
		return lib_rc(l, err);
	memcpy(l->out, auth, n);
	l->out_len = n;
	l->auth_cand = l->hs.last;
	lib_arm(l, now);
	return M2M_RC_OK;
}

static void
event_instr(struct m2m_event *ev, const struct proto_instr *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ev->instr[i].id = in[i].id;
		ev->instr[i].body = in[i].body;
		ev->instr[i].body_len = in[i].body_len;
	}
	ev->n_instr = n;
}

static int
on_welcome(struct lib *l, const uint8_t *d, size_t len, struct m2m_event *ev)
{
	struct proto_welcome_pt w;
	unsigned why = M2M_SAVE_PSEUDONYM;
	enum m2m_err err;

	if ((err = proto_mod_welcome(l->ctx, &l->hs, d, len, &l->s, l->pt, &w)) != M2M_OK)
		return lib_rc(l, err);
	/* A WELCOME to a handshake made with the next key shows it current
	 * (doc/protocol.md 12.3, step 5), whatever its status. */
	if (l->flags & LIB_FLAG_NEXT_KEY) {
		l->flags &= (uint8_t)~LIB_FLAG_NEXT_KEY;
		why |= M2M_SAVE_KEY_PROMOTED;
	}
	memcpy(l->creds.pseudonym, w.pseudonym, w.pseudonym_len);
	l->creds.pseudonym_len = w.pseudonym_len;
	l->phase = LIB_ESTABLISHED;
	l->waiting = 0;
	l->ready = 0;
	proto_wipe(l->data, sizeof(l->data));
	ev->type = M2M_EV_ESTABLISHED;
	ev->status = w.status;
	event_instr(ev, w.instr, w.n_instr);
	return lib_save(l, why);
}

int
m2m_module_input(struct m2m_module *m, uint64_t now_ms, const uint8_t *dgram, size_t len,
    struct m2m_event *ev)
{
	struct lib *l = lib_of(m);
	uint8_t type;
	enum m2m_err err;

	if (ev == NULL || (dgram == NULL && len > 0))
		return M2M_RC_EINVAL;
	memset(ev, 0, sizeof(*ev));
	if ((err = proto_peek(dgram, len, &type)) != M2M_OK)
		return lib_rc(l, err);
	if (l->phase == LIB_ESTABLISHED)
		return lib_record_input(l, dgram, len, ev);
	if (l->phase != LIB_HANDSHAKE)
		return lib_rc(l, M2M_E_PROTO_STATE);
	switch (type) {
	case PROTO_RETRY:
		return on_retry(l, now_ms, dgram, len);
	case PROTO_CHALLENGE:
		return on_challenge(l, now_ms, dgram, len);
	case PROTO_WELCOME:
		return on_welcome(l, dgram, len, ev);
	default:
		return lib_rc(l, M2M_E_PROTO_STATE);
	}
}
