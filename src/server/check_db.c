/* SPDX-License-Identifier: Apache-2.0 */
/* The database half of m2md -t and of start-up: the schema this m2md can
 * run on (current, or newer with only migrations that declare that earlier
 * servers keep working) and the privileges of the role it connects as. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "src/server/server.h"

struct schema {
	unsigned pending, modified, newer_ok, newer_bad;
	char newer[200];		/* the first newer one that stops this m2md */
	char newer_list[512];		/* the newer ones that do not */
};

static void
on_migration(void *arg, const struct db_migration *m)
{
	struct schema *sc = arg;
	size_t n = strlen(sc->newer_list);

	sc->pending += !m->applied;
	sc->modified += m->modified;
	if (!m->missing)
		return;
	if (m->compat == 1) {
		sc->newer_ok++;
		snprintf(sc->newer_list + n, sizeof(sc->newer_list) - n, "%s%s", n ? ", " : "",
		    m->name);
	} else if (sc->newer_bad++ == 0) {
		snprintf(sc->newer, sizeof(sc->newer), "%s%s", m->name,
		    m->compat == 0 ? "" : " (applied by an m2mctl that did not record it)");
	}
}

enum m2m_err
srv_check_schema(struct db_admin *a, FILE *out, char *err, size_t errlen)
{
	struct schema sc;
	enum m2m_err e;

	memset(&sc, 0, sizeof(sc));
	if ((e = db_migration_status(a, db_migrations_dir(NULL), on_migration, &sc, err,
	    errlen)) != M2M_OK)
		return e;
	/* Newer first: migrating cannot help a node older than the schema. */
	if (sc.newer_bad > 0) {
		snprintf(err, errlen, "database schema is newer than this m2md (%s): migration %s"
		    " does not declare that earlier servers keep working with it: upgrade m2md",
		    PACKAGE_VERSION, sc.newer);
		return M2M_E_CONFIG;
	}
	if (sc.pending || sc.modified) {
		snprintf(err, errlen, "database schema is not current: %u pending, %u modified"
		    " migrations (m2mctl db status; m2mctl db migrate)", sc.pending, sc.modified);
		return M2M_E_CONFIG;
	}
	if (out != NULL && sc.newer_ok > 0)
		fprintf(out, "ok: database schema newer than this m2md, %u later migration(s) that"
		    " keep earlier servers working: %s (upgrade m2md when convenient)\n",
		    sc.newer_ok, sc.newer_list);
	else if (out != NULL)
		fprintf(out, "ok: database schema current\n");
	return M2M_OK;
}

struct privs {
	char list[768];
	size_t n;
};

static void
on_missing(void *arg, const char *what)
{
	struct privs *p = arg;
	size_t n = strlen(p->list);

	snprintf(p->list + n, sizeof(p->list) - n, "%s%s", n ? "; " : "", what);
}

enum m2m_err
srv_check_privileges(struct db_admin *a, FILE *out, char *err, size_t errlen)
{
	struct privs p;
	char role[128];
	enum m2m_err e;

	memset(&p, 0, sizeof(p));
	if ((e = db_admin_exec(a, "SELECT current_user", 0, NULL, role, sizeof(role), NULL, err,
	    errlen)) != M2M_OK ||
	    (e = db_admin_check_privileges(a, DB_ROLE_SERVER, on_missing, &p, &p.n, err,
	    errlen)) != M2M_OK)
		return e;
	if (p.n > 0) {
		snprintf(err, errlen, "database role %s lacks %zu privilege(s) m2md needs: %s"
		    " (as the schema owner: m2mctl db grant --server %s)", role, p.n, p.list, role);
		return M2M_E_CONFIG;
	}
	if (out != NULL)
		fprintf(out, "ok: database role %s has the privileges m2md needs\n", role);
	return M2M_OK;
}
