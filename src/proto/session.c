/* SPDX-License-Identifier: Apache-2.0 */
/* Established sessions: one key per direction, nonces from 64-bit sequence
 * numbers that never repeat, and a 64-entry sliding replay window with a
 * bit per entry for "answered", so a resent record can be answered again. */
#include "config.h"

#include "src/proto/schedule.h"

#include <string.h>

enum m2m_err
proto_session_init(struct proto_ctx *ctx, struct proto_session *s, enum proto_role role,
    const uint8_t id[PROTO_SESSION_ID_LEN], const uint8_t prk2[PROTO_HASH_LEN],
    const uint8_t th4[PROTO_HASH_LEN])
{
	struct sched_key c2s, s2c;
	enum m2m_err err;

	memset(s, 0, sizeof(*s));
	if ((err = proto_sched_expand(ctx, prk2, SCHED_LABEL_C2S, th4, &c2s)) != M2M_OK ||
	    (err = proto_sched_expand(ctx, prk2, SCHED_LABEL_S2C, th4, &s2c)) != M2M_OK)
		goto out;
	memcpy(s->id, id, PROTO_SESSION_ID_LEN);
	s->role = (uint8_t)role;
	/* Sequence number 0 is the handshake's first data (C2): records start
	 * at 1 so (session, seq) names each message of a module once. */
	s->tx_next = 1;
	if (role == PROTO_ROLE_MODULE) {
		memcpy(s->tx_key, c2s.key, PROTO_KEY_LEN), memcpy(s->tx_iv, c2s.iv, PROTO_IV_LEN);
		memcpy(s->rx_key, s2c.key, PROTO_KEY_LEN), memcpy(s->rx_iv, s2c.iv, PROTO_IV_LEN);
	} else {
		memcpy(s->tx_key, s2c.key, PROTO_KEY_LEN), memcpy(s->tx_iv, s2c.iv, PROTO_IV_LEN);
		memcpy(s->rx_key, c2s.key, PROTO_KEY_LEN), memcpy(s->rx_iv, c2s.iv, PROTO_IV_LEN);
	}
out:
	proto_wipe(&c2s, sizeof(c2s));
	proto_wipe(&s2c, sizeof(s2c));
	return err;
}

/* Modules send DATA and REKEY; the server answers with their ACKs. */
static int
may_send(enum proto_role role, uint8_t type)
{
	if (role == PROTO_ROLE_MODULE)
		return type == PROTO_DATA || type == PROTO_REKEY;
	return type == PROTO_DATA_ACK || type == PROTO_REKEY_ACK;
}

static void
nonce(const uint8_t iv[PROTO_IV_LEN], uint64_t seq, uint8_t out[PROTO_IV_LEN])
{
	uint8_t s[8];
	int i;

	proto_put_u64(s, seq);
	memcpy(out, iv, PROTO_IV_LEN);
	for (i = 0; i < 8; i++)
		out[PROTO_IV_LEN - 8 + i] ^= s[i];
}

enum m2m_err
proto_session_seal(struct proto_ctx *ctx, struct proto_session *s, uint8_t type,
    const uint8_t *pt, size_t ptlen, uint8_t *out, size_t cap, size_t *outlen,
    uint64_t *seq)
{
	uint8_t iv[PROTO_IV_LEN];
	size_t n = PROTO_RECORD_HDR_LEN + ptlen + PROTO_TAG_LEN;
	enum m2m_err err;

	if (!may_send((enum proto_role)s->role, type))
		return M2M_E_PROTO_DIRECTION;
	if (s->tx_next == UINT64_MAX)
		return M2M_E_PROTO_SEQ_EXHAUSTED;
	if (ptlen > PROTO_RECORD_MAX_PT)
		return M2M_E_PROTO_OVERSIZE;
	if (cap < n)
		return M2M_E_PROTO_BUFFER;
	out[0] = PROTO_VERSION;
	out[1] = type;
	memcpy(out + PROTO_HDR_LEN, s->id, PROTO_SESSION_ID_LEN);
	proto_put_u64(out + PROTO_HDR_LEN + PROTO_SESSION_ID_LEN, s->tx_next);
	nonce(s->tx_iv, s->tx_next, iv);
	err = proto_aead_seal(ctx, s->tx_key, iv, out, PROTO_RECORD_HDR_LEN, pt, ptlen,
	    out + PROTO_RECORD_HDR_LEN);
	if (err != M2M_OK)
		return err;
	if (seq != NULL)
		*seq = s->tx_next;
	s->tx_next++;
	*outlen = n;
	return M2M_OK;
}

static enum m2m_err
replay_check(const struct proto_session *s, uint64_t seq)
{
	uint64_t diff;

	if (seq == UINT64_MAX)
		return M2M_E_PROTO_SEQ_EXHAUSTED;
	if (seq == 0)
		return M2M_E_PROTO_REPLAY;	/* taken by the first data */
	if (seq >= s->rx_top)
		return M2M_OK;
	diff = s->rx_top - 1 - seq;
	if (diff >= PROTO_REPLAY_WINDOW)
		return M2M_E_PROTO_TOO_OLD;
	return (s->rx_window >> diff & 1) ? M2M_E_PROTO_REPLAY : M2M_OK;
}

static void
replay_update(struct proto_session *s, uint64_t seq)
{
	uint64_t shift;

	if (seq >= s->rx_top) {
		shift = seq + 1 - s->rx_top;
		s->rx_window = shift >= PROTO_REPLAY_WINDOW ? 0 : s->rx_window << shift;
		s->rx_answered = shift >= PROTO_REPLAY_WINDOW ? 0 : s->rx_answered << shift;
		s->rx_window |= 1;
		s->rx_top = seq + 1;
	} else {
		s->rx_window |= (uint64_t)1 << (s->rx_top - 1 - seq);
	}
}

/* The window's bit for seq; 0 when seq is outside the window. */
static uint64_t
window_bit(const struct proto_session *s, uint64_t seq)
{
	if (seq == 0 || seq >= s->rx_top || s->rx_top - 1 - seq >= PROTO_REPLAY_WINDOW)
		return 0;
	return (uint64_t)1 << (s->rx_top - 1 - seq);
}

void
proto_session_answered(struct proto_session *s, uint64_t seq)
{
	s->rx_answered |= window_bit(s, seq) & s->rx_window;
}

void
proto_session_forget(struct proto_session *s, uint64_t seq)
{
	uint64_t bit = window_bit(s, seq);

	s->rx_window &= ~bit;
	s->rx_answered &= ~bit;
}

/* Session id, direction and tag: what opening and reopening share. */
static enum m2m_err
authenticate(struct proto_ctx *ctx, const struct proto_session *s,
    const struct proto_record *rec, const uint8_t *buf, uint8_t *pt, size_t cap)
{
	uint8_t iv[PROTO_IV_LEN];

	if (cap < rec->ct_len - PROTO_TAG_LEN)
		return M2M_E_PROTO_BUFFER;
	nonce(s->rx_iv, rec->seq, iv);
	return proto_aead_open(ctx, s->rx_key, iv, buf, PROTO_RECORD_HDR_LEN, rec->ct,
	    rec->ct_len, pt);
}

static enum m2m_err
check_header(const struct proto_session *s, const struct proto_record *rec)
{
	enum proto_role peer = s->role == PROTO_ROLE_MODULE ? PROTO_ROLE_SERVER : PROTO_ROLE_MODULE;

	if (!proto_ct_equal(rec->session_id, s->id, PROTO_SESSION_ID_LEN))
		return M2M_E_PROTO_SESSION;
	if (!may_send(peer, rec->type))
		return M2M_E_PROTO_DIRECTION;
	return M2M_OK;
}

enum m2m_err
proto_session_open(struct proto_ctx *ctx, struct proto_session *s,
    const struct proto_record *rec, const uint8_t *buf, uint8_t *pt, size_t cap,
    size_t *ptlen)
{
	enum m2m_err err;

	if ((err = check_header(s, rec)) != M2M_OK ||
	    (err = replay_check(s, rec->seq)) != M2M_OK ||
	    (err = authenticate(ctx, s, rec, buf, pt, cap)) != M2M_OK)
		return err;
	replay_update(s, rec->seq);
	*ptlen = rec->ct_len - PROTO_TAG_LEN;
	return M2M_OK;
}

enum m2m_err
proto_session_reopen(struct proto_ctx *ctx, const struct proto_session *s,
    const struct proto_record *rec, const uint8_t *buf, uint8_t *pt, size_t cap,
    size_t *ptlen)
{
	enum m2m_err err;

	if ((err = check_header(s, rec)) != M2M_OK)
		return err;
	/* A record the window has not taken is proto_session_open's. */
	if ((err = replay_check(s, rec->seq)) != M2M_E_PROTO_REPLAY)
		return err == M2M_OK ? M2M_E_PROTO_STATE : err;
	if ((window_bit(s, rec->seq) & s->rx_answered) == 0)
		return M2M_E_PROTO_REPLAY;
	if ((err = authenticate(ctx, s, rec, buf, pt, cap)) != M2M_OK)
		return err;
	*ptlen = rec->ct_len - PROTO_TAG_LEN;
	return M2M_OK;
}

void
proto_session_wipe(struct proto_session *s)
{
	proto_wipe(s, sizeof(*s));
}
