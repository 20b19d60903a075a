/* SPDX-License-Identifier: Apache-2.0 */
/* A bounded open-addressing hash table of pointers, keyed by bytes inside
 * the entries themselves (a token or a session id): no allocation after
 * init, so memory is fixed by configuration. */
#ifndef M2M_SRV_TABLE_H
#define M2M_SRV_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "src/common/err.h"

struct srv_table {
	void **slots;
	size_t mask;			/* slots - 1; slots is a power of two >= 2 * max */
	size_t count, max;
	size_t keyoff, keylen;		/* where the key lies in an entry */
	uint64_t seed;
};

enum m2m_err srv_table_init(struct srv_table *t, size_t max, size_t keyoff, size_t keylen);
void srv_table_free(struct srv_table *t);
void *srv_table_get(const struct srv_table *t, const uint8_t *key);
/* M2M_E_FULL when max entries are in. The key must not be present. */
enum m2m_err srv_table_put(struct srv_table *t, void *entry);
void srv_table_del(struct srv_table *t, const void *entry);

#endif
