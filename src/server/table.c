/* SPDX-License-Identifier: Apache-2.0 */
/* Linear probing with backward-shift deletion. Keys are server-made random
 * bytes (after the route prefix), so their bits already spread well; a
 * seeded mix keeps lookups for attacker-chosen keys from clustering. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "src/server/table.h"

static size_t
slot_of(const struct srv_table *t, const uint8_t *key)
{
	uint64_t h = t->seed;

	for (size_t i = 0; i < t->keylen; i++)
		h = (h ^ key[i]) * 0x100000001b3ULL;
	h ^= h >> 29;
	return (size_t)h & t->mask;
}

static const uint8_t *
key_of(const struct srv_table *t, const void *entry)
{
	return (const uint8_t *)entry + t->keyoff;
}

enum m2m_err
srv_table_init(struct srv_table *t, size_t max, size_t keyoff, size_t keylen)
{
	size_t n = 2;

	memset(t, 0, sizeof(*t));
	while (n < 2 * max)
		n <<= 1;
	if ((t->slots = calloc(n, sizeof(*t->slots))) == NULL)
		return M2M_E_NOMEM;
	t->mask = n - 1;
	t->max = max;
	t->keyoff = keyoff;
	t->keylen = keylen;
	if (RAND_bytes((unsigned char *)&t->seed, sizeof(t->seed)) != 1)
		t->seed = 0xcbf29ce484222325ULL;
	return M2M_OK;
}

void
srv_table_free(struct srv_table *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

void *
srv_table_get(const struct srv_table *t, const uint8_t *key)
{
	size_t i = slot_of(t, key);

	for (; t->slots[i] != NULL; i = (i + 1) & t->mask)
		if (CRYPTO_memcmp(key_of(t, t->slots[i]), key, t->keylen) == 0)
			return t->slots[i];
	return NULL;
}

enum m2m_err
srv_table_put(struct srv_table *t, void *entry)
{
	size_t i;

	if (t->count >= t->max)
		return M2M_E_FULL;
	for (i = slot_of(t, key_of(t, entry)); t->slots[i] != NULL; i = (i + 1) & t->mask)
		;
	t->slots[i] = entry;
	t->count++;
	return M2M_OK;
}

void
srv_table_del(struct srv_table *t, const void *entry)
{
	size_t i = slot_of(t, key_of(t, entry)), j, home;

	for (; t->slots[i] != entry; i = (i + 1) & t->mask)
		if (t->slots[i] == NULL)
			return;
	/* Shift later members of the run back so no lookup stops early. */
	for (j = (i + 1) & t->mask; t->slots[j] != NULL; j = (j + 1) & t->mask) {
		home = slot_of(t, key_of(t, t->slots[j]));
		if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i] = NULL;
	t->count--;
}
