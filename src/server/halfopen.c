/* Half-open handshakes between CHALLENGE and AUTH. Every entry lives the
 * same time, so a ring allocated in arrival order expires from its head;
 * entries ended early leave holes that the head reclaims. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "src/server/state.h"

enum m2m_err
ho_init(struct halfopen *h, size_t cap)
{
	memset(h, 0, sizeof(*h));
	if ((h->ring = calloc(cap, sizeof(*h->ring))) == NULL)
		return M2M_E_NOMEM;
	h->cap = cap;
	return srv_table_init(&h->table, cap, offsetof(struct ho_entry, hs.token),
	    PROTO_TOKEN_LEN);
}

void
ho_free(struct halfopen *h)
{
	for (size_t i = 0; h->ring != NULL && i < h->cap; i++)
		if (h->ring[i].in_use)
			ho_remove(h, &h->ring[i]);
	free(h->ring);
	srv_table_free(&h->table);
	memset(h, 0, sizeof(*h));
}

struct ho_entry *
ho_next(struct halfopen *h)
{
	struct ho_entry *e;

	if (h->tail - h->head == h->cap)
		return NULL;
	e = &h->ring[h->tail % h->cap];
	return e->in_use ? NULL : e;
}

enum m2m_err
ho_commit(struct halfopen *h, struct ho_entry *e, uint32_t expires)
{
	enum m2m_err err;

	if ((err = srv_table_put(&h->table, e)) != M2M_OK)
		return err;
	e->expires = expires;
	e->in_use = 1;
	h->tail++;
	return M2M_OK;
}

struct ho_entry *
ho_find(struct halfopen *h, const uint8_t token[PROTO_TOKEN_LEN])
{
	return srv_table_get(&h->table, token);
}

void
ho_remove(struct halfopen *h, struct ho_entry *e)
{
	if (!e->in_use)
		return;
	srv_table_del(&h->table, e);
	proto_wipe(e, sizeof(*e));
}

void
ho_expire(struct halfopen *h, uint32_t now)
{
	struct ho_entry *e;

	for (; h->head != h->tail; h->head++) {
		e = &h->ring[h->head % h->cap];
		if (e->in_use && e->expires > now)
			break;
		ho_remove(h, e);
	}
}

/* The bytes after the token: key id, pseudonym, E_m, e_s, TH2. */
#define DONE_AREA_OFF	offsetof(struct proto_srv_hs, key_id)
#define DONE_AREA_LEN	(sizeof(struct proto_srv_hs) - DONE_AREA_OFF)

int
ho_keep_welcome(struct ho_entry *e, const uint8_t *welcome, size_t len, const uint8_t tag[8])
{
	uint8_t *area = (uint8_t *)&e->hs + DONE_AREA_OFF;

	proto_wipe(area, DONE_AREA_LEN);
	e->welcome_len = 0;
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
	return sizeof(*h->ring) + (h->table.mask + 1) * sizeof(void *) / h->cap;
}

size_t
ho_count(const struct halfopen *h)
{
	return h->table.count;
}
