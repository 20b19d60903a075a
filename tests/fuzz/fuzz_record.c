/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: record decode and proto_session_open on a fixed session
 * pair, datagram after datagram (the window moves); seal-then-open too. */
#include "config.h"

#include "tests/fuzz/fuzz.h"

#include <string.h>

/* Op bits of a unit. */
#define REC_TO_MODULE	0x01	/* the module's session receives (else the server's) */
#define REC_SEAL	0x02	/* the peer seals the bytes as a plaintext first */
#define REC_TYPE_SHIFT	2	/* with REC_SEAL: bits 2..5 are the record type */
#define REC_SEQ_JUMP	0x40	/* with REC_SEAL: the peer's tx_next jumps by 2^k, k = len % 64 */

static const uint8_t sid[PROTO_SESSION_ID_LEN] = { 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58 };

static struct proto_ctx *
ctx_get(void)
{
	static struct fuzz_rng rng;
	static struct proto_ctx *ctx;

	if (ctx == NULL) {
		fuzz_rng_reset(&rng, "m2m fuzz record");
		ctx = fuzz_ctx_new(&rng);
	}
	return ctx;
}

void
fuzz_record_sessions(struct proto_session *mod, struct proto_session *srv)
{
	static struct proto_session m0, s0;
	static int ready;
	uint8_t prk2[PROTO_HASH_LEN], th4[PROTO_HASH_LEN];

	if (!ready) {
		memset(prk2, 0x21, sizeof(prk2));
		memset(th4, 0x43, sizeof(th4));
		FUZZ_ASSERT(proto_session_init(ctx_get(), &m0, PROTO_ROLE_MODULE, sid, prk2,
		    th4) == M2M_OK);
		FUZZ_ASSERT(proto_session_init(ctx_get(), &s0, PROTO_ROLE_SERVER, sid, prk2,
		    th4) == M2M_OK);
		ready = 1;
	}
	*mod = m0;
	*srv = s0;
}

static int
may_send(const struct proto_session *s, uint8_t type)
{
	if (s->role == PROTO_ROLE_MODULE)
		return type == PROTO_DATA || type == PROTO_REKEY;
	return type == PROTO_DATA_ACK || type == PROTO_REKEY_ACK;
}

/* Opens dg on rx; on success checks the plaintext decoders and the window. */
static enum m2m_err
receive(struct proto_session *rx, const uint8_t *dg, size_t len)
{
	static uint8_t pt[PROTO_DATAGRAM_MAX];
	struct proto_record r;
	struct proto_data_pt d;
	struct proto_ack_pt a;
	struct proto_session before = *rx;
	size_t ptlen = 0;
	enum m2m_err err;

	if ((err = proto_record_decode(dg, len, &r)) != M2M_OK)
		return err;
	FUZZ_ASSERT(r.type >= PROTO_DATA && r.type <= PROTO_REKEY_ACK);
	FUZZ_ASSERT(PROTO_RECORD_HDR_LEN + r.ct_len == len && r.ct_len >= PROTO_TAG_LEN);
	err = proto_session_open(ctx_get(), rx, &r, dg, pt, sizeof(pt), &ptlen);
	if (err != M2M_OK) {
		/* A refused record leaves the session as it was. */
		FUZZ_ASSERT(memcmp(&before, rx, sizeof(before)) == 0);
		return err;
	}
	FUZZ_ASSERT(!may_send(rx, r.type));
	FUZZ_ASSERT(ptlen + PROTO_TAG_LEN == r.ct_len && r.seq != 0 && r.seq != UINT64_MAX);
	FUZZ_ASSERT(rx->rx_top > r.seq && (rx->rx_window & 1));
	FUZZ_ASSERT(rx->rx_top >= before.rx_top);
	FUZZ_ASSERT(proto_session_open(ctx_get(), rx, &r, dg, pt, sizeof(pt), &ptlen) ==
	    M2M_E_PROTO_REPLAY);
	switch (r.type) {
	case PROTO_DATA:
		if (proto_data_pt_decode(pt, ptlen, &d) == M2M_OK)
			FUZZ_ASSERT(1 + d.n_acks * PROTO_INSTR_ID_LEN + d.payload_len == ptlen);
		break;
	case PROTO_REKEY:
		if (ptlen == PROTO_POINT_LEN)
			(void)proto_p256_check(ctx_get(), pt, ptlen);
		break;
	default:
		if (proto_ack_pt_decode(r.type, pt, ptlen, &a) == M2M_OK)
			FUZZ_ASSERT(a.n_instr <= PROTO_INSTR_MAX);
		break;
	}
	return M2M_OK;
}

FUZZ_TARGET(record)
{
	static uint8_t out[PROTO_DATAGRAM_MAX + 64];
	struct proto_session mod, srv, *rx, *tx;
	struct fuzz_in in = { data, size };
	const uint8_t *dg;
	size_t len, n;
	uint64_t seq;
	uint8_t op, type;
	enum m2m_err err;

	fuzz_record_sessions(&mod, &srv);
	while (fuzz_next(&in, &op, &dg, &len)) {
		rx = op & REC_TO_MODULE ? &mod : &srv;
		tx = op & REC_TO_MODULE ? &srv : &mod;
		if (!(op & REC_SEAL)) {
			(void)receive(rx, dg, len);
			continue;
		}
		type = (uint8_t)((op >> REC_TYPE_SHIFT) & 0x0f);
		if (op & REC_SEQ_JUMP) {
			uint64_t jump = (uint64_t)1 << (len % 64);

			tx->tx_next = tx->tx_next > UINT64_MAX - jump ? UINT64_MAX : tx->tx_next + jump;
		}
		err = proto_session_seal(ctx_get(), tx, type, dg, len, out, sizeof(out), &n, &seq);
		if (err != M2M_OK) {
			FUZZ_ASSERT(!may_send(tx, type) || len > PROTO_RECORD_MAX_PT ||
			    tx->tx_next == UINT64_MAX);
			continue;
		}
		FUZZ_ASSERT(may_send(tx, type) && n == PROTO_RECORD_HDR_LEN + len + PROTO_TAG_LEN);
		FUZZ_ASSERT(n <= PROTO_DATAGRAM_MAX && seq + 1 == tx->tx_next);
		/* What the peer sealed opens unless the window already passed it. */
		err = receive(rx, out, n);
		FUZZ_ASSERT(err == M2M_OK || err == M2M_E_PROTO_TOO_OLD ||
		    err == M2M_E_PROTO_REPLAY);
	}
	return 0;
}
