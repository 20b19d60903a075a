/* SPDX-License-Identifier: Apache-2.0 */
/* The loopback responder of the m2m-sim tests: the server role of the
 * protocol core on a UDP socket in a thread, with software ECDH for the
 * HSM, pseudonym rotation (current and previous accepted), RETRY cookies,
 * cached WELCOME for a repeated AUTH, a new DATA_ACK for a repeated DATA,
 * deterministic datagram loss, and forgeries racing its answers. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/sim/simtest.h"

#define HS_MAX		512
#define SESS_MAX	1024
#define INC(f)		atomic_fetch_add(&r->counts.f, 1)
/* Criterion asserts belong to the test's thread: here, count and go on. */
#define CHECK(expr)	do { if ((expr) != M2M_OK) { INC(failures); return; } } while (0)

struct hs_entry {
	struct proto_srv_hs hs;
	int live;
	int auth_dropped;		/* cfg.drop_first_auth: done */
	uint8_t auth[PROTO_DATAGRAM_MAX], welcome[PROTO_DATAGRAM_MAX];
	size_t auth_len, welcome_len;
};

struct rmod {
	struct proto_module_rec rec;
	uint8_t cur[PROTO_PSEUDONYM_LEN], prev[PROTO_PSEUDONYM_LEN];
	int has_prev;
};

struct st_resp {
	int fd;
	uint16_t port;
	pthread_t tid;
	atomic_int stop;
	struct st_resp_cfg cfg;
	struct proto_ctx *ctx;
	uint8_t server_priv[PROTO_SCALAR_LEN];
	struct proto_srv_key key;
	struct proto_srv_key forger_key;	/* cfg.forge: not the pinned key */
	struct rmod *mods;
	size_t n;
	pthread_mutex_t mu;		/* pseudonyms, read by the test */
	struct hs_entry hs[HS_MAX];
	size_t hs_next;
	struct proto_session sess[SESS_MAX];
	uint64_t next_sid, in_count, out_count, hello_count, instr_next;
	uint8_t cookie_secret[32];
	struct proto_srv_auth auth;
	struct sockaddr_storage from;
	socklen_t fromlen;
	struct st_resp_counts counts;
};

static void
reply(struct st_resp *r, const uint8_t *buf, size_t len)
{
	if (r->cfg.drop_out_every != 0 && ++r->out_count % r->cfg.drop_out_every == 0) {
		INC(dropped);
		return;
	}
	sendto(r->fd, buf, len, 0, (struct sockaddr *)&r->from, r->fromlen);
}

/* cfg.forge: what an attacker who saw the HELLO sends ahead of the real
 * CHALLENGE. The module cannot tell these CHALLENGEs from the real one. */
static void
forge_challenges(struct st_resp *r, const uint8_t *hello, size_t len, unsigned n)
{
	struct proto_srv_hs hs;
	uint8_t out[PROTO_DATAGRAM_MAX];
	size_t olen;

	for (unsigned i = 0; i < n; i++) {
		CHECK(proto_srv_hello(r->ctx, &r->forger_key, 1, 0, hello, len, &hs, out,
		    sizeof(out), &olen));
		proto_wipe(&hs, sizeof(hs));
		INC(forged);
		reply(r, out, olen);
	}
}

/* cfg.forge: WELCOMEs that do not verify, a bit of the real one flipped. */
static void
forge_welcomes(struct st_resp *r, const uint8_t *welcome, size_t len)
{
	uint8_t out[PROTO_DATAGRAM_MAX];

	for (unsigned i = 0; i < r->cfg.forge; i++) {
		memcpy(out, welcome, len);
		out[PROTO_HDR_LEN + PROTO_SESSION_ID_LEN + i % (len - PROTO_HDR_LEN -
		    PROTO_SESSION_ID_LEN)] ^= 0x80;
		INC(forged);
		reply(r, out, len);
	}
}

static void
on_hello(struct st_resp *r, const uint8_t *buf, size_t len)
{
	struct proto_hello h;
	struct hs_entry *e;
	uint8_t out[PROTO_DATAGRAM_MAX], cookie[PROTO_COOKIE_LEN];
	size_t olen;

	if (proto_hello_decode(buf, len, &h) != M2M_OK) {
		INC(rejected);
		return;
	}
	INC(hellos);
	if (r->cfg.retry_every != 0 && h.cookie == NULL &&
	    ++r->hello_count % r->cfg.retry_every == 0) {
		CHECK(proto_cookie(r->cookie_secret, 0, (const uint8_t *)&r->from,
		    r->fromlen, h.e_m, cookie));
		CHECK(proto_retry_encode(cookie, out, sizeof(out), &olen));
		INC(retries);
		reply(r, out, olen);
		return;
	}
	if (h.cookie != NULL && !proto_cookie_valid(r->cookie_secret, 0,
	    (const uint8_t *)&r->from, r->fromlen, h.e_m, h.cookie, h.cookie_len)) {
		INC(rejected);
		return;
	}
	e = &r->hs[r->hs_next++ % HS_MAX];
	memset(e, 0, sizeof(*e));
	if (proto_srv_hello(r->ctx, &r->key, 1, 0, buf, len, &e->hs, out, sizeof(out),
	    &olen) != M2M_OK) {
		INC(rejected);
		return;
	}
	e->live = 1;
	INC(challenges);
	forge_challenges(r, buf, len, r->cfg.forge);
	reply(r, out, olen);
	forge_challenges(r, buf, len, r->cfg.forge_after);
}

static struct rmod *
find_mod(struct st_resp *r, const uint8_t *p, size_t len)
{
	if (len != PROTO_PSEUDONYM_LEN)
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		if (memcmp(r->mods[i].cur, p, len) == 0 ||
		    (r->mods[i].has_prev && memcmp(r->mods[i].prev, p, len) == 0))
			return &r->mods[i];
	return NULL;
}

static struct hs_entry *
find_hs(struct st_resp *r, const uint8_t *token)
{
	for (size_t i = 0; i < HS_MAX; i++)
		if (r->hs[i].live && memcmp(r->hs[i].hs.token, token, PROTO_TOKEN_LEN) == 0)
			return &r->hs[i];
	return NULL;
}

/* DB lookup, HSM ECDH and commit, all in memory. */
static enum m2m_err
authenticate(struct st_resp *r, struct hs_entry *e, const uint8_t *buf, size_t len,
    struct rmod **mod)
{
	struct proto_srv_auth *a = &r->auth;
	uint8_t dh1[PROTO_DH_LEN];
	enum m2m_err err;

	if ((err = proto_srv_auth_start(r->ctx, a, &e->hs, buf, len)) != M2M_OK) {
		if (err == M2M_E_PROTO_ATTEMPTS)
			e->live = 0;
		return err;
	}
	*mod = find_mod(r, a->hs.pseudonym, a->hs.pseudonym_len);
	err = proto_srv_auth_module(a, *mod != NULL ? &(*mod)->rec : NULL);
	if (err == M2M_OK && a->req == PROTO_REQ_VERIFY)	/* DH1 done before */
		err = proto_srv_auth_verify(r->ctx, a);
	else if (err == M2M_OK)
		err = proto_p256_ecdh(r->ctx, r->server_priv, PROTO_SCALAR_LEN, a->hs.e_m,
		    PROTO_POINT_FULL_LEN, dh1);
	if (err == M2M_OK && a->req == PROTO_REQ_ECDH)
		err = proto_srv_auth_dh1(r->ctx, a, dh1);
	if (proto_srv_hs_settle(&e->hs, a, err))
		e->live = 0;
	return err;
}

static void
on_auth(struct st_resp *r, const uint8_t *buf, size_t len)
{
	struct proto_auth m;
	struct hs_entry *e;
	struct rmod *mod = NULL;
	struct proto_instr in;
	uint8_t sid[PROTO_SESSION_ID_LEN];
	uint64_t id;

	if (proto_auth_decode(buf, len, &m) != M2M_OK || (e = find_hs(r, m.token)) == NULL) {
		INC(rejected);
		return;
	}
	if (r->cfg.drop_first_auth && !e->auth_dropped) {
		e->auth_dropped = 1;	/* the module must resend it */
		INC(dropped);
		return;
	}
	if (e->hs.state == PROTO_SRV_HS_DONE) {
		/* The module did not get our WELCOME: the same answer again. */
		if (e->auth_len == len && memcmp(e->auth, buf, len) == 0) {
			INC(welcome_resends);
			reply(r, e->welcome, e->welcome_len);
		} else {
			INC(rejected);
		}
		return;
	}
	if (authenticate(r, e, buf, len, &mod) != M2M_OK) {
		proto_srv_auth_wipe(&r->auth);
		INC(rejected);
		return;
	}
	pthread_mutex_lock(&r->mu);
	memcpy(mod->prev, mod->cur, PROTO_PSEUDONYM_LEN);
	memcpy(mod->cur, r->auth.next_pseudonym, PROTO_PSEUDONYM_LEN);
	mod->has_prev = 1;
	pthread_mutex_unlock(&r->mu);
	id = r->next_sid++;
	proto_put_u64(sid, id);
	proto_put_u64(in.id, ++r->instr_next);
	in.body = (const uint8_t *)"reboot";
	in.body_len = 6;
	CHECK(proto_srv_welcome(r->ctx, &r->auth, sid, r->auth.next_pseudonym, PROTO_PSEUDONYM_LEN,
	    &in, r->cfg.instructions ? 1 : 0, &r->sess[id % SESS_MAX], e->welcome,
	    sizeof(e->welcome), &e->welcome_len));
	if (r->cfg.instructions)
		INC(instr_sent);
	if (r->cfg.corrupt_welcome)
		e->welcome[e->welcome_len - 1] ^= 1;
	memcpy(e->auth, buf, len);
	e->auth_len = len;
	INC(welcomes);
	forge_welcomes(r, e->welcome, e->welcome_len);
	reply(r, e->welcome, e->welcome_len);
}

static void
on_data(struct st_resp *r, const uint8_t *buf, size_t len)
{
	struct proto_record rec;
	struct proto_session *s;
	struct proto_data_pt d;
	struct proto_ack_pt ack = { 0 };
	uint8_t pt[PROTO_DATAGRAM_MAX], out[PROTO_DATAGRAM_MAX];
	size_t ptlen, olen;
	enum m2m_err err;

	if (proto_record_decode(buf, len, &rec) != M2M_OK) {
		INC(rejected);
		return;
	}
	s = &r->sess[proto_get_u64(rec.session_id) % SESS_MAX];
	err = proto_session_open(r->ctx, s, &rec, buf, pt, sizeof(pt), &ptlen);
	if (err == M2M_E_PROTO_REPLAY &&
	    proto_session_reopen(r->ctx, s, &rec, buf, pt, sizeof(pt), &ptlen) == M2M_OK) {
		INC(data_again);	/* counted once, answered again */
	} else if (err != M2M_OK || proto_data_pt_decode(pt, ptlen, &d) != M2M_OK) {
		INC(rejected);
		return;
	} else {
		for (size_t i = 0; i < d.n_acks; i++)
			if (proto_get_u64(d.acks + i * PROTO_INSTR_ID_LEN) <= r->instr_next)
				INC(instr_acked);
		INC(data);
	}
	ack.acked_seq = rec.seq;
	CHECK(proto_ack_pt_encode(PROTO_DATA_ACK, &ack, pt, sizeof(pt), &ptlen));
	CHECK(proto_session_seal(r->ctx, s, PROTO_DATA_ACK, pt, ptlen, out, sizeof(out),
	    &olen, NULL));
	proto_session_answered(s, rec.seq);
	reply(r, out, olen);
}

static void
handle(struct st_resp *r, const uint8_t *buf, size_t len)
{
	uint8_t type;

	if (proto_peek(buf, len, &type) != M2M_OK)
		type = 0;
	if (type == PROTO_HELLO)
		on_hello(r, buf, len);
	else if (type == PROTO_AUTH)
		on_auth(r, buf, len);
	else if (type == PROTO_DATA)
		on_data(r, buf, len);
	else
		INC(rejected);
}

static void *
resp_main(void *arg)
{
	struct st_resp *r = arg;
	struct pollfd p = { .fd = r->fd, .events = POLLIN };
	uint8_t buf[PROTO_DATAGRAM_MAX + 1];
	ssize_t n;

	while (!atomic_load(&r->stop)) {
		if (poll(&p, 1, 20) <= 0)
			continue;
		r->fromlen = sizeof(r->from);
		n = recvfrom(r->fd, buf, sizeof(buf), 0, (struct sockaddr *)&r->from, &r->fromlen);
		if (n < 0)
			continue;
		if (r->cfg.drop_in_every != 0 && ++r->in_count % r->cfg.drop_in_every == 0) {
			INC(dropped);
			continue;
		}
		handle(r, buf, (size_t)n);
	}
	return NULL;
}

static int
bind_loopback(struct st_resp *r, int family)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		v6->sin6_family = AF_INET6;
		v6->sin6_addr = in6addr_loopback;
		len = sizeof(*v6);
	} else {
		v4->sin_family = AF_INET;
		v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*v4);
	}
	if ((r->fd = socket(family, SOCK_DGRAM, 0)) < 0)
		return -1;
	if (bind(r->fd, (struct sockaddr *)&ss, len) != 0 ||
	    getsockname(r->fd, (struct sockaddr *)&ss, &len) != 0) {
		close(r->fd);
		return -1;
	}
	r->port = ntohs(family == AF_INET6 ? v6->sin6_port : v4->sin_port);
	return 0;
}

struct st_resp *
st_resp_start(const struct st_enrolled *e, const struct st_resp_cfg *cfg)
{
	struct st_resp *r = calloc(1, sizeof(*r));
	uint8_t priv[PROTO_SCALAR_LEN];

	cr_assert_not_null(r);
	r->cfg = *cfg;
	if (bind_loopback(r, cfg->family != 0 ? cfg->family : AF_INET) != 0) {
		free(r);
		return NULL;
	}
	cr_assert_eq(proto_ctx_new(&r->ctx, NULL), M2M_OK);
	memcpy(r->server_priv, e->server_priv, PROTO_SCALAR_LEN);
	r->key = e->key;
	/* The forger's key: it does not know s, its private half is dropped. */
	memcpy(r->forger_key.key_id, e->key.key_id, PROTO_KEY_ID_LEN);
	cr_assert_eq(proto_p256_keygen(r->ctx, priv, r->forger_key.pub), M2M_OK);
	proto_wipe(priv, sizeof(priv));
	r->n = e->n;
	cr_assert_not_null(r->mods = calloc(e->n, sizeof(*r->mods)));
	for (size_t i = 0; i < e->n; i++) {
		r->mods[i].rec = e->rec[i];
		memcpy(r->mods[i].cur, e->pseudonym[i], PROTO_PSEUDONYM_LEN);
	}
	cr_assert_eq(proto_random(r->ctx, r->cookie_secret, sizeof(r->cookie_secret)), M2M_OK);
	r->next_sid = 1;
	pthread_mutex_init(&r->mu, NULL);
	cr_assert_eq(pthread_create(&r->tid, NULL, resp_main, r), 0);
	return r;
}

uint16_t
st_resp_port(const struct st_resp *r)
{
	return r->port;
}

struct st_resp_counts *
st_resp_counts(struct st_resp *r)
{
	return &r->counts;
}

void
st_resp_pseudonym_hex(struct st_resp *r, size_t i, char *out)
{
	pthread_mutex_lock(&r->mu);
	tu_hex(r->mods[i].cur, PROTO_PSEUDONYM_LEN, out);
	pthread_mutex_unlock(&r->mu);
}

void
st_resp_stop(struct st_resp *r)
{
	atomic_store(&r->stop, 1);
	pthread_join(r->tid, NULL);
	close(r->fd);
	proto_ctx_free(r->ctx);
	pthread_mutex_destroy(&r->mu);
	free(r->mods);
	free(r);
}
