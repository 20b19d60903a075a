/* SPDX-License-Identifier: Apache-2.0 */
/* Half-open handshakes between CHALLENGE and AUTH. Every entry lives the
 * same time, so entries chained in the order they were made expire from
 * the oldest; an entry ended early (attempts used up, nothing to resend)
 * frees its slot at once, so the table is full only when every slot holds
 * a live entry. Found by token, and by E_m so that a retransmitted HELLO
 * costs no second entry. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "src/server/state.h"

#define SLOT(h, i)	(&(h)->ring[(i) - 1])

static uint32_t
slot_of(const struct halfopen *h, const struct ho_entry *e)
{
	return (uint32_t)(e - h->ring) + 1;
}

enum m2m_err
ho_init(struct halfopen *h, size_t cap)
{
	memset(h, 0, sizeof(*h));
	if (cap == 0 || cap > UINT32_MAX - 1)
		return M2M_E_INVALID_ARG;
	h->ring = calloc(cap, sizeof(*h->ring));
	h->prev = calloc(cap + 1, sizeof(*h->prev));
	h->next = calloc(cap + 1, sizeof(*h->next));
	h->cap = cap;
	/* E_m is kept uncompressed: its X follows the 0x04 byte. */
	if (h->ring == NULL || h->prev == NULL || h->next == NULL ||
	    srv_table_init(&h->table, cap, offsetof(struct ho_entry, hs.token),
	    PROTO_TOKEN_LEN) != M2M_OK ||
	    srv_table_init(&h->by_em, cap, offsetof(struct ho_entry, hs.e_m) + 1,
	    PROTO_POINT_LEN - 1) != M2M_OK) {
		ho_free(h);
		return M2M_E_NOMEM;
	}
	for (uint32_t i = 1; i < cap; i++)
		h->next[i] = i + 1;
	h->free = 1;
	return M2M_OK;
}

void
ho_free(struct halfopen *h)
{
	for (size_t i = 0; h->ring != NULL && i < h->cap; i++)
		if (h->ring[i].in_use)
			ho_remove(h, &h->ring[i]);
	free(h->ring);
	free(h->prev);
	free(h->next);
	srv_table_free(&h->table);
	srv_table_free(&h->by_em);
	memset(h, 0, sizeof(*h));
}

struct ho_entry *
ho_next(struct halfopen *h)
{
	return h->free != 0 ? SLOT(h, h->free) : NULL;
}

enum m2m_err
ho_commit(struct halfopen *h, struct ho_entry *e, uint32_t expires)
{
	uint32_t i = slot_of(h, e);
	enum m2m_err err;

	if (i != h->free)
		return M2M_E_INVALID_ARG;
	if ((err = srv_table_put(&h->table, e)) != M2M_OK)
		return err;
	/* A second HELLO with the same E_m but other bytes (a cookie added
	 * after RETRY, or someone else's) has its own entry, not indexed. */
	e->by_hello = srv_table_get(&h->by_em, e->hs.e_m + 1) == NULL &&
	    srv_table_put(&h->by_em, e) == M2M_OK;
	e->expires = expires;
	e->answers_again = 0;
	e->in_use = 1;
	h->free = h->next[i];
	h->prev[i] = h->newest;
	h->next[i] = 0;
	if (h->newest != 0)
		h->next[h->newest] = i;
	else
		h->oldest = i;
	h->newest = i;
	return M2M_OK;
}

struct ho_entry *
ho_find(struct halfopen *h, const uint8_t token[PROTO_TOKEN_LEN])
{
	return srv_table_get(&h->table, token);
}

struct ho_entry *
ho_find_hello(struct halfopen *h, const uint8_t e_m[PROTO_POINT_LEN])
{
	return srv_table_get(&h->by_em, e_m + 1);
}

static void
unindex_hello(struct halfopen *h, struct ho_entry *e)
{
	if (e->by_hello)
		srv_table_del(&h->by_em, e);
	e->by_hello = 0;
}

/* Out of the live chain, onto the free one: the slot serves the next HELLO. */
void
ho_remove(struct halfopen *h, struct ho_entry *e)
{
	uint32_t i = slot_of(h, e);

	if (!e->in_use)
		return;
	srv_table_del(&h->table, e);
	unindex_hello(h, e);
	proto_wipe(e, sizeof(*e));
	if (h->prev[i] != 0)
		h->next[h->prev[i]] = h->next[i];
	else
		h->oldest = h->next[i];
	if (h->next[i] != 0)
		h->prev[h->next[i]] = h->prev[i];
	else
		h->newest = h->prev[i];
	h->prev[i] = 0;
	h->next[i] = h->free;
	h->free = i;
}

void
ho_expire(struct halfopen *h, uint32_t now)
{
	while (h->oldest != 0 && SLOT(h, h->oldest)->expires <= now)
		ho_remove(h, SLOT(h, h->oldest));
}

/* The bytes after the token: key id, pseudonym, E_m, e_s, TH2. */
#define DONE_AREA_OFF	offsetof(struct proto_srv_hs, key_id)
#define DONE_AREA_LEN	(sizeof(struct proto_srv_hs) - DONE_AREA_OFF)

int
ho_keep_welcome(struct halfopen *h, struct ho_entry *e, const uint8_t *welcome, size_t len,
    const uint8_t tag[8])
{
	uint8_t *area = (uint8_t *)&e->hs + DONE_AREA_OFF;

	unindex_hello(h, e);		/* E_m, its key there, is overwritten */
	proto_wipe(area, DONE_AREA_LEN);
	e->welcome_len = 0;
	e->answers_again = 0;		/* from now on: WELCOMEs */
	if (len > DONE_AREA_LEN || len > UINT8_MAX)
		return 0;
	memcpy(area, welcome, len);
	e->welcome_len = (uint8_t)len;
	memcpy(e->auth_tag, tag, sizeof(e->auth_tag));
	return 1;
}

const uint8_t *
ho_welcome(const struct ho_entry *e)
{
	return e->welcome_len != 0 ? (const uint8_t *)&e->hs + DONE_AREA_OFF : NULL;
}

size_t
ho_bytes_per_entry(const struct halfopen *h)
{
	return sizeof(*h->ring) + sizeof(*h->prev) + sizeof(*h->next) +
	    (h->table.mask + 1 + h->by_em.mask + 1) * sizeof(void *) / h->cap;
}

size_t
ho_count(const struct halfopen *h)
{
	return h->table.count;
}
