/* SPDX-License-Identifier: Apache-2.0 */
/* The lock-out check (see lockout.h): one query over arrays of identities
 * and held pseudonyms, with no m2mctl and no server in between. */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "src/common/hex.h"
#include "tests/server/lockout.h"

/* A held pseudonym is accepted when the lookup by pseudonym (db/async_stmt.c)
 * finds the module it belongs to. Suspended or revoked modules count too:
 * their pseudonyms must survive until they are resumed. */
static const char check_sql[] =
	"WITH h(identity, ps) AS (SELECT * FROM unnest($1::text[], $2::text[]))"
	" SELECT count(*) || ' ' || coalesce(string_agg(h.identity, ' '), '') FROM h"
	" WHERE NOT EXISTS (SELECT 1 FROM modules m WHERE m.identity = h.identity"
	" AND (m.pseudonym = decode(h.ps, 'hex') OR m.previous_pseudonym = decode(h.ps, 'hex')))";

/* An array literal element: quoted, with " and \ escaped. */
static void
put_elem(char **p, const uint8_t *s, size_t n, int first)
{
	if (!first)
		*(*p)++ = ',';
	*(*p)++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			*(*p)++ = '\\';
		*(*p)++ = (char)s[i];
	}
	*(*p)++ = '"';
}

long
st_locked_out(const struct proto_mod_creds *cr, size_t n, char *ids, size_t len)
{
	char *a, *b, *pa, *pb, ps[2 * PROTO_PSEUDONYM_MAX + 1], err[512], out[8192];
	const char *params[2];
	struct db_admin *db;
	long bad;

	cr_assert_not_null(pa = a = malloc(3 + n * (2 * PROTO_IDENTITY_MAX + 3)));
	cr_assert_not_null(pb = b = malloc(3 + n * (2 * PROTO_PSEUDONYM_MAX + 3)));
	*pa++ = '{';
	*pb++ = '{';
	for (size_t i = 0; i < n; i++) {
		m2m_hex(cr[i].pseudonym, cr[i].pseudonym_len, ps);
		put_elem(&pa, cr[i].identity, cr[i].identity_len, i == 0);
		put_elem(&pb, (const uint8_t *)ps, strlen(ps), i == 0);
	}
	strcpy(pa, "}");
	strcpy(pb, "}");
	params[0] = a;
	params[1] = b;
	cr_assert_eq(db_admin_open("", &db, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(db_admin_exec(db, check_sql, 2, params, out, sizeof(out), NULL, err,
	    sizeof(err)), M2M_OK, "%s", err);
	db_admin_close(db);
	free(a);
	free(b);
	bad = strtol(out, &pa, 10);
	snprintf(ids, len, "%s", *pa == ' ' ? pa + 1 : pa);
	return bad;
}

long
st_locked_out_file(const char *creds, char *ids, size_t len)
{
	char line[512], id[80], ps[80];
	struct proto_mod_creds *cr = NULL;
	size_t n = 0, cap = 0, plen;
	FILE *f = fopen(creds, "r");
	long bad;

	cr_assert_not_null(f, "%s", creds);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "module %79s %79s", id, ps) != 2)
			continue;
		if (n == cap)
			cr_assert_not_null(cr = realloc(cr, (cap = cap ? 2 * cap : 64) * sizeof(*cr)));
		memset(&cr[n], 0, sizeof(cr[n]));
		cr[n].identity_len = strlen(id);
		memcpy(cr[n].identity, id, cr[n].identity_len);
		cr_assert_eq(m2m_unhex(ps, strlen(ps), cr[n].pseudonym, PROTO_PSEUDONYM_MAX, &plen), 0,
		    "%s: %s", creds, line);
		cr[n++].pseudonym_len = plen;
	}
	fclose(f);
	cr_assert_gt(n, 0, "%s: no module lines", creds);
	bad = st_locked_out(cr, n, ids, len);
	free(cr);
	return bad;
}
