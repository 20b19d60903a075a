/* SPDX-License-Identifier: Apache-2.0 */
/* HELLO: answered with a CHALLENGE and a half-open entry, or, under load
 * or from a source over its rate, with a stateless RETRY cookie; the same
 * HELLO again gets the same CHALLENGE again, a few times. */
#include "config.h"

#include <string.h>

#include "src/server/log.h"
#include "src/server/srv.h"

#define COOKIE_EPOCH_S	30	/* a cookie lives one to two epochs */

static void
send_retry(struct worker *w, const struct srv_pkt *p, const uint8_t *addr, size_t alen,
    const uint8_t *e_m)
{
	uint8_t cookie[PROTO_COOKIE_LEN], out[PROTO_HDR_LEN + PROTO_COOKIE_LEN];
	size_t n;

	if (proto_cookie(w->srv->cookie_secret, worker_now_s() / COOKIE_EPOCH_S, addr, alen,
	    e_m, cookie) != M2M_OK ||
	    proto_retry_encode(cookie, out, sizeof(out), &n) != M2M_OK)
		return;
	worker_send(w, p->fd, (const struct sockaddr *)&p->from, p->fromlen, out, n);
	srv_count(&w->m, SRV_C_retry_sent, 1);
}

/* Takes one HELLO from the source's bucket, shared by all workers. */
static int
within_rate(struct srv *s, const struct srv_pkt *p)
{
	uint8_t src[18];
	size_t slen = net_addr_bytes(&p->from, src, 0);
	int ok;

	pthread_mutex_lock(&s->rl_lock);
	ok = rl_take(&s->hello_src_rl, src, slen, worker_now_ms());
	pthread_mutex_unlock(&s->rl_lock);
	return ok;
}

/* 1 when the HELLO may take state now; 0 when it may not (a RETRY went
 * out, or it was dropped). The source's rate applies to every HELLO, with
 * a cookie or without: a cookie proves that the sender receives at its
 * address, it lifts no limit of that address. Every entry is thus taken
 * from the source's bucket, so one source (an IPv4 address, an IPv6 /64)
 * holds at most source_burst + source_rate x half_open_timeout entries. */
static int
admit(struct worker *w, const struct srv_pkt *p, const struct proto_hello *h)
{
	uint8_t addr[18];
	size_t alen = net_addr_bytes(&p->from, addr, 1);
	int rate_ok = within_rate(w->srv, p), cookie_ok;

	cookie_ok = h->cookie != NULL && proto_cookie_valid(w->srv->cookie_secret,
	    worker_now_s() / COOKIE_EPOCH_S, addr, alen, h->e_m, h->cookie, h->cookie_len);
	if (rate_ok && (cookie_ok || ho_count(&w->ho) < w->retry_above))
		return 1;
	if (cookie_ok) {
		/* A new RETRY would change nothing: the module retries later. */
		srv_drop(w, &p->from, M2M_E_SRV_RATE_LIMITED);
		return 0;
	}
	if (h->cookie != NULL)
		srv_drop(w, &p->from, M2M_E_PROTO_COOKIE);
	send_retry(w, p, addr, alen, h->e_m);
	return 0;
}

/* What a resent HELLO must match before the CHALLENGE is rebuilt (a
 * fixed-base multiplication): the same bytes from the same address and
 * port, so a lookalike costs one hash and nobody else gets the token. */
static void
hello_tag(const struct srv_pkt *p, uint8_t tag[8])
{
	uint8_t addr[18], h[PROTO_HASH_LEN];
	size_t alen = net_addr_bytes(&p->from, addr, 1);

	proto_sha256(addr, alen, p->buf, p->len, NULL, 0, h);
	memcpy(tag, h, 8);
}

/* The same HELLO again while its entry is open: its CHALLENGE was lost.
 * Answered SRV_ANSWERS_AGAIN times at most, then dropped (1 either way:
 * no second entry for it). */
static int
answered_again(struct worker *w, const struct srv_pkt *p, const struct proto_hello *h,
    const uint8_t tag[8])
{
	struct ho_entry *e = ho_find_hello(&w->ho, h->e_m);
	uint8_t out[PROTO_DATAGRAM_MAX];
	size_t n;

	if (e == NULL || !proto_ct_equal(tag, e->hello_tag, 8))
		return 0;
	if (e->hs.state == PROTO_SRV_HS_OPEN && e->answers_again >= SRV_ANSWERS_AGAIN) {
		srv_drop(w, &p->from, M2M_E_SRV_RESENDS);
		return 1;
	}
	if (proto_srv_hello_again(w->ctx, &e->hs, p->buf, p->len, out, sizeof(out), &n) != M2M_OK)
		return 0;
	e->answers_again++;
	srv_count(&w->m, SRV_C_challenge_resent, 1);
	worker_send(w, p->fd, (const struct sockaddr *)&p->from, p->fromlen, out, n);
	return 1;
}

void
srv_on_hello(struct worker *w, const struct srv_pkt *p)
{
	struct proto_hello h;
	struct ho_entry *e;
	uint8_t out[PROTO_DATAGRAM_MAX], tag[8];
	size_t n;
	enum m2m_err err;

	if ((err = proto_hello_decode(p->buf, p->len, &h)) != M2M_OK) {
		srv_drop(w, &p->from, err);
		return;
	}
	if (!admit(w, p, &h))
		return;
	hello_tag(p, tag);
	if (answered_again(w, p, &h, tag))
		return;
	if ((e = ho_next(&w->ho)) == NULL) {
		srv_drop(w, &p->from, M2M_E_SRV_HALF_OPEN_FULL);
		return;
	}
	err = proto_srv_hello(w->ctx, w->srv->keys, w->srv->n_keys, srv_route_of(w), p->buf,
	    p->len, &e->hs, out, sizeof(out), &n);
	memcpy(e->hello_tag, tag, sizeof(tag));
	if (err == M2M_OK)
		err = ho_commit(&w->ho, e, worker_now_s() + w->srv->cfg->half_open_timeout_s);
	if (err != M2M_OK) {
		proto_wipe(&e->hs, sizeof(e->hs));
		srv_drop(w, &p->from, err);
		return;
	}
	srv_count(&w->m, SRV_C_hello, 1);
	worker_send(w, p->fd, (const struct sockaddr *)&p->from, p->fromlen, out, n);
	srv_count(&w->m, SRV_C_challenge_sent, 1);
}
