/* SPDX-License-Identifier: Apache-2.0 */
/* The seed corpus: real handshakes and sessions played between the two
 * drivers, so each seed replays to the same deep state in its target. */
#include "config.h"

#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <string.h>

#define INPUT_MAX	16384

/* A conversation: what the server and the module each received, as the
 * inputs of fuzz_server and fuzz_module. */
struct play {
	fuzz_emit_fn emit;
	void *arg;
	const char *name;
	struct fsrv *s;
	struct fmod *m;
	uint8_t to_srv[PROTO_DATAGRAM_MAX];	/* the module's last datagram */
	size_t to_srv_len;
	uint8_t srv_in[INPUT_MAX], mod_in[INPUT_MAX];
	size_t srv_n, mod_n;
	int n_single;
};

/* Each datagram is also a seed of the target that decodes it alone. */
static void
single(struct play *p, const uint8_t *dg, size_t len)
{
	const char *target = NULL;
	char name[64];

	switch (len >= 2 ? dg[1] : 0) {
	case PROTO_HELLO:
		target = "hello";
		break;
	case PROTO_AUTH:
		target = "auth";
		break;
	case PROTO_RETRY:
	case PROTO_CHALLENGE:
	case PROTO_WELCOME:
		target = "wire";
		break;
	default:
		return;
	}
	snprintf(name, sizeof(name), "%s-%d", p->name, p->n_single++);
	p->emit(p->arg, target, name, dg, len);
}

static void
play_start(struct play *p, const char *name)
{
	p->name = name;
	p->s = fsrv_get();
	p->m = fmod_get();
	p->srv_n = p->mod_n = 0;
	p->n_single = 0;
	fsrv_reset(p->s);
	p->to_srv_len = fmod_reset(p->m, p->to_srv);
}

/* The module's pending datagram goes to the server; the answer (if any)
 * goes to the module, whose answer is pending next. Without an answer the
 * same datagram stays pending (a retransmission). Returns the answer's type. */
static int
exchange(struct play *p, uint8_t srv_op, uint8_t mod_op)
{
	uint8_t reply[PROTO_DATAGRAM_MAX], next[PROTO_DATAGRAM_MAX];
	size_t n, m;

	fuzz_put(p->srv_in, sizeof(p->srv_in), &p->srv_n, srv_op, p->to_srv, p->to_srv_len);
	single(p, p->to_srv, p->to_srv_len);
	n = fsrv_step(p->s, srv_op, p->to_srv, p->to_srv_len, reply);
	if (n == 0)
		return 0;
	single(p, reply, n);
	fuzz_put(p->mod_in, sizeof(p->mod_in), &p->mod_n, mod_op, reply, n);
	m = fmod_step(p->m, mod_op, reply, n, next);
	FUZZ_ASSERT(m != 0);
	memcpy(p->to_srv, next, m);
	p->to_srv_len = m;
	return reply[1];
}

static void
play_end(struct play *p)
{
	p->emit(p->arg, "server", p->name, p->srv_in, p->srv_n);
	p->emit(p->arg, "module", p->name, p->mod_in, p->mod_n);
}

#define INSTR(n)	((uint8_t)((n) << FSRV_INSTR_SHIFT))
#define DATA16(n)	((uint8_t)((n) << FMOD_DATA_SHIFT))

/* An observer's copy of the module's pending AUTH with C1 changed gets to
 * the server first; the module's own stays pending. Returns the answer's
 * type (none is expected). */
static int
garbage_first(struct play *p)
{
	uint8_t dg[PROTO_DATAGRAM_MAX], reply[PROTO_DATAGRAM_MAX];
	size_t n;

	memcpy(dg, p->to_srv, p->to_srv_len);
	dg[PROTO_HDR_LEN + PROTO_TOKEN_LEN + 1] ^= 0x01;
	fuzz_put(p->srv_in, sizeof(p->srv_in), &p->srv_n, 0, dg, p->to_srv_len);
	n = fsrv_step(p->s, 0, dg, p->to_srv_len, reply);
	return n == 0 ? 0 : reply[1];
}

static void
conversations(fuzz_emit_fn emit, void *arg)
{
	static struct play p;

	p.emit = emit;
	p.arg = arg;
	/* A handshake, DATA, a REKEY, more DATA. */
	play_start(&p, "plain");
	FUZZ_ASSERT(exchange(&p, 0, 0) == PROTO_CHALLENGE);
	FUZZ_ASSERT(exchange(&p, 0, 0) == PROTO_WELCOME);
	FUZZ_ASSERT(exchange(&p, 0, 0) == PROTO_DATA_ACK);
	FUZZ_ASSERT(exchange(&p, 0, FMOD_REKEY) == PROTO_DATA_ACK);
	FUZZ_ASSERT(exchange(&p, 0, 0) == PROTO_REKEY_ACK);
	FUZZ_ASSERT(exchange(&p, 0, 0) == PROTO_DATA_ACK);
	play_end(&p);

	/* RETRY and cookie, first data, instructions in WELCOME and DATA_ACK. */
	play_start(&p, "cookie-instr");
	FUZZ_ASSERT(exchange(&p, FSRV_COOKIES, 0) == PROTO_RETRY);
	FUZZ_ASSERT(exchange(&p, FSRV_COOKIES, DATA16(4)) == PROTO_CHALLENGE);
	FUZZ_ASSERT(exchange(&p, INSTR(3), 0) == PROTO_WELCOME);
	FUZZ_ASSERT(exchange(&p, INSTR(2), 0) == PROTO_DATA_ACK);
	FUZZ_ASSERT(exchange(&p, 0, 0) == PROTO_DATA_ACK);
	play_end(&p);

	/* The cookie from address A does not pass from address B. */
	play_start(&p, "cookie-addr");
	FUZZ_ASSERT(exchange(&p, FSRV_COOKIES, 0) == PROTO_RETRY);
	FUZZ_ASSERT(exchange(&p, FSRV_COOKIES | FSRV_ADDR_B, 0) == PROTO_RETRY);
	FUZZ_ASSERT(exchange(&p, FSRV_COOKIES | FSRV_ADDR_B, 0) == PROTO_CHALLENGE);
	FUZZ_ASSERT(exchange(&p, 0, 0) == PROTO_WELCOME);
	play_end(&p);

	/* Failed attempts (unknown, inactive, failed commit), then success. */
	play_start(&p, "attempts");
	FUZZ_ASSERT(exchange(&p, 0, DATA16(1)) == PROTO_CHALLENGE);
	FUZZ_ASSERT(exchange(&p, FSRV_REC_UNKNOWN, 0) == 0);
	FUZZ_ASSERT(exchange(&p, FSRV_REC_INACTIVE, 0) == 0);
	FUZZ_ASSERT(exchange(&p, FSRV_REC_ENROLLED, 0) == PROTO_WELCOME);
	FUZZ_ASSERT(exchange(&p, 0, 0) == PROTO_DATA_ACK);
	play_end(&p);

	/* Garbage on the module's token first: it pays the token's one DH1,
	 * the entry keeps PRK1, the next garbage fails at C1, the module's
	 * AUTH completes without the HSM. */
	play_start(&p, "observer");
	FUZZ_ASSERT(exchange(&p, 0, 0) == PROTO_CHALLENGE);
	FUZZ_ASSERT(garbage_first(&p) == 0);
	FUZZ_ASSERT(garbage_first(&p) == 0);
	FUZZ_ASSERT(garbage_first(&p) == 0);
	FUZZ_ASSERT(garbage_first(&p) == 0);
	FUZZ_ASSERT(exchange(&p, 0, 0) == PROTO_WELCOME);
	FUZZ_ASSERT(exchange(&p, 0, 0) == PROTO_DATA_ACK);
	play_end(&p);

	/* Attempts used up: the entry is dropped. */
	play_start(&p, "exhausted");
	FUZZ_ASSERT(exchange(&p, 0, 0) == PROTO_CHALLENGE);
	FUZZ_ASSERT(exchange(&p, FSRV_COMMIT_FAILS, 0) == 0);
	FUZZ_ASSERT(exchange(&p, FSRV_COMMIT_FAILS, 0) == 0);
	FUZZ_ASSERT(exchange(&p, FSRV_COMMIT_FAILS, 0) == 0);
	FUZZ_ASSERT(exchange(&p, 0, 0) == 0);
	play_end(&p);

	/* The module proves its pending key: WELCOME says KEY_ROTATED. */
	play_start(&p, "rotation");
	FUZZ_ASSERT(exchange(&p, 0, 0) == PROTO_CHALLENGE);
	FUZZ_ASSERT(exchange(&p, FSRV_REC_ROTATING | INSTR(1), 0) == PROTO_WELCOME);
	FUZZ_ASSERT(exchange(&p, 0, FMOD_REKEY) == PROTO_DATA_ACK);
	FUZZ_ASSERT(exchange(&p, 0, 0) == PROTO_REKEY_ACK);
	play_end(&p);

	/* A second handshake after the first: two sessions on the server. */
	play_start(&p, "two-sessions");
	FUZZ_ASSERT(exchange(&p, 0, 0) == PROTO_CHALLENGE);
	FUZZ_ASSERT(exchange(&p, 0, 0) == PROTO_WELCOME);
	FUZZ_ASSERT(exchange(&p, 0, FMOD_RESTART) == PROTO_DATA_ACK);
	FUZZ_ASSERT(exchange(&p, 0, DATA16(63)) == PROTO_CHALLENGE);
	FUZZ_ASSERT(exchange(&p, INSTR(7), 0) == PROTO_WELCOME);
	FUZZ_ASSERT(exchange(&p, 0, 0) == PROTO_DATA_ACK);
	play_end(&p);
}

/* Records of the fixed session of fuzz_record: in order, reordered, far
 * ahead, too old, at the end of the sequence space; and seal-then-open. */
static void
records(fuzz_emit_fn emit, void *arg)
{
	static const uint64_t seqs[] = { 1, 2, 5, 3, 4, 100, 40, 37, 36, 99, UINT64_MAX - 1 };
	static uint8_t in[INPUT_MAX];
	struct proto_session mod, srv, tx;
	uint8_t out[PROTO_DATAGRAM_MAX], pt[64];
	struct proto_ack_pt ack;
	struct proto_data_pt d;
	size_t n = 0, len, ptlen, i;

	fuzz_record_sessions(&mod, &srv);
	memset(&d, 0, sizeof(d));
	d.payload = (const uint8_t *)"v=1";
	d.payload_len = 3;
	FUZZ_ASSERT(proto_data_pt_encode(&d, pt, sizeof(pt), &ptlen) == M2M_OK);
	/* proto_session_seal needs a context: the server driver's will do. */
	for (i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		tx = mod;
		tx.tx_next = seqs[i];
		FUZZ_ASSERT(proto_session_seal(fsrv_ctx(), &tx, PROTO_DATA, pt, ptlen, out,
		    sizeof(out), &len, NULL) == M2M_OK);
		fuzz_put(in, sizeof(in), &n, 0, out, len);
		/* The same record again: a replay. */
		if (i == 3)
			fuzz_put(in, sizeof(in), &n, 0, out, len);
	}
	memset(&ack, 0, sizeof(ack));
	ack.acked_seq = 1;
	FUZZ_ASSERT(proto_ack_pt_encode(PROTO_DATA_ACK, &ack, pt, sizeof(pt), &ptlen) == M2M_OK);
	tx = srv;
	FUZZ_ASSERT(proto_session_seal(fsrv_ctx(), &tx, PROTO_DATA_ACK, pt, ptlen, out,
	    sizeof(out), &len, NULL) == M2M_OK);
	fuzz_put(in, sizeof(in), &n, 1, out, len);
	FUZZ_ASSERT(proto_ack_pt_encode(PROTO_REKEY_ACK, &ack, pt, sizeof(pt), &ptlen) == M2M_OK);
	FUZZ_ASSERT(proto_session_seal(fsrv_ctx(), &tx, PROTO_REKEY_ACK, pt, ptlen, out,
	    sizeof(out), &len, NULL) == M2M_OK);
	fuzz_put(in, sizeof(in), &n, 1, out, len);
	emit(arg, "record", "sessions", in, n);
	/* Seal-then-open: DATA from the module, REKEY_ACK from the server. */
	n = 0;
	fuzz_put(in, sizeof(in), &n, (uint8_t)(0x02 | PROTO_DATA << 2), (const uint8_t *)"\0x", 2);
	fuzz_put(in, sizeof(in), &n, (uint8_t)(0x03 | PROTO_REKEY_ACK << 2), pt, 9);
	fuzz_put(in, sizeof(in), &n, (uint8_t)(0x42 | PROTO_REKEY << 2), fuzz_world()->m2_pub,
	    PROTO_POINT_LEN);
	emit(arg, "record", "seal-open", in, n);
}

static void
payloads(fuzz_emit_fn emit, void *arg)
{
	static const uint8_t body[] = "reboot";
	uint8_t buf[512], acks[2 * PROTO_INSTR_ID_LEN] = { 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2 };
	struct proto_welcome_pt w;
	struct proto_data_pt d;
	struct proto_ack_pt a;
	size_t n;

	memset(&w, 0, sizeof(w));
	w.status = PROTO_STATUS_KEY_ROTATED;
	w.pseudonym = (const uint8_t *)"0123456789abcdef";
	w.pseudonym_len = 16;
	w.n_instr = 2;
	w.instr[0].id[7] = 1;
	w.instr[0].body = body;
	w.instr[0].body_len = sizeof(body) - 1;
	w.instr[1].id[7] = 2;
	buf[0] = 0;
	FUZZ_ASSERT(proto_welcome_pt_encode(&w, buf + 1, sizeof(buf) - 1, &n) == M2M_OK);
	emit(arg, "payloads", "welcome", buf, n + 1);
	memset(&d, 0, sizeof(d));
	d.acks = acks;
	d.n_acks = 2;
	d.payload = body;
	d.payload_len = sizeof(body) - 1;
	buf[0] = 1;
	FUZZ_ASSERT(proto_data_pt_encode(&d, buf + 1, sizeof(buf) - 1, &n) == M2M_OK);
	emit(arg, "payloads", "data", buf, n + 1);
	memset(&a, 0, sizeof(a));
	a.acked_seq = 77;
	a.n_instr = 1;
	a.instr[0] = w.instr[0];
	buf[0] = PROTO_DATA_ACK;
	FUZZ_ASSERT(proto_ack_pt_encode(PROTO_DATA_ACK, &a, buf + 1, sizeof(buf) - 1, &n) ==
	    M2M_OK);
	emit(arg, "payloads", "data-ack", buf, n + 1);
	buf[0] = PROTO_REKEY_ACK;
	FUZZ_ASSERT(proto_ack_pt_encode(PROTO_REKEY_ACK, &a, buf + 1, sizeof(buf) - 1, &n) ==
	    M2M_OK);
	emit(arg, "payloads", "rekey-ack", buf, n + 1);
}

static void
points(fuzz_emit_fn emit, void *arg)
{
	const struct fuzz_world *w = fuzz_world();
	uint8_t buf[1 + PROTO_POINT_FULL_LEN];

	buf[0] = 0;
	memcpy(buf + 1, w->key.pub, PROTO_POINT_LEN);
	emit(arg, "point", "compressed", buf, 1 + PROTO_POINT_LEN);
	FUZZ_ASSERT(proto_p256_decompress(fsrv_ctx(), w->key.pub, PROTO_POINT_LEN, buf + 1) ==
	    M2M_OK);
	emit(arg, "point", "uncompressed", buf, 1 + PROTO_POINT_FULL_LEN);
	/* x = p - 1 and beyond p: refused. */
	buf[1] = 0x02;
	memset(buf + 2, 0xff, 32);
	emit(arg, "point", "x-over-p", buf, 1 + PROTO_POINT_LEN);
	buf[0] = 1;
	memcpy(buf + 1, w->m2_priv, PROTO_SCALAR_LEN);
	emit(arg, "point", "scalar", buf, 1 + PROTO_SCALAR_LEN);
}

void
fuzz_corpus(fuzz_emit_fn emit, void *arg)
{
	conversations(emit, arg);
	records(emit, arg);
	payloads(emit, arg);
	points(emit, arg);
}
