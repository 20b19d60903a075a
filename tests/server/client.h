/* SPDX-License-Identifier: Apache-2.0 */
/* A blocking test client on the module role of the protocol core: enough
 * to drive a real m2md step by step (and misbehave on purpose). */
#ifndef M2M_TEST_CLIENT_H
#define M2M_TEST_CLIENT_H

#include <sys/socket.h>

#include "src/proto/proto.h"

struct cli {
	int fd;
	struct sockaddr_storage srv;
	socklen_t srvlen;
	struct proto_ctx *ctx;
	int timeout_ms;
	struct proto_mod_creds cr;
	struct proto_mod_hs hs;
	struct proto_session s;
	uint8_t last[PROTO_DATAGRAM_MAX];	/* the last datagram sent */
	size_t last_len;
	uint8_t instr_ids[PROTO_INSTR_MAX][PROTO_INSTR_ID_LEN];
	size_t n_instr;				/* received, to confirm in the next DATA */
	uint8_t status;				/* of the last WELCOME */
	uint8_t data[PROTO_DATAGRAM_MAX];	/* the first data, for every CHALLENGE */
	size_t data_len;
};

/* Reads module `index` (0-based) of a credentials file. */
enum m2m_err cli_creds(const char *file, size_t index, struct proto_mod_creds *cr);
enum m2m_err cli_open(struct cli *c, const char *host, int port, const struct proto_mod_creds *cr);
void cli_close(struct cli *c);
/* A new socket: the next datagrams leave from another source port. */
enum m2m_err cli_rebind(struct cli *c);
enum m2m_err cli_send(struct cli *c, const uint8_t *buf, size_t len);
/* M2M_E_IO on timeout. */
enum m2m_err cli_recv(struct cli *c, uint8_t *buf, size_t cap, size_t *len);

/* HELLO (answering RETRY) until a CHALLENGE arrives; writes the AUTH.
 * Other datagrams are ignored. */
enum m2m_err cli_hello(struct cli *c, const uint8_t *data, size_t len, uint8_t *auth,
    size_t *auth_len);
/* Sends the AUTH and waits for a WELCOME that verifies: the session is up,
 * the pseudonym replaced. As a module must, it answers every other
 * CHALLENGE (one may be the server's when the first was forged) and RETRY,
 * and ignores WELCOMEs that do not verify; each datagram restarts the wait. */
enum m2m_err cli_auth(struct cli *c, const uint8_t *auth, size_t auth_len);
enum m2m_err cli_handshake(struct cli *c, const uint8_t *data, size_t len);
/* DATA (confirming instructions received so far), waits for its DATA_ACK.
 * The sent record is kept in c->last for replay tests. */
enum m2m_err cli_data(struct cli *c, const uint8_t *payload, size_t len, uint64_t *seq);
/* REKEY with a fresh key pair; on success the credentials hold the new pair
 * (the server keeps it pending until a handshake proves it). */
enum m2m_err cli_rekey(struct cli *c, uint8_t *status);
/* REKEY to a given public key (its private half unknown here: for refusals);
 * the credentials stay. */
enum m2m_err cli_rekey_to(struct cli *c, const uint8_t pub[PROTO_POINT_LEN], uint8_t *status);

#endif
