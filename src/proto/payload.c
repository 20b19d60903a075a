/* SPDX-License-Identifier: Apache-2.0 */
/* Plaintexts carried inside authenticated messages: the WELCOME contents,
 * DATA with instruction confirmations, DATA_ACK and REKEY_ACK. Decoded as
 * strictly as the outer datagrams, since a peer's key does not make its
 * bytes well formed. */
#include "config.h"

#include "src/proto/proto.h"

#include <string.h>

static enum m2m_err
instr_encode(const struct proto_instr *in, size_t n, uint8_t *out, size_t cap, size_t *len)
{
	size_t i, need = 1;

	if (n > PROTO_INSTR_MAX)
		return M2M_E_PROTO_FIELD_LEN;
	for (i = 0; i < n; i++) {
		if (in[i].body_len > 0xffff)
			return M2M_E_PROTO_FIELD_LEN;
		need += PROTO_INSTR_ID_LEN + 2 + in[i].body_len;
	}
	if (need > cap)
		return M2M_E_PROTO_BUFFER;
	*out++ = (uint8_t)n;
	for (i = 0; i < n; i++) {
		memcpy(out, in[i].id, PROTO_INSTR_ID_LEN);
		out[PROTO_INSTR_ID_LEN] = (uint8_t)(in[i].body_len >> 8);
		out[PROTO_INSTR_ID_LEN + 1] = (uint8_t)in[i].body_len;
		out += PROTO_INSTR_ID_LEN + 2;
		if (in[i].body_len != 0)
			memcpy(out, in[i].body, in[i].body_len);
		out += in[i].body_len;
	}
	*len = need;
	return M2M_OK;
}

/* Decodes a list that must end exactly at end. */
static enum m2m_err
instr_decode(const uint8_t *p, const uint8_t *end, struct proto_instr *out, size_t *n)
{
	size_t i, len;

	if (p >= end)
		return M2M_E_PROTO_PAYLOAD;
	if ((*n = *p++) > PROTO_INSTR_MAX)
		return M2M_E_PROTO_PAYLOAD;
	for (i = 0; i < *n; i++) {
		if ((size_t)(end - p) < PROTO_INSTR_ID_LEN + 2)
			return M2M_E_PROTO_PAYLOAD;
		memcpy(out[i].id, p, PROTO_INSTR_ID_LEN);
		len = (size_t)p[PROTO_INSTR_ID_LEN] << 8 | p[PROTO_INSTR_ID_LEN + 1];
		p += PROTO_INSTR_ID_LEN + 2;
		if ((size_t)(end - p) < len)
			return M2M_E_PROTO_PAYLOAD;
		out[i].body = p;
		out[i].body_len = len;
		p += len;
	}
	return p == end ? M2M_OK : M2M_E_PROTO_PAYLOAD;
}

enum m2m_err
proto_welcome_pt_encode(const struct proto_welcome_pt *m, uint8_t *out, size_t cap,
    size_t *outlen)
{
	size_t n;
	enum m2m_err err;

	if (m->pseudonym_len < PROTO_PSEUDONYM_MIN || m->pseudonym_len > PROTO_PSEUDONYM_MAX)
		return M2M_E_PROTO_FIELD_LEN;
	if (cap < 2 + m->pseudonym_len)
		return M2M_E_PROTO_BUFFER;
	out[0] = m->status;
	out[1] = (uint8_t)m->pseudonym_len;
	memcpy(out + 2, m->pseudonym, m->pseudonym_len);
	n = 2 + m->pseudonym_len;
	if ((err = instr_encode(m->instr, m->n_instr, out + n, cap - n, outlen)) != M2M_OK)
		return err;
	*outlen += n;
	return M2M_OK;
}

enum m2m_err
proto_welcome_pt_decode(const uint8_t *buf, size_t len, struct proto_welcome_pt *m)
{
	if (len < 2)
		return M2M_E_PROTO_PAYLOAD;
	m->status = buf[0];
	m->pseudonym_len = buf[1];
	if (m->status > PROTO_STATUS_KEY_ROTATED || m->pseudonym_len < PROTO_PSEUDONYM_MIN ||
	    m->pseudonym_len > PROTO_PSEUDONYM_MAX || len < 2 + m->pseudonym_len)
		return M2M_E_PROTO_PAYLOAD;
	m->pseudonym = buf + 2;
	return instr_decode(buf + 2 + m->pseudonym_len, buf + len, m->instr, &m->n_instr);
}

enum m2m_err
proto_data_pt_encode(const struct proto_data_pt *m, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t acks = m->n_acks * PROTO_INSTR_ID_LEN;
	size_t n = 1 + acks + m->payload_len;

	if (m->n_acks > PROTO_ACKS_MAX)
		return M2M_E_PROTO_FIELD_LEN;
	if (n > PROTO_RECORD_MAX_PT)
		return M2M_E_PROTO_OVERSIZE;
	if (n > cap)
		return M2M_E_PROTO_BUFFER;
	out[0] = (uint8_t)m->n_acks;
	if (acks != 0)
		memcpy(out + 1, m->acks, acks);
	if (m->payload_len != 0)
		memcpy(out + 1 + acks, m->payload, m->payload_len);
	*outlen = n;
	return M2M_OK;
}

enum m2m_err
proto_data_pt_decode(const uint8_t *buf, size_t len, struct proto_data_pt *m)
{
	if (len < 1 || buf[0] > PROTO_ACKS_MAX ||
	    len < 1 + (size_t)buf[0] * PROTO_INSTR_ID_LEN)
		return M2M_E_PROTO_PAYLOAD;
	m->n_acks = buf[0];
	m->acks = buf + 1;
	m->payload = buf + 1 + m->n_acks * PROTO_INSTR_ID_LEN;
	m->payload_len = len - 1 - m->n_acks * PROTO_INSTR_ID_LEN;
	return M2M_OK;
}

enum m2m_err
proto_ack_pt_encode(uint8_t type, const struct proto_ack_pt *m, uint8_t *out, size_t cap,
    size_t *outlen)
{
	enum m2m_err err;

	if (cap < 9)
		return M2M_E_PROTO_BUFFER;
	proto_put_u64(out, m->acked_seq);
	if (type == PROTO_REKEY_ACK) {
		out[8] = m->status;
		*outlen = 9;
		return M2M_OK;
	}
	if (type != PROTO_DATA_ACK)
		return M2M_E_INVALID_ARG;
	if ((err = instr_encode(m->instr, m->n_instr, out + 8, cap - 8, outlen)) != M2M_OK)
		return err;
	*outlen += 8;
	return M2M_OK;
}

enum m2m_err
proto_ack_pt_decode(uint8_t type, const uint8_t *buf, size_t len, struct proto_ack_pt *m)
{
	if (len < 9)
		return M2M_E_PROTO_PAYLOAD;
	m->acked_seq = proto_get_u64(buf);
	m->status = 0;
	m->n_instr = 0;
	if (type == PROTO_REKEY_ACK) {
		m->status = buf[8];
		return len == 9 ? M2M_OK : M2M_E_PROTO_PAYLOAD;
	}
	if (type != PROTO_DATA_ACK)
		return M2M_E_PROTO_TYPE;
	return instr_decode(buf + 8, buf + len, m->instr, &m->n_instr);
}
