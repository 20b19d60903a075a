/* SPDX-License-Identifier: Apache-2.0 */
/* The half-open table's slots: an entry ended early (its attempts used up,
 * or done with no WELCOME to keep) frees its slot at once, so that the
 * table refuses a HELLO only when every slot holds a live entry, and
 * entries still expire oldest first. */
#include "config.h"

#include <criterion/criterion.h>
#include <string.h>

#include "src/server/state.h"

static struct ho_entry *
add(struct halfopen *ho, uint8_t token, uint32_t expires)
{
	struct ho_entry *e = ho_next(ho);

	cr_assert_not_null(e, "a free slot for entry %u", token);
	memset(e->hs.token, token, PROTO_TOKEN_LEN);
	e->hs.e_m[1] = token;
	cr_assert_eq(ho_commit(ho, e, expires), M2M_OK);
	return e;
}

static int
holds(struct halfopen *ho, uint8_t token)
{
	uint8_t t[PROTO_TOKEN_LEN];

	memset(t, token, sizeof(t));
	return ho_find(ho, t) != NULL;
}

Test(halfopen, an_entry_ended_early_frees_its_slot_at_once)
{
	struct halfopen ho;
	struct ho_entry *e[4];

	cr_assert_eq(ho_init(&ho, 4), M2M_OK);
	for (uint8_t i = 0; i < 4; i++)
		e[i] = add(&ho, (uint8_t)(i + 1), 100 + i);
	cr_assert_null(ho_next(&ho), "four live entries fill four slots");
	/* The second and the third end before they expire. */
	ho_remove(&ho, e[1]);
	ho_remove(&ho, e[2]);
	cr_assert_eq(ho_count(&ho), 2);
	add(&ho, 5, 200);
	add(&ho, 6, 201);
	cr_assert_null(ho_next(&ho));
	/* Expiry still goes oldest first, over the reused slots. */
	ho_expire(&ho, 100);
	cr_assert(!holds(&ho, 1) && holds(&ho, 4) && holds(&ho, 5) && holds(&ho, 6));
	ho_expire(&ho, 103);
	cr_assert(!holds(&ho, 4) && holds(&ho, 5) && holds(&ho, 6));
	cr_assert_eq(ho_count(&ho), 2);
	ho_expire(&ho, 201);
	cr_assert_eq(ho_count(&ho), 0);
	for (uint8_t i = 0; i < 4; i++)
		add(&ho, (uint8_t)(10 + i), 300);
	cr_assert_null(ho_next(&ho));
	ho_free(&ho);
}

Test(halfopen, removing_the_newest_and_the_oldest_keeps_the_order)
{
	struct halfopen ho;
	struct ho_entry *a, *c;

	cr_assert_eq(ho_init(&ho, 3), M2M_OK);
	a = add(&ho, 1, 10);
	add(&ho, 2, 11);
	c = add(&ho, 3, 12);
	ho_remove(&ho, c);
	ho_remove(&ho, a);
	add(&ho, 4, 13);
	add(&ho, 5, 14);
	ho_expire(&ho, 11);
	cr_assert(!holds(&ho, 2) && holds(&ho, 4) && holds(&ho, 5));
	ho_expire(&ho, 13);
	cr_assert(!holds(&ho, 4) && holds(&ho, 5));
	ho_free(&ho);
}
