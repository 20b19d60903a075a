/* SPDX-License-Identifier: Apache-2.0 */
/* What doc/protocol.md and doc/operations.md say the schema holds:
 * sequence numbers up to 2^64 - 2 (migration 013), pseudonyms of 16 to 32
 * bytes only. */
#include "config.h"

#include <criterion/criterion.h>

#include "tests/db/pgtest.h"

Test(schema_claims, seq_keeps_all_64_bits)
{
	struct db_admin *a;
	char ci[128];

	pgt_migrated(ci, sizeof(ci), &a);
	pgt_sql(a, "INSERT INTO modules (identity, pseudonym) VALUES"
	    " ('s', '\\x01010101010101010101010101010101')", 0, NULL);
	/* 2^63 and 2^64 - 2 as the server sends them: their two's complement. */
	pgt_sql(a, "INSERT INTO reports (module_id, session_id, seq, payload)"
	    " SELECT id, '\\x0000000000000001', s, '\\x' FROM modules,"
	    " unnest(ARRAY[0, 9223372036854775807, -9223372036854775808, -2]::bigint[]) s", 0, NULL);
	cr_expect_str_eq(pgt_sql(a, "SELECT string_agg(m2m_seq(seq)::text, ',' ORDER BY id)"
	    " FROM reports", 0, NULL),
	    "0,9223372036854775807,9223372036854775808,18446744073709551614");
	db_admin_close(a);
}

Test(schema_claims, pseudonyms_are_16_to_32_bytes)
{
	struct db_admin *a;
	char ci[128];

	pgt_migrated(ci, sizeof(ci), &a);
	cr_expect_str_eq(pgt_sqlstate(a, "INSERT INTO modules (identity, pseudonym) VALUES"
	    " ('p8', '\\x0101010101010101')", 0, NULL), "23514", "8 bytes refused");
	cr_expect_str_eq(pgt_sqlstate(a, "INSERT INTO modules (identity, pseudonym) VALUES"
	    " ('p33', '\\x" "0101010101010101010101010101010101010101010101010101010101010101" "01')",
	    0, NULL), "23514", "33 bytes refused");
	pgt_sql(a, "INSERT INTO modules (identity, pseudonym) VALUES"
	    " ('p16', '\\x01010101010101010101010101010101')", 0, NULL);
	db_admin_close(a);
}
