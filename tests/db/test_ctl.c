/* SPDX-License-Identifier: Apache-2.0 */
/* m2mctl's database commands end to end: enroll --count writes a
 * credentials file that matches the database; bad input changes nothing. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <openssl/rand.h>

#include "tests/db/pgtest.h"

static char out[8192];

/* Runs m2mctl with M2M_DB set to the test's database; output in out. */
static int
ctl(const char *ci, const char *args)
{
	char cmd[2048];
	size_t n;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "M2M_DB='%s' M2M_MIGRATIONS_DIR='%s' %s %s 2>&1", ci,
	    PGT_MIGRATIONS, PGT_M2MCTL, args);
	cr_assert_not_null(p = popen(cmd, "r"));
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
server_key(const char *ci, uint8_t pub[33], uint8_t kid[4])
{
	struct proto_ctx *ctx;
	uint8_t priv[32];
	char err[1024] = "";

	cr_assert_eq(proto_ctx_new(&ctx, NULL), M2M_OK);
	cr_assert_eq(proto_p256_keygen(ctx, priv, pub), M2M_OK);
	proto_ctx_free(ctx);
	cr_assert_eq(proto_key_id(pub, kid), M2M_OK);
	cr_assert_eq(db_admin_server_key_add(ci, kid, pub, "test", err, sizeof(err)), M2M_OK,
	    "%s", err);
	cr_expect_eq(db_admin_server_key_add(ci, kid, pub, "again", err, sizeof(err)),
	    M2M_E_DB_DUPLICATE);
}

/* The stored uncompressed form (migration 007) is the current key's point. */
static void
check_full_key(struct db_admin *a, struct proto_ctx *ctx, const char *identity,
    const uint8_t pub[33])
{
	const char *p[1] = { identity };
	uint8_t full[65];
	char hex[131];

	cr_assert_eq(proto_p256_decompress(ctx, pub, 33, full), M2M_OK);
	pgt_hex(full, 65, hex);
	cr_expect_str_eq(pgt_sql(a, "SELECT coalesce(encode(k.pubkey_full, 'hex'), 'NULL')"
	    " FROM module_keys k JOIN modules m ON m.id = k.module_id WHERE m.identity = $1"
	    " AND k.state = 'current'", 1, p), hex, "uncompressed key of %s", identity);
}

/* One "module" line against the database and the curve. */
static void
check_module(struct db_admin *a, struct proto_ctx *ctx, const char *line, int i)
{
	char id[65], ps[65], priv[65], pub[67], want[16], hex[67];
	uint8_t d[32], q[33], derived[33];
	struct db_module_info m;
	char err[1024];

	cr_assert_eq(sscanf(line, "module %64s %64s %64s %66s", id, ps, priv, pub), 4, "%s", line);
	snprintf(want, sizeof(want), "sim-%06d", i);
	cr_expect_str_eq(id, want);
	cr_assert_eq(db_admin_module(a, id, &m, err, sizeof(err)), M2M_OK, "%s", err);
	pgt_hex(m.pseudonym, m.pseudonym_len, hex);
	cr_expect_str_eq(ps, hex, "pseudonym of %s", id);
	cr_assert(m.has_key);
	pgt_hex(m.key, 33, hex);
	cr_expect_str_eq(pub, hex, "public key of %s", id);
	for (int k = 0; k < 32; k++)
		sscanf(priv + 2 * k, "%2hhx", &d[k]);
	for (int k = 0; k < 33; k++)
		sscanf(pub + 2 * k, "%2hhx", &q[k]);
	cr_assert_eq(proto_p256_public(ctx, d, 32, derived), M2M_OK);
	cr_expect_arr_eq(derived, q, 33, "private scalar of %s matches its key", id);
	check_full_key(a, ctx, id, q);
}

Test(ctl, enroll_count_writes_credentials_matching_the_database)
{
	char ci[128], path[128], dir[] = "/tmp/m2mt_credXXXXXX", line[512], args[256], hex[67];
	uint8_t pub[33], kid[4];
	struct proto_ctx *ctx;
	struct db_admin *a;
	struct stat st;
	FILE *f;
	int n = 0;

	pgt_migrated(ci, sizeof(ci), &a);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/creds", dir);
	snprintf(args, sizeof(args), "enroll --count 50 --out %s", path);
	cr_expect_eq(ctl(ci, args), 1, "no server key yet");
	cr_expect(strstr(out, "m2mctl hsm export --register") != NULL, "%s", out);
	cr_expect_neq(stat(path, &st), 0, "no file after a failure");
	server_key(ci, pub, kid);

	cr_assert_eq(ctl(ci, args), 0, "%s", out);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600);
	cr_assert_not_null(f = fopen(path, "r"));
	cr_assert_not_null(fgets(line, sizeof(line), f));
	cr_expect_str_eq(line, "# m2m-credentials 1\n");
	cr_assert_not_null(fgets(line, sizeof(line), f));
	pgt_hex(kid, 4, hex);
	cr_expect(strncmp(line + 7, hex, 8) == 0, "%s", line);
	pgt_hex(pub, 33, hex);
	cr_expect(strncmp(line + 16, hex, 66) == 0, "%s", line);
	cr_assert_eq(proto_ctx_new(&ctx, NULL), M2M_OK);
	while (fgets(line, sizeof(line), f) != NULL)
		check_module(a, ctx, line, ++n);
	proto_ctx_free(ctx);
	fclose(f);
	cr_expect_eq(n, 50);
	cr_expect_str_eq(pgt_sql(a, "SELECT count(*) FROM modules", 0, NULL), "50");

	/* Existing file, and existing identities: refused, nothing changed. */
	cr_expect_eq(ctl(ci, args), 1);
	cr_expect(strstr(out, "exists") != NULL, "%s", out);
	snprintf(args, sizeof(args), "enroll --count 5 --out %s/other", dir);
	cr_expect_eq(ctl(ci, args), 1);
	cr_expect(strstr(out, "sim-000001") != NULL, "%s", out);
	snprintf(line, sizeof(line), "%s/other", dir);
	cr_expect_neq(stat(line, &st), 0, "no file after a rolled back enrollment");
	cr_expect_str_eq(pgt_sql(a, "SELECT count(*) FROM modules", 0, NULL), "50");
	unlink(path);
	rmdir(dir);
	db_admin_close(a);
}

/* Keys from before migration 007 get their uncompressed form from db
 * migrate; rotate-key writes it; the schema refuses one of another point. */
Test(ctl, uncompressed_keys_are_written_filled_and_checked)
{
	char ci[128], dir[] = "/tmp/m2mt_fullXXXXXX", args[256], id[32], hex[67], bad[131];
	uint8_t pub[33], kid[4], priv[32], q[33];
	struct proto_ctx *ctx;
	struct db_admin *a;
	const char *p[1];

	pgt_migrated(ci, sizeof(ci), &a);
	cr_assert_not_null(mkdtemp(dir));
	server_key(ci, pub, kid);
	snprintf(args, sizeof(args), "enroll --count 30 --out %s/creds", dir);
	cr_assert_eq(ctl(ci, args), 0, "%s", out);
	cr_expect_str_eq(pgt_sql(a, "SELECT count(pubkey_full) FROM module_keys", 0, NULL), "30");
	pgt_sql(a, "UPDATE module_keys SET pubkey_full = NULL WHERE module_id % 3 = 0", 0, NULL);
	cr_assert_eq(ctl(ci, "db migrate"), 0, "%s", out);
	cr_expect(strstr(out, "uncompressed form stored for 10 module key(s)") != NULL, "%s", out);
	cr_assert_eq(ctl(ci, "db migrate"), 0, "%s", out);
	cr_expect(strstr(out, "uncompressed") == NULL, "nothing left to fill: %s", out);

	cr_assert_eq(proto_ctx_new(&ctx, NULL), M2M_OK);
	for (int i = 1; i <= 30; i++) {
		snprintf(id, sizeof(id), "sim-%06d", i);
		p[0] = id;
		for (int k = 0; k < 33; k++)
			sscanf(pgt_sql(a, "SELECT encode(k.pubkey, 'hex') FROM module_keys k JOIN"
			    " modules m ON m.id = k.module_id WHERE m.identity = $1", 1, p) + 2 * k,
			    "%2hhx", &q[k]);
		check_full_key(a, ctx, id, q);
	}
	cr_assert_eq(proto_p256_keygen(ctx, priv, q), M2M_OK);
	pgt_hex(q, 33, hex);
	snprintf(args, sizeof(args), "rotate-key sim-000003 --key-hex %s", hex);
	cr_assert_eq(ctl(ci, args), 0, "%s", out);
	check_full_key(a, ctx, "sim-000003", q);

	/* A stored key that is no curve point (001 checked only its form) is
	 * reported, left as it is, and does not make db migrate fail. */
	do {
		cr_assert_eq(RAND_bytes(q + 1, 32), 1);
		q[0] = 0x02;
	} while (proto_p256_check(ctx, q, 33) == M2M_OK);
	pgt_hex(q, 33, hex);
	p[0] = hex;
	pgt_sql(a, "INSERT INTO modules (identity, pseudonym) VALUES ('offcurve',"
	    " '\\x04040404040404040404040404040404')", 0, NULL);
	pgt_sql(a, "INSERT INTO module_keys (module_id, pubkey, state, valid_from) SELECT id,"
	    " decode($1, 'hex'), 'current', now() FROM modules WHERE identity = 'offcurve'", 1, p);
	for (int run = 0; run < 2; run++) {
		cr_assert_eq(ctl(ci, "db migrate"), 0, "%s", out);
		cr_expect(strstr(out, "1 current or pending module key(s) are not P-256 points")
		    != NULL, "%s", out);
	}
	cr_expect_str_eq(pgt_sql(a, "SELECT count(*) FROM module_keys WHERE pubkey_full IS NULL",
	    0, NULL), "1");
	proto_ctx_free(ctx);

	/* Another point's coordinates, or the other Y, are refused. */
	p[0] = pgt_sql(a, "SELECT encode(pubkey_full, 'hex') FROM module_keys WHERE module_id = 1", 0,
	    NULL);
	snprintf(bad, sizeof(bad), "%s", p[0]);
	bad[10] = bad[10] == '0' ? '1' : '0';
	p[0] = bad;
	cr_expect_str_eq(pgt_sqlstate(a, "UPDATE module_keys SET pubkey_full = decode($1, 'hex')"
	    " WHERE module_id = 1", 1, p), "23514", "another X");
	cr_expect_str_eq(pgt_sqlstate(a, "UPDATE module_keys SET pubkey_full ="
	    " set_byte(pubkey_full, 64, get_byte(pubkey_full, 64) # 1) WHERE module_id = 1", 0, NULL),
	    "23514", "the other Y");
	snprintf(args, sizeof(args), "rm -rf %s", dir);
	cr_expect_eq(system(args), 0);
	db_admin_close(a);
}

Test(ctl, bad_input_gets_one_message_and_changes_nothing)
{
	char ci[128], args[256], hex[67];
	uint8_t pub[33], kid[4];
	struct db_admin *a;

	pgt_migrated(ci, sizeof(ci), &a);
	server_key(ci, pub, kid);
	pgt_hex(pub, 33, hex);	/* a valid point, reused as a module key */
	snprintf(args, sizeof(args), "enroll --identity dev-1 --key-hex %s", hex);
	cr_assert_eq(ctl(ci, args), 0, "%s", out);
	cr_expect(strstr(out, "pseudonym") != NULL && strstr(out, "server key id") != NULL);
	cr_expect_eq(ctl(ci, args), 1);
	cr_expect(strstr(out, "already enrolled") != NULL, "%s", out);
	cr_expect_eq(ctl(ci, "enroll --identity dev-2 --key-hex 02abcd"), 1);
	cr_expect(strstr(out, "6 hex digits, expected 66") != NULL, "%s", out);
	/* The right length with a digit that is not hex: says which. */
	memcpy(args, hex, sizeof(hex));
	args[20] = 'g';
	snprintf(args + 100, 150, "enroll --identity dev-2 --key-hex %.66s", args);
	cr_expect_eq(ctl(ci, args + 100), 1);
	cr_expect(strstr(out, "'g' at position 21 is not a hex digit") != NULL, "%s", out);
	cr_expect_eq(ctl(ci, "instruct dev-1 --hex abc"), 1);
	cr_expect(strstr(out, "odd number of hex digits") != NULL, "%s", out);
	hex[10] ^= 1;	/* most x are not on the curve; either way not enrolled */
	snprintf(args, sizeof(args), "enroll --identity dev-3 --key-hex 04%s%s", hex + 2, hex + 2);
	cr_expect_eq(ctl(ci, args), 1, "%s", out);
	cr_expect_eq(ctl(ci, "suspend nobody"), 1);
	cr_expect(strstr(out, "nobody: no module has this identity") != NULL, "%s", out);
	cr_expect_eq(ctl(ci, "instruct nobody --text hi"), 1);
	cr_expect_eq(ctl(ci, "list --db 'host=localhost password=secret'"), 1);
	cr_expect(strstr(out, "PGPASSFILE") != NULL, "%s", out);
	cr_expect_str_eq(pgt_sql(a, "SELECT count(*) FROM modules", 0, NULL), "1");
	cr_expect_str_eq(pgt_sql(a, "SELECT count(*) FROM instructions", 0, NULL), "0");

	cr_expect_eq(ctl(ci, "revoke dev-1"), 0, "%s", out);
	cr_expect_eq(ctl(ci, "resume dev-1"), 1);
	cr_expect(strstr(out, "revocation is final") != NULL, "%s", out);
	cr_expect_str_eq(pgt_sql(a, "SELECT string_agg(state, ',') FROM module_keys", 0, NULL),
	    "revoked");
	cr_expect_eq(ctl(ci, "instruct dev-1 --text reboot"), 1, "%s", out);
	cr_expect(strstr(out, "module dev-1 is revoked") != NULL, "%s", out);
	cr_expect_eq(ctl(ci, "show dev-1"), 0, "%s", out);
	cr_expect(strstr(out, "status          revoked") != NULL, "%s", out);
	cr_expect_eq(ctl(ci, "db status"), 0, "%s", out);
	cr_expect(strstr(out, "0 pending") != NULL, "%s", out);
	db_admin_close(a);
}
