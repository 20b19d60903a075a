/* SPDX-License-Identifier: Apache-2.0 */
/* The privileges of m2md's database roles, in one table that both gives
 * them (m2mctl db grant) and checks them (m2md -t checks the server's).
 * The server's entries follow the statements of async_stmt.c and what the
 * functions they call touch: those run with the caller's rights. A
 * migration that changes either changes this table in the same commit;
 * tests/server/test_dbops.c runs handshakes, DATA and REKEY as a role that
 * has exactly these grants. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"

enum kind { TABLE, SEQUENCE, FUNCTION };

struct priv {
	unsigned roles;			/* 1 << enum db_role */
	enum kind kind;
	const char *object;
	const char *priv;		/* one privilege */
	const char *columns;		/* NULL: the whole table */
};

#define SRV	(1u << DB_ROLE_SERVER)
#define ADM	(1u << DB_ROLE_ADMIN)
#define APP	(1u << DB_ROLE_APP)

static const struct priv privs[] = {
	{ SRV | ADM, TABLE, "m2m_schema_migrations", "SELECT", NULL },
	{ SRV | ADM, TABLE, "server_keys", "SELECT", NULL },
	{ ADM, TABLE, "server_keys", "INSERT", NULL },
	{ SRV | ADM, TABLE, "modules", "SELECT", NULL },
	{ APP, TABLE, "modules", "SELECT", "id, identity, status, last_seen" },
	{ SRV, TABLE, "modules", "UPDATE", "pseudonym, previous_pseudonym, last_seen,"
	    " last_handshake_at, last_address" },
	{ ADM, TABLE, "modules", "INSERT", "identity, pseudonym" },
	{ ADM, TABLE, "modules", "UPDATE", "status" },
	{ SRV | ADM, TABLE, "module_keys", "SELECT", NULL },
	{ SRV, TABLE, "module_keys", "INSERT", "module_id, pubkey, pubkey_full, state" },
	{ ADM, TABLE, "module_keys", "INSERT", "module_id, pubkey, pubkey_full, state, valid_from" },
	{ SRV | ADM, TABLE, "module_keys", "UPDATE", "state, valid_from, valid_until" },
	{ SRV | ADM | APP, TABLE, "instructions", "SELECT", NULL },
	{ ADM | APP, TABLE, "instructions", "INSERT", NULL },
	{ SRV, TABLE, "instructions", "UPDATE", "state, sent_at, sent_count, acknowledged_at" },
	{ ADM | APP, TABLE, "reports", "SELECT", NULL },
	{ SRV, TABLE, "reports", "INSERT", NULL },
	{ SRV, SEQUENCE, "reports_id_seq", "USAGE", NULL },
	{ SRV, FUNCTION, "m2m_commit_handshake(bigint, bytea, bytea, bytea, bytea, bytea,"
	    " integer, integer, inet)", "EXECUTE", NULL },
	{ SRV, FUNCTION, "m2m_data_batch(bigint[], bytea[], bigint[], bytea[], integer[],"
	    " bigint[], integer, integer)", "EXECUTE", NULL },
	{ SRV, FUNCTION, "m2m_rekey(bigint, bytea, bytea)", "EXECUTE", NULL },
	{ APP, FUNCTION, "m2m_instruct(text, bytea)", "EXECUTE", NULL },
};

static const char *const kind_sql[] = { "", "SEQUENCE ", "FUNCTION " };

/* "UPDATE (a, b) ON modules", "EXECUTE ON FUNCTION f(...)". */
static void
describe(const struct priv *p, const char *columns, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s%s ON %s%s", p->priv, columns != NULL ? " (" : "",
	    columns != NULL ? columns : "", columns != NULL ? ")" : "", kind_sql[p->kind],
	    p->object);
}

enum m2m_err
db_admin_grant(struct db_admin *a, enum db_role role, const char *name, char *err,
    size_t errlen)
{
	char *ident, what[256], sql[512];
	enum m2m_err e = M2M_OK;
	size_t i;

	if ((ident = PQescapeIdentifier(a->conn, name, strlen(name))) == NULL) {
		db_detail(err, errlen, "role name", PQerrorMessage(a->conn));
		return M2M_E_INVALID_ARG;
	}
	for (i = 0; e == M2M_OK && i < sizeof(privs) / sizeof(privs[0]); i++) {
		if (!(privs[i].roles & (1u << role)))
			continue;
		describe(&privs[i], privs[i].columns, what, sizeof(what));
		snprintf(sql, sizeof(sql), "GRANT %s TO %s", what, ident);
		e = db_command(a, sql, 0, NULL, what, err, errlen);
	}
	PQfreemem(ident);
	return e;
}

/* What of p the connected role lacks: NULL when nothing, else the
 * columns it lacks ("" for all of p). A missing object counts as lacking. */
static enum m2m_err
lacks(struct db_admin *a, const struct priv *p, char *out, size_t len, int *missing,
    char *err, size_t errlen)
{
	static const char *const sql[] = {
		"SELECT coalesce(has_table_privilege(to_regclass($1), $2), false)::text",
		"SELECT coalesce(has_sequence_privilege(to_regclass($1), $2), false)::text",
		"SELECT coalesce(has_function_privilege(to_regprocedure($1), $2), false)::text",
	};
	/* The columns lacking it, by name (a column that does not exist lacks it). */
	static const char cols_sql[] = "SELECT coalesce(string_agg(c, ', '), 'true')"
	    " FROM unnest(string_to_array($3, ', ')) AS c WHERE NOT coalesce((SELECT"
	    " has_column_privilege(t.attrelid, t.attnum, $2) FROM pg_attribute t"
	    " WHERE t.attrelid = to_regclass($1) AND t.attname = c AND NOT t.attisdropped), false)";
	const char *params[3] = { p->object, p->priv, p->columns };
	enum m2m_err e;

	e = db_admin_exec(a, p->columns != NULL ? cols_sql : sql[p->kind], p->columns ? 3 : 2,
	    params, out, len, NULL, err, errlen);
	*missing = e == M2M_OK && strcmp(out, "true") != 0;
	if (*missing && strcmp(out, "false") == 0)
		out[0] = '\0';
	return e;
}

enum m2m_err
db_admin_check_privileges(struct db_admin *a, enum db_role role, db_priv_cb cb, void *arg,
    size_t *n, char *err, size_t errlen)
{
	char cols[256], what[512];
	enum m2m_err e = M2M_OK;
	size_t i;
	int missing;

	*n = 0;
	for (i = 0; e == M2M_OK && i < sizeof(privs) / sizeof(privs[0]); i++) {
		if (!(privs[i].roles & (1u << role)))
			continue;
		if ((e = lacks(a, &privs[i], cols, sizeof(cols), &missing, err, errlen)) != M2M_OK ||
		    !missing)
			continue;
		describe(&privs[i], cols[0] != '\0' ? cols : privs[i].columns, what, sizeof(what));
		(*n)++;
		if (cb != NULL)
			cb(arg, what);
	}
	return e;
}
