/* SPDX-License-Identifier: Apache-2.0 */
/* Memory per state entry at the default configuration: at most 256 bytes
 * per half-open handshake and 512 per established session, counting the
 * hash table's slots. Sizes, not timings: the assertion is exact. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "src/server/conf.h"
#include "src/server/state.h"

Test(memory, bytes_per_entry_at_the_defaults)
{
	struct srv_config c;
	struct halfopen ho;
	struct sessions ss;
	char err[256];
	size_t per_ho, per_sess, n;

	cr_assert_eq(srv_config_load(&c, NULL, err, sizeof(err)), M2M_OK);
	n = c.workers;
	cr_assert_eq(ho_init(&ho, (c.half_open_max + n - 1) / n), M2M_OK);
	cr_assert_eq(sess_init(&ss, (c.sessions_max + n - 1) / n), M2M_OK);
	per_ho = ho_bytes_per_entry(&ho);
	per_sess = sess_bytes_per_entry(&ss);
	cr_log_info("half-open handshake: %zu bytes (%zu entry + hash slots); session: %zu bytes"
	    " (%zu entry + hash slots)", per_ho, sizeof(struct ho_entry), per_sess,
	    sizeof(struct sess_entry));
	printf("memory: %zu bytes per half-open handshake, %zu bytes per session\n", per_ho,
	    per_sess);
	cr_assert_leq(per_ho, 256);
	cr_assert_leq(per_sess, 512);
	ho_free(&ho);
	sess_free(&ss);
	srv_config_free(&c);
}

Test(memory, a_done_entry_keeps_its_welcome_in_place)
{
	struct halfopen ho;
	struct ho_entry *e;
	uint8_t welcome[45] = { 1, 5, 9 }, tag[8] = { 7 };

	cr_assert_eq(ho_init(&ho, 4), M2M_OK);
	cr_assert_not_null(e = ho_next(&ho));
	memset(e->hs.token, 0xab, PROTO_TOKEN_LEN);
	cr_assert_eq(ho_commit(&ho, e, 100), M2M_OK);
	e->hs.state = PROTO_SRV_HS_DONE;
	cr_assert(ho_keep_welcome(&ho, e, welcome, sizeof(welcome), tag));
	cr_assert_eq(ho_find(&ho, e->hs.token), e, "the token still finds it");
	cr_assert_arr_eq(ho_welcome(e), welcome, sizeof(welcome));
	ho_expire(&ho, 99);
	cr_assert_eq(ho_count(&ho), 1);
	ho_expire(&ho, 100);
	cr_assert_eq(ho_count(&ho), 0);
	ho_free(&ho);
}
