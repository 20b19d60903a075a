/* SPDX-License-Identifier: Apache-2.0 */
/* Produces the known-answer handshake (see kat.h). Both roles draw their
 * randomness from seeded SHA-256 streams, so every byte is reproducible. */
#include "config.h"

#include "tests/proto/kat.h"

#include <string.h>

#include "tests/common/testutil.h"

static void
line(FILE *out, const char *name, const uint8_t *p, size_t len)
{
	char hex[2 * PROTO_DATAGRAM_MAX + 1];

	tu_hex(p, len, hex);
	fprintf(out, "%s %s\n", name, hex);
}

static enum m2m_err
kat_session(FILE *out, struct proto_ctx *m, struct proto_ctx *s, struct tu_flight *f)
{
	uint8_t rec[PROTO_DATAGRAM_MAX], pt[PROTO_DATAGRAM_MAX];
	struct proto_record r;
	size_t n, ptlen;
	enum m2m_err err;

	if ((err = proto_session_seal(m, &f->mod_s, PROTO_DATA, (const uint8_t *)"\0v=1", 4,
	    rec, sizeof(rec), &n, NULL)) != M2M_OK)
		return err;
	line(out, "data", rec, n);
	if ((err = proto_record_decode(rec, n, &r)) != M2M_OK ||
	    (err = proto_session_open(s, &f->srv_s, &r, rec, pt, sizeof(pt), &ptlen)) != M2M_OK)
		return err;
	if ((err = proto_session_seal(s, &f->srv_s, PROTO_DATA_ACK,
	    (const uint8_t *)"\0\0\0\0\0\0\0\0\0", 9, rec, sizeof(rec), &n, NULL)) != M2M_OK)
		return err;
	line(out, "data_ack", rec, n);
	return M2M_OK;
}

enum m2m_err
kat_run(FILE *out)
{
	static struct tu_world w;
	static struct tu_flight f;
	struct tu_rng r;
	struct proto_rng rng;
	struct proto_ctx *ctx = NULL;
	enum m2m_err err;

	tu_rng_init(&r, "m2m handshake known-answer vector 1");
	rng = tu_rng_of(&r);
	if ((err = proto_ctx_new(&ctx, &rng)) != M2M_OK)
		return err;
	/* One context for both roles: the stream is consumed in a fixed order. */
	tu_world_init(&w, ctx);
	line(out, "server_priv", w.server_priv, PROTO_SCALAR_LEN);
	line(out, "server_pub", w.key.pub, PROTO_POINT_LEN);
	line(out, "module_priv", w.creds.priv, PROTO_SCALAR_LEN);
	line(out, "module_pub", w.creds.pub, PROTO_POINT_LEN);
	line(out, "identity", w.creds.identity, w.creds.identity_len);
	line(out, "pseudonym", w.creds.pseudonym, w.creds.pseudonym_len);
	err = tu_handshake(&w, (const uint8_t *)"first", 5, &f);
	if (err == M2M_OK) {
		line(out, "hello", f.msg[0], f.len[0]);
		line(out, "challenge", f.msg[1], f.len[1]);
		line(out, "auth", f.msg[2], f.len[2]);
		line(out, "welcome", f.msg[3], f.len[3]);
		err = kat_session(out, ctx, ctx, &f);
	}
	proto_ctx_free(ctx);
	return err;
}
