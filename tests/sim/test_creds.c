/* SPDX-License-Identifier: Apache-2.0 */
/* The credentials file of m2m-sim: a good file loads, every kind of
 * malformed line is refused with FILE:LINE and what is wrong, and the
 * write-back is atomic and private. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "module-sim/creds.h"
#include "tests/sim/simtest.h"

static char dir[256], good[300], bad[300];
static char *lines[5];		/* header, comment, server, module 1, module 2 */
static struct st_enrolled e;

static void
setup(void)
{
	char *text, *save = NULL, *l;
	int i = 0;

	st_tmpdir(dir, sizeof(dir));
	snprintf(good, sizeof(good), "%s/good.cred", dir);
	snprintf(bad, sizeof(bad), "%s/bad.cred", dir);
	st_enroll(&e, 2, good);
	text = st_read_file(good);
	for (l = strtok_r(text, "\n", &save); l != NULL && i < 5; l = strtok_r(NULL, "\n", &save))
		lines[i++] = strdup(l);
	cr_assert_eq(i, 5);
	free(text);
}

static void
teardown(void)
{
	for (int i = 0; i < 5; i++)
		free(lines[i]);
	st_enrolled_free(&e);
	st_cleanup(dir);
}

TestSuite(creds, .init = setup, .fini = teardown);

Test(creds, good_file_loads)
{
	struct sim_creds cr;
	char detail[512];

	/* Comments and blank lines anywhere after the header are fine. */
	char *text = st_read_file(good);
	char *more = malloc(strlen(text) + 64);

	sprintf(more, "%s\n# trailing comment\n   \n", text);
	st_write_file(bad, more);
	cr_assert_eq(sim_creds_load(&cr, bad, detail, sizeof(detail)), M2M_OK, "%s", detail);
	cr_assert_eq(cr.n, 2);
	cr_assert_eq(cr.max_identity, 10);
	cr_assert_arr_eq(cr.mods[0].c.identity, "sim-000001", 10);
	cr_assert_arr_eq(cr.mods[1].c.pseudonym, e.pseudonym[1], PROTO_PSEUDONYM_LEN);
	cr_assert_eq(cr.mods[1].c.pseudonym_len, PROTO_PSEUDONYM_LEN);
	cr_assert_arr_eq(cr.mods[1].c.pub, e.rec[1].key, PROTO_POINT_LEN);
	cr_assert_arr_eq(cr.mods[0].c.server_pub, e.key.pub, PROTO_POINT_LEN);
	cr_assert_arr_eq(cr.mods[0].c.key_id, e.key.key_id, PROTO_KEY_ID_LEN);
	cr_assert_eq(cr.mods[1].line, 5);
	sim_creds_free(&cr);
	free(text);
	free(more);
}

/* Writes the lines given (NULL = stop) and expects FILE:LINE: msg. */
static void
expect_bad(const char *const *l, const char *msg)
{
	struct sim_creds cr;
	char detail[512], text[4096] = "";

	for (; *l != NULL; l++)
		strcat(strcat(text, *l), "\n");
	st_write_file(bad, text);
	cr_assert_eq(sim_creds_load(&cr, bad, detail, sizeof(detail)), M2M_E_CONFIG,
	    "accepted, expected: %s", msg);
	cr_assert(strncmp(detail, bad, strlen(bad)) == 0, "no file name in '%s'", detail);
	cr_assert_not_null(strstr(detail, msg), "got '%s', expected '%s'", detail, msg);
	cr_assert_null(cr.mods);
}

#define BAD(msg, ...) expect_bad((const char *const []){ __VA_ARGS__, NULL }, msg)

Test(creds, header_is_required)
{
	BAD(":1: not a credentials file", "server 00 11", lines[2]);
	BAD(":1: unsupported format version '2'", "# m2m-credentials 2", lines[2], lines[3]);
}

Test(creds, unknown_record)
{
	BAD(":4: unknown record 'modul'", lines[0], lines[2], lines[3], "modul a b c d");
}

/* Field k (0-based) of a line, in a static buffer per call site. */
static const char *
field(const char *line, int k, char *out)
{
	char copy[512], *save = NULL, *t;

	snprintf(copy, sizeof(copy), "%s", line);
	t = strtok_r(copy, " ", &save);
	while (k-- > 0)
		t = strtok_r(NULL, " ", &save);
	strcpy(out, t);
	return out;
}

Test(creds, malformed_server_lines)
{
	char id[16], pub[80], l[512], l2[512];

	field(lines[2], 1, id);
	field(lines[2], 2, pub);
	BAD(":2: server line needs 3 fields", lines[0], "server 00112233");
	snprintf(l, sizeof(l), "server zz112233 %s", pub);
	BAD(":2: server key id must be 8 hex digits", lines[0], l);
	snprintf(l, sizeof(l), "server %s %.64s", id, pub);
	BAD(":2: server public key must be 66 hex digits", lines[0], l);
	snprintf(l, sizeof(l), "server %s 05%s", id, pub + 2);
	BAD(":2: server public key is not a valid P-256 point", lines[0], l);
	snprintf(l, sizeof(l), "server %c%s %s", id[0] == '0' ? '1' : '0', id + 1, pub);
	BAD(":2: server key id", lines[0], l);
	BAD("does not match the server key", lines[0], l);
	snprintf(l2, sizeof(l2), "%s", lines[2]);
	BAD(":3: a second server line", lines[0], lines[2], l2, lines[3]);
	BAD(":2: module line before the server line", lines[0], lines[3], lines[2]);
}

Test(creds, malformed_module_lines)
{
	char id[80], ps[80], k[80], pub[80], other[80], l[512];

	field(lines[3], 1, id);
	field(lines[3], 2, ps);
	field(lines[3], 3, k);
	field(lines[3], 4, pub);
	field(lines[4], 4, other);
	snprintf(l, sizeof(l), "module %s %s %s", id, ps, k);
	BAD(":3: module line needs 5 fields", lines[0], lines[2], l);
	snprintf(l, sizeof(l), "module %065d %s %s %s", 7, ps, k, pub);
	BAD(":3: identity longer than 64 bytes", lines[0], lines[2], l);
	snprintf(l, sizeof(l), "module %s abc %s %s", id, k, pub);
	BAD(":3: pseudonym must be 32 to 64 hex digits", lines[0], lines[2], l);
	snprintf(l, sizeof(l), "module %s %s %.62sxx %s", id, ps, k, pub);
	BAD(":3: private key must be 64 hex digits", lines[0], lines[2], l);
	snprintf(l, sizeof(l), "module %s %s %s %s00", id, ps, k, pub);
	BAD(":3: public key must be 66 hex digits", lines[0], lines[2], l);
	snprintf(l, sizeof(l), "module %s %s %064d %s", id, ps, 0, pub);
	BAD(":3: private key is not a valid P-256 scalar", lines[0], lines[2], l);
	snprintf(l, sizeof(l), "module %s %s %s %s", id, ps, k, other);
	BAD(":3: public key does not belong to the private key", lines[0], lines[2], l);
}

Test(creds, duplicates_are_refused)
{
	char l[512], ps[80];

	BAD(":4: identity 'sim-000001' already on line 3", lines[0], lines[2], lines[3],
	    lines[3]);
	/* Module 2 with module 1's pseudonym. */
	field(lines[3], 2, ps);
	snprintf(l, sizeof(l), "%s", lines[4]);
	memcpy(strchr(strchr(l, ' ') + 1, ' ') + 1, ps, strlen(ps));
	BAD(":4: pseudonym already used on line 3", lines[0], lines[2], lines[3], l);
}

Test(creds, whole_file_problems)
{
	struct sim_creds cr;
	char detail[512], missing[300];

	BAD(": no server line", lines[0], lines[1]);
	BAD(": no module lines", lines[0], lines[2]);
	snprintf(missing, sizeof(missing), "%s/none.cred", dir);
	cr_assert_eq(sim_creds_load(&cr, missing, detail, sizeof(detail)), M2M_E_IO);
	cr_assert_not_null(strstr(detail, "No such file or directory"), "%s", detail);
	cr_assert_not_null(strstr(detail, missing), "%s", detail);
}

static int
entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

Test(creds, save_writes_new_pseudonyms_atomically)
{
	struct sim_creds cr, back;
	struct stat st;
	char detail[512];

	cr_assert_eq(sim_creds_load(&cr, good, detail, sizeof(detail)), M2M_OK, "%s", detail);
	memset(cr.mods[1].c.pseudonym, 0xab, PROTO_PSEUDONYM_LEN);
	cr_assert_eq(sim_creds_save(&cr, good, detail, sizeof(detail)), M2M_OK, "%s", detail);
	cr_assert_eq(stat(good, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(entries(dir), 1, "a temporary file was left behind");
	cr_assert_eq(sim_creds_load(&back, good, detail, sizeof(detail)), M2M_OK, "%s", detail);
	cr_assert_eq(back.n, 2);
	cr_assert_arr_eq(back.mods[1].c.pseudonym, cr.mods[1].c.pseudonym, PROTO_PSEUDONYM_LEN);
	cr_assert_arr_eq(back.mods[0].c.priv, cr.mods[0].c.priv, PROTO_SCALAR_LEN);
	cr_assert_arr_eq(back.mods[1].c.identity, cr.mods[1].c.identity, 10);
	sim_creds_free(&cr);
	sim_creds_free(&back);
}

Test(creds, save_into_a_missing_directory_fails_cleanly)
{
	struct sim_creds cr;
	char detail[512], path[400];

	cr_assert_eq(sim_creds_load(&cr, good, detail, sizeof(detail)), M2M_OK, "%s", detail);
	snprintf(path, sizeof(path), "%s/no/such.cred", dir);
	cr_assert_eq(sim_creds_save(&cr, path, detail, sizeof(detail)), M2M_E_IO);
	cr_assert_not_null(strstr(detail, "No such file or directory"), "%s", detail);
	sim_creds_free(&cr);
}
