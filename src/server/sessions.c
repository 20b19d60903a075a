/* SPDX-License-Identifier: Apache-2.0 */
/* Established sessions: a slab with a free list, found by session id, and
 * a clock hand that ends idle sessions a few slots per tick. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "src/server/state.h"

enum m2m_err
sess_init(struct sessions *t, size_t cap)
{
	memset(t, 0, sizeof(*t));
	if ((t->slab = calloc(cap, sizeof(*t->slab))) == NULL)
		return M2M_E_NOMEM;
	t->cap = cap;
	for (size_t i = 0; i < cap; i++)
		t->slab[i].next_free = (uint32_t)(i + 1);
	t->free_head = 0;
	return srv_table_init(&t->table, cap, offsetof(struct sess_entry, s.id),
	    PROTO_SESSION_ID_LEN);
}

void
sess_free(struct sessions *t)
{
	if (t->slab != NULL)
		proto_wipe(t->slab, t->cap * sizeof(*t->slab));
	free(t->slab);
	srv_table_free(&t->table);
	memset(t, 0, sizeof(*t));
}

struct sess_entry *
sess_alloc(struct sessions *t)
{
	struct sess_entry *e;

	if (t->free_head >= t->cap)
		return NULL;
	e = &t->slab[t->free_head];
	t->free_head = e->next_free;
	memset(e, 0, sizeof(*e));
	return e;
}

enum m2m_err
sess_insert(struct sessions *t, struct sess_entry *e)
{
	enum m2m_err err = srv_table_put(&t->table, e);

	if (err == M2M_OK)
		e->in_use = 1;
	return err;
}

void
sess_release(struct sessions *t, struct sess_entry *e)
{
	if (e->in_use)
		srv_table_del(&t->table, e);
	proto_wipe(e, sizeof(*e));
	e->next_free = t->free_head;
	t->free_head = (uint32_t)(e - t->slab);
}

void
sess_close(struct sessions *t, struct sess_entry *e)
{
	if (e->in_use)
		srv_table_del(&t->table, e);
	e->in_use = 0;
	e->closed = 1;
	if (e->inflight == 0)
		sess_release(t, e);
}

void
sess_done(struct sessions *t, struct sess_entry *e)
{
	e->inflight--;
	if (e->closed && e->inflight == 0)
		sess_release(t, e);
}

struct sess_entry *
sess_find(struct sessions *t, const uint8_t id[PROTO_SESSION_ID_LEN])
{
	return srv_table_get(&t->table, id);
}

void
sess_sweep(struct sessions *t, uint32_t cutoff, size_t budget)
{
	struct sess_entry *e;

	for (; budget > 0 && t->cap > 0; budget--) {
		e = &t->slab[t->hand];
		t->hand = (t->hand + 1) % t->cap;
		if (e->in_use && e->inflight == 0 && e->last_active < cutoff)
			sess_release(t, e);
	}
}

size_t
sess_bytes_per_entry(const struct sessions *t)
{
	return sizeof(*t->slab) + (t->table.mask + 1) * sizeof(void *) / t->cap;
}

size_t
sess_count(const struct sessions *t)
{
	return t->table.count;
}
