/* SPDX-License-Identifier: Apache-2.0 */
/* The test client (see client.h). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/server/client.h"

static int
unhex(const char *h, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sscanf(h + 2 * i, "%2hhx", &out[i]) != 1)
			return 0;
	return strlen(h) == 2 * n;
}

enum m2m_err
cli_creds(const char *file, size_t index, struct proto_mod_creds *cr)
{
	char line[512], kid[16], spub[80], id[80], ps[80], priv[80], pub[80];
	FILE *f = fopen(file, "r");
	size_t i = 0;
	enum m2m_err err = M2M_E_INVALID_ARG;

	if (f == NULL)
		return M2M_E_IO;
	memset(cr, 0, sizeof(*cr));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "server %15s %79s", kid, spub) == 2) {
			unhex(kid, cr->key_id, 4);
			unhex(spub, cr->server_pub, 33);
		} else if (sscanf(line, "module %79s %79s %79s %79s", id, ps, priv, pub) == 4 &&
		    i++ == index) {
			cr->identity_len = strlen(id);
			memcpy(cr->identity, id, cr->identity_len);
			cr->pseudonym_len = strlen(ps) / 2;
			if (unhex(ps, cr->pseudonym, cr->pseudonym_len) && unhex(priv, cr->priv, 32) &&
			    unhex(pub, cr->pub, 33))
				err = M2M_OK;
			break;
		}
	}
	fclose(f);
	return err;
}

enum m2m_err
cli_rebind(struct cli *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = socket(c->srv.ss_family, SOCK_DGRAM, 0);
	return c->fd < 0 ? M2M_E_IO : M2M_OK;
}

enum m2m_err
cli_open(struct cli *c, const char *host, int port, const struct proto_mod_creds *cr)
{
	struct sockaddr_in *a = (struct sockaddr_in *)&c->srv;
	enum m2m_err err;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->timeout_ms = 5000;	/* a loaded test box is slow, not lossy */
	c->cr = *cr;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
		return M2M_E_INVALID_ARG;
	c->srvlen = sizeof(*a);
	if ((err = proto_ctx_new(&c->ctx, NULL)) != M2M_OK)
		return err;
	return cli_rebind(c);
}

void
cli_close(struct cli *c)
{
	if (c->fd >= 0)
		close(c->fd);
	proto_ctx_free(c->ctx);
	proto_wipe(c, sizeof(*c));
	c->fd = -1;
}

enum m2m_err
cli_send(struct cli *c, const uint8_t *buf, size_t len)
{
	if (sendto(c->fd, buf, len, 0, (struct sockaddr *)&c->srv, c->srvlen) != (ssize_t)len)
		return M2M_E_IO;
	memcpy(c->last, buf, len);
	c->last_len = len;
	return M2M_OK;
}

enum m2m_err
cli_recv(struct cli *c, uint8_t *buf, size_t cap, size_t *len)
{
	struct pollfd p = { c->fd, POLLIN, 0 };
	ssize_t n;

	if (poll(&p, 1, c->timeout_ms) != 1)
		return M2M_E_IO;
	if ((n = recv(c->fd, buf, cap, 0)) < 0)
		return M2M_E_IO;
	*len = (size_t)n;
	return M2M_OK;
}

/* Answers a CHALLENGE or a RETRY (an AUTH or a HELLO in out); *type says
 * which it was. */
static enum m2m_err
answer(struct cli *c, const uint8_t *in, size_t m, uint8_t *out, size_t *n, uint8_t *type)
{
	enum m2m_err err;

	if ((err = proto_peek(in, m, type)) != M2M_OK)
		return err;
	if (*type == PROTO_RETRY)
		return proto_mod_retry(c->ctx, &c->hs, &c->cr, in, m, out, PROTO_DATAGRAM_MAX, n);
	if (*type != PROTO_CHALLENGE)
		return M2M_E_PROTO_TYPE;
	return proto_mod_challenge(c->ctx, &c->hs, &c->cr, in, m, c->data, c->data_len, out,
	    PROTO_DATAGRAM_MAX, n);
}

enum m2m_err
cli_hello(struct cli *c, const uint8_t *data, size_t len, uint8_t *auth, size_t *auth_len)
{
	uint8_t out[PROTO_DATAGRAM_MAX], in[PROTO_DATAGRAM_MAX];
	size_t n, m;
	int retries = 0;
	uint8_t type;
	enum m2m_err err;

	if (len > sizeof(c->data))
		return M2M_E_INVALID_ARG;
	if (len > 0)
		memcpy(c->data, data, len);
	c->data_len = len;
	if ((err = proto_mod_hello(c->ctx, &c->hs, &c->cr, out, sizeof(out), &n)) != M2M_OK ||
	    (err = cli_send(c, out, n)) != M2M_OK)
		return err;
	for (int round = 0; round < 64 && retries < 3; round++) {
		if ((err = cli_recv(c, in, sizeof(in), &m)) != M2M_OK)
			return err;
		if (answer(c, in, m, out, &n, &type) != M2M_OK)
			continue;
		if (type == PROTO_CHALLENGE) {
			memcpy(auth, out, n);
			*auth_len = n;
			return M2M_OK;
		}
		retries++;	/* a RETRY: out is the HELLO with the cookie */
		if ((err = cli_send(c, out, n)) != M2M_OK)
			return err;
	}
	return M2M_E_PROTO_COOKIE;
}

/* A WELCOME that verifies: the pseudonym and instructions it carries. */
static enum m2m_err
welcome(struct cli *c, const uint8_t *in, size_t m)
{
	uint8_t pt[PROTO_DATAGRAM_MAX];
	struct proto_welcome_pt w;
	enum m2m_err err;

	if ((err = proto_mod_welcome(c->ctx, &c->hs, in, m, &c->s, pt, &w)) != M2M_OK)
		return err;
	memcpy(c->cr.pseudonym, w.pseudonym, w.pseudonym_len);
	c->cr.pseudonym_len = w.pseudonym_len;
	c->status = w.status;
	for (size_t i = 0; i < w.n_instr && c->n_instr < PROTO_INSTR_MAX; i++)
		memcpy(c->instr_ids[c->n_instr++], w.instr[i].id, PROTO_INSTR_ID_LEN);
	return M2M_OK;
}

enum m2m_err
cli_auth(struct cli *c, const uint8_t *auth, size_t auth_len)
{
	uint8_t in[PROTO_DATAGRAM_MAX], out[PROTO_DATAGRAM_MAX];
	size_t m, n;
	uint8_t type;
	enum m2m_err err;

	if ((err = cli_send(c, auth, auth_len)) != M2M_OK)
		return err;
	for (int round = 0; round < 64; round++) {
		if ((err = cli_recv(c, in, sizeof(in), &m)) != M2M_OK)
			return err;
		if (proto_peek(in, m, &type) != M2M_OK)
			continue;
		if (type == PROTO_WELCOME && welcome(c, in, m) == M2M_OK)
			return M2M_OK;
		/* A RETRY too: the CHALLENGE answered first may have been forged. */
		if ((type == PROTO_CHALLENGE || type == PROTO_RETRY) &&
		    answer(c, in, m, out, &n, &type) == M2M_OK && (err = cli_send(c, out, n)) != M2M_OK)
			return err;
	}
	return M2M_E_PROTO_STATE;
}

enum m2m_err
cli_handshake(struct cli *c, const uint8_t *data, size_t len)
{
	uint8_t auth[PROTO_DATAGRAM_MAX];
	size_t n;
	enum m2m_err err;

	if ((err = cli_hello(c, data, len, auth, &n)) != M2M_OK)
		return err;
	return cli_auth(c, auth, n);
}

/* Sends a record and waits for the answer to its sequence number. */
static enum m2m_err
roundtrip(struct cli *c, uint8_t type, const uint8_t *pt, size_t ptlen, struct proto_ack_pt *ack,
    uint8_t *ackbuf, uint64_t *seq)
{
	uint8_t out[PROTO_DATAGRAM_MAX], in[PROTO_DATAGRAM_MAX];
	struct proto_record r;
	size_t n, m, alen;
	enum m2m_err err;

	if ((err = proto_session_seal(c->ctx, &c->s, type, pt, ptlen, out, sizeof(out), &n,
	    seq)) != M2M_OK ||
	    (err = cli_send(c, out, n)) != M2M_OK ||
	    (err = cli_recv(c, in, sizeof(in), &m)) != M2M_OK ||
	    (err = proto_record_decode(in, m, &r)) != M2M_OK ||
	    (err = proto_session_open(c->ctx, &c->s, &r, in, ackbuf, PROTO_DATAGRAM_MAX,
	    &alen)) != M2M_OK ||
	    (err = proto_ack_pt_decode(r.type, ackbuf, alen, ack)) != M2M_OK)
		return err;
	return ack->acked_seq == *seq ? M2M_OK : M2M_E_PROTO_PAYLOAD;
}

enum m2m_err
cli_data(struct cli *c, const uint8_t *payload, size_t len, uint64_t *seq)
{
	uint8_t pt[PROTO_DATAGRAM_MAX], ackbuf[PROTO_DATAGRAM_MAX];
	struct proto_data_pt d = { c->instr_ids[0], c->n_instr, payload, len };
	struct proto_ack_pt ack;
	size_t n;
	enum m2m_err err;

	if ((err = proto_data_pt_encode(&d, pt, sizeof(pt), &n)) != M2M_OK ||
	    (err = roundtrip(c, PROTO_DATA, pt, n, &ack, ackbuf, seq)) != M2M_OK)
		return err;
	c->n_instr = 0;
	for (size_t i = 0; i < ack.n_instr && c->n_instr < PROTO_INSTR_MAX; i++)
		memcpy(c->instr_ids[c->n_instr++], ack.instr[i].id, PROTO_INSTR_ID_LEN);
	return M2M_OK;
}

enum m2m_err
cli_rekey_to(struct cli *c, const uint8_t pub[PROTO_POINT_LEN], uint8_t *status)
{
	uint8_t ackbuf[PROTO_DATAGRAM_MAX];
	struct proto_ack_pt ack;
	uint64_t seq;
	enum m2m_err err;

	if ((err = roundtrip(c, PROTO_REKEY, pub, PROTO_POINT_LEN, &ack, ackbuf, &seq)) != M2M_OK)
		return err;
	*status = ack.status;
	return M2M_OK;
}

enum m2m_err
cli_rekey(struct cli *c, uint8_t *status)
{
	uint8_t priv[PROTO_SCALAR_LEN], pub[PROTO_POINT_LEN], ackbuf[PROTO_DATAGRAM_MAX];
	struct proto_ack_pt ack;
	uint64_t seq;
	enum m2m_err err;

	if ((err = proto_p256_keygen(c->ctx, priv, pub)) != M2M_OK ||
	    (err = roundtrip(c, PROTO_REKEY, pub, sizeof(pub), &ack, ackbuf, &seq)) != M2M_OK)
		return err;
	*status = ack.status;
	if (ack.status == 0) {
		memcpy(c->cr.priv, priv, sizeof(priv));
		memcpy(c->cr.pub, pub, sizeof(pub));
	}
	proto_wipe(priv, sizeof(priv));
	return M2M_OK;
}
