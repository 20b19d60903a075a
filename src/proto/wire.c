/* SPDX-License-Identifier: Apache-2.0 */
/* Strict codec for the datagrams of doc/protocol.md: every length is
 * checked, nothing may follow the last field, unknown values are refused. */
#include "config.h"

#include "src/proto/proto.h"

#include <string.h>

void
proto_put_u64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

uint64_t
proto_get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* A bounded reader: each take either yields n bytes or fails. */
struct rd {
	const uint8_t *p;
	size_t left;
};

static const uint8_t *
take(struct rd *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->left < n)
		return NULL;
	r->p += n;
	r->left -= n;
	return p;
}

enum m2m_err
proto_peek(const uint8_t *buf, size_t len, uint8_t *type)
{
	if (len > PROTO_DATAGRAM_MAX)
		return M2M_E_PROTO_OVERSIZE;
	if (len < PROTO_HDR_LEN)
		return M2M_E_PROTO_TRUNCATED;
	if (buf[0] != PROTO_VERSION)
		return M2M_E_PROTO_VERSION;
	if (buf[1] < PROTO_HELLO || buf[1] > PROTO_TYPE_MAX)
		return M2M_E_PROTO_TYPE;
	*type = buf[1];
	return M2M_OK;
}

static enum m2m_err
expect(const uint8_t *buf, size_t len, uint8_t type, struct rd *r)
{
	uint8_t t;
	enum m2m_err err;

	if ((err = proto_peek(buf, len, &t)) != M2M_OK)
		return err;
	if (t != type)
		return M2M_E_PROTO_TYPE;
	r->p = buf + PROTO_HDR_LEN;
	r->left = len - PROTO_HDR_LEN;
	return M2M_OK;
}

static enum m2m_err
done(const struct rd *r)
{
	return r->left == 0 ? M2M_OK : M2M_E_PROTO_TRAILING;
}

enum m2m_err
proto_hello_decode(const uint8_t *buf, size_t len, struct proto_hello *m)
{
	const uint8_t *suite, *plen, *clen;
	struct rd r;
	enum m2m_err err;

	if ((err = expect(buf, len, PROTO_HELLO, &r)) != M2M_OK)
		return err;
	if ((suite = take(&r, 1)) == NULL || (m->key_id = take(&r, PROTO_KEY_ID_LEN)) == NULL ||
	    (plen = take(&r, 1)) == NULL)
		return M2M_E_PROTO_TRUNCATED;
	if (*suite != PROTO_SUITE_P256_AES128GCM)
		return M2M_E_PROTO_SUITE;
	if (*plen < PROTO_PSEUDONYM_MIN || *plen > PROTO_PSEUDONYM_MAX)
		return M2M_E_PROTO_FIELD_LEN;
	m->suite = *suite;
	m->pseudonym_len = *plen;
	if ((m->pseudonym = take(&r, *plen)) == NULL || (m->e_m = take(&r, PROTO_POINT_LEN)) == NULL ||
	    (clen = take(&r, 1)) == NULL)
		return M2M_E_PROTO_TRUNCATED;
	if (*clen != 0 && *clen != PROTO_COOKIE_LEN)
		return M2M_E_PROTO_FIELD_LEN;
	m->cookie_len = *clen;
	m->cookie = NULL;
	if (*clen != 0 && (m->cookie = take(&r, *clen)) == NULL)
		return M2M_E_PROTO_TRUNCATED;
	return done(&r);
}

enum m2m_err
proto_hello_encode(const struct proto_hello *m, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t n = PROTO_HDR_LEN + 1 + PROTO_KEY_ID_LEN + 1 + m->pseudonym_len +
	    PROTO_POINT_LEN + 1 + m->cookie_len;
	uint8_t *p = out;

	if (m->pseudonym_len < PROTO_PSEUDONYM_MIN || m->pseudonym_len > PROTO_PSEUDONYM_MAX ||
	    (m->cookie_len != 0 && m->cookie_len != PROTO_COOKIE_LEN))
		return M2M_E_PROTO_FIELD_LEN;
	if (cap < n)
		return M2M_E_PROTO_BUFFER;
	*p++ = PROTO_VERSION;
	*p++ = PROTO_HELLO;
	*p++ = m->suite;
	memcpy(p, m->key_id, PROTO_KEY_ID_LEN), p += PROTO_KEY_ID_LEN;
	*p++ = (uint8_t)m->pseudonym_len;
	memcpy(p, m->pseudonym, m->pseudonym_len), p += m->pseudonym_len;
	memcpy(p, m->e_m, PROTO_POINT_LEN), p += PROTO_POINT_LEN;
	*p++ = (uint8_t)m->cookie_len;
	if (m->cookie_len != 0)
		memcpy(p, m->cookie, m->cookie_len);
	*outlen = n;
	return M2M_OK;
}

enum m2m_err
proto_retry_decode(const uint8_t *buf, size_t len, const uint8_t **cookie)
{
	struct rd r;
	enum m2m_err err;

	if ((err = expect(buf, len, PROTO_RETRY, &r)) != M2M_OK)
		return err;
	if ((*cookie = take(&r, PROTO_COOKIE_LEN)) == NULL)
		return M2M_E_PROTO_TRUNCATED;
	return done(&r);
}

enum m2m_err
proto_retry_encode(const uint8_t cookie[PROTO_COOKIE_LEN], uint8_t *out, size_t cap,
    size_t *outlen)
{
	if (cap < PROTO_HDR_LEN + PROTO_COOKIE_LEN)
		return M2M_E_PROTO_BUFFER;
	out[0] = PROTO_VERSION;
	out[1] = PROTO_RETRY;
	memcpy(out + PROTO_HDR_LEN, cookie, PROTO_COOKIE_LEN);
	*outlen = PROTO_HDR_LEN + PROTO_COOKIE_LEN;
	return M2M_OK;
}

enum m2m_err
proto_challenge_decode(const uint8_t *buf, size_t len, struct proto_challenge *m)
{
	struct rd r;
	enum m2m_err err;

	if ((err = expect(buf, len, PROTO_CHALLENGE, &r)) != M2M_OK)
		return err;
	if ((m->token = take(&r, PROTO_TOKEN_LEN)) == NULL ||
	    (m->e_s = take(&r, PROTO_POINT_LEN)) == NULL)
		return M2M_E_PROTO_TRUNCATED;
	return done(&r);
}

enum m2m_err
proto_challenge_encode(const struct proto_challenge *m, uint8_t *out, size_t cap,
    size_t *outlen)
{
	size_t n = PROTO_HDR_LEN + PROTO_TOKEN_LEN + PROTO_POINT_LEN;

	if (cap < n)
		return M2M_E_PROTO_BUFFER;
	out[0] = PROTO_VERSION;
	out[1] = PROTO_CHALLENGE;
	memcpy(out + PROTO_HDR_LEN, m->token, PROTO_TOKEN_LEN);
	memcpy(out + PROTO_HDR_LEN + PROTO_TOKEN_LEN, m->e_s, PROTO_POINT_LEN);
	*outlen = n;
	return M2M_OK;
}

size_t
proto_identity_pt_len(size_t id_len)
{
	if (id_len == 0 || id_len > PROTO_IDENTITY_MAX)
		return 0;
	return 1 + (id_len <= 16 ? 16 : id_len <= 32 ? 32 : 64);
}

size_t
proto_identity_pad(const uint8_t *id, size_t id_len, uint8_t *out)
{
	size_t n = proto_identity_pt_len(id_len);

	if (n == 0)
		return 0;
	memset(out, 0, n);
	out[0] = (uint8_t)id_len;
	memcpy(out + 1, id, id_len);
	return n;
}

/* C1 of one of the three buckets. */
static int
c1_len_valid(size_t len)
{
	return len == 1 + 16 + PROTO_TAG_LEN || len == 1 + 32 + PROTO_TAG_LEN ||
	    len == 1 + 64 + PROTO_TAG_LEN;
}

enum m2m_err
proto_auth_decode(const uint8_t *buf, size_t len, struct proto_auth *m)
{
	const uint8_t *c1len;
	struct rd r;
	enum m2m_err err;

	if ((err = expect(buf, len, PROTO_AUTH, &r)) != M2M_OK)
		return err;
	if ((m->token = take(&r, PROTO_TOKEN_LEN)) == NULL || (c1len = take(&r, 1)) == NULL)
		return M2M_E_PROTO_TRUNCATED;
	if (!c1_len_valid(*c1len))
		return M2M_E_PROTO_FIELD_LEN;
	m->c1_len = *c1len;
	if ((m->c1 = take(&r, m->c1_len)) == NULL)
		return M2M_E_PROTO_TRUNCATED;
	/* C2 runs to the end of the datagram: at least its tag. */
	if (r.left < PROTO_TAG_LEN)
		return M2M_E_PROTO_TRUNCATED;
	m->c2_len = r.left;
	m->c2 = take(&r, r.left);
	return done(&r);
}

enum m2m_err
proto_auth_layout(size_t id_len, size_t data_len, size_t cap, size_t *c1_off,
    size_t *c2_off, size_t *total)
{
	size_t fixed = PROTO_HDR_LEN + PROTO_TOKEN_LEN + 1, pt = proto_identity_pt_len(id_len);

	if (pt == 0)
		return M2M_E_PROTO_FIELD_LEN;
	*c1_off = fixed;
	*c2_off = fixed + pt + PROTO_TAG_LEN;
	*total = *c2_off + data_len + PROTO_TAG_LEN;
	if (*total > PROTO_DATAGRAM_MAX)
		return M2M_E_PROTO_OVERSIZE;
	if (*total > cap)
		return M2M_E_PROTO_BUFFER;
	return M2M_OK;
}

enum m2m_err
proto_welcome_decode(const uint8_t *buf, size_t len, struct proto_welcome *m)
{
	struct rd r;
	enum m2m_err err;

	if ((err = expect(buf, len, PROTO_WELCOME, &r)) != M2M_OK)
		return err;
	if ((m->session_id = take(&r, PROTO_SESSION_ID_LEN)) == NULL)
		return M2M_E_PROTO_TRUNCATED;
	/* status, pseudonym length, minimal pseudonym, instruction count, tag */
	if (r.left < 3 + PROTO_PSEUDONYM_MIN + PROTO_TAG_LEN)
		return M2M_E_PROTO_TRUNCATED;
	m->c3_len = r.left;
	m->c3 = take(&r, r.left);
	return done(&r);
}

enum m2m_err
proto_record_decode(const uint8_t *buf, size_t len, struct proto_record *m)
{
	const uint8_t *seq;
	uint8_t type;
	struct rd r;
	enum m2m_err err;

	if ((err = proto_peek(buf, len, &type)) != M2M_OK)
		return err;
	if (type < PROTO_DATA)
		return M2M_E_PROTO_TYPE;
	r.p = buf + PROTO_HDR_LEN;
	r.left = len - PROTO_HDR_LEN;
	m->type = type;
	if ((m->session_id = take(&r, PROTO_SESSION_ID_LEN)) == NULL ||
	    (seq = take(&r, PROTO_SEQ_LEN)) == NULL)
		return M2M_E_PROTO_TRUNCATED;
	m->seq = proto_get_u64(seq);
	if (r.left < PROTO_TAG_LEN)
		return M2M_E_PROTO_TRUNCATED;
	m->ct_len = r.left;
	m->ct = take(&r, r.left);
	return done(&r);
}
