/* SPDX-License-Identifier: Apache-2.0 */
/* m2mctl db: schema migrations (migrate, status), report partitions
 * (maintain) and the grants of the server's, admin's and applications'
 * roles (grant). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "src/ctl/ctl.h"
#include "src/ctl/ctl_db.h"
#include "src/ctl/ctl_json.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: m2mctl db migrate|status|maintain [--db CONNINFO] [--migrations DIR]\n"
	    "       m2mctl db status --json\n"
	    "       m2mctl db grant [--server ROLE] [--admin ROLE] [--app ROLE] [--db CONNINFO]\n\n"
	    "  migrate         apply pending migrations, each in one transaction\n"
	    "  status          list migrations: applied, pending, modified, newer (no-file);\n"
	    "                  exit status 1 when any is pending or modified, or newer and\n"
	    "                  not declared to keep earlier servers working\n"
	    "  maintain        create the monthly report partitions ahead (--months N, 3)\n"
	    "  grant           give each ROLE what m2md (--server), m2mctl (--admin) or\n"
	    "                  applications (--app) need, in one transaction (as the owner)\n"
	    CTL_DB_USAGE
	    "  --migrations DIR  where NNN_name.sql live (else $M2M_MIGRATIONS_DIR,\n"
	    "                  else " PKGDATADIR "/migrations)\n");
}

static void
print_applied(void *arg, const struct db_migration *m)
{
	(void)arg;
	printf("applied %s\n", m->name);
}

/* What db status found; json: the list being built, or NULL. */
struct mig_status {
	unsigned pending, modified, missing, incompatible;
	struct json_object *json;
};

static const char *
mig_state(const struct db_migration *m)
{
	return !m->applied ? "pending" : m->missing ? "no-file" : m->modified ? "modified" :
	    "applied";
}

/* no-file: applied by a newer m2mctl (or the file was deleted); whether a
 * server of this release keeps working with it is what it recorded. */
static const char *
compat_note(const struct db_migration *m)
{
	return !m->missing ? "" : m->compat == 1 ? "  (earlier servers keep working)" :
	    m->compat == 0 ? "  (earlier servers stop: upgrade m2md)" :
	    "  (compatibility not recorded: upgrade m2md)";
}

static void
print_status(void *arg, const struct db_migration *m)
{
	struct mig_status *st = arg;
	struct json_object *o;

	st->pending += !m->applied;
	st->modified += strcmp(mig_state(m), "modified") == 0;
	st->missing += m->applied && m->missing;
	st->incompatible += m->applied && m->missing && m->compat != 1;
	if (st->json == NULL) {
		printf("%-8s %-40s %s%s\n", strcmp(mig_state(m), "modified") == 0 ? "MODIFIED" :
		    mig_state(m), m->name, m->applied_at, compat_note(m));
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "version", json_object_new_int((int)m->version));
	json_object_object_add(o, "name", json_object_new_string(m->name));
	json_object_object_add(o, "state", json_object_new_string(mig_state(m)));
	json_object_object_add(o, "applied_at", ctl_json_str_or_null(m->applied_at));
	json_object_object_add(o, "servers_before_keep_working", !m->missing ? NULL :
	    m->compat < 0 ? NULL : json_object_new_boolean(m->compat == 1));
	json_object_array_add(st->json, o);
}

/* Exit status 1 when a migration is pending or modified (the schema is not
 * the one this release's files describe), or newer and not declared to
 * keep earlier servers working. */
static int
status(struct db_admin *a, const char *dir, int json)
{
	struct mig_status st = { 0, 0, 0, 0, json ? json_object_new_array() : NULL };
	char err[CTL_ERRLEN] = "";
	enum m2m_err e;

	if ((e = db_migration_status(a, dir, print_status, &st, err, sizeof(err))) != M2M_OK) {
		json_object_put(st.json);
		return ctl_db_fail(e, err);
	}
	if (json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "migrations", st.json);
		json_object_object_add(o, "pending", json_object_new_int((int)st.pending));
		json_object_object_add(o, "modified", json_object_new_int((int)st.modified));
		json_object_object_add(o, "no_file", json_object_new_int((int)st.missing));
		ctl_json_print(o);
	} else
		printf("%u pending\n", st.pending);
	return st.pending > 0 || st.modified > 0 || st.incompatible > 0;
}

/* roles[DB_ROLE_*]: the role names given, NULL for those not. */
static int
grant(struct db_admin *a, const char *const roles[3])
{
	static const char *const opt[] = { "server", "admin", "app" };
	char err[CTL_ERRLEN] = "";
	enum m2m_err e;
	int r;

	if ((e = db_admin_begin(a, err, sizeof(err))) != M2M_OK)
		return ctl_db_fail(e, err);
	for (r = DB_ROLE_SERVER; r <= DB_ROLE_APP; r++)
		if (roles[r] != NULL &&
		    (e = db_admin_grant(a, (enum db_role)r, roles[r], err, sizeof(err))) != M2M_OK) {
			db_admin_rollback(a);
			return ctl_db_fail(e, err);
		}
	if ((e = db_admin_commit(a, err, sizeof(err))) != M2M_OK)
		return ctl_db_fail(e, err);
	for (r = DB_ROLE_SERVER; r <= DB_ROLE_APP; r++)
		if (roles[r] != NULL)
			printf("granted to %s what the %s role needs\n", roles[r], opt[r]);
	return 0;
}

static int
run(const char *what, const char *dir, int months, struct db_admin *a)
{
	char err[CTL_ERRLEN] = "";
	unsigned n = 0;
	size_t keys = 0, bad = 0;
	int created = 0;
	enum m2m_err e;

	if (strcmp(what, "migrate") == 0) {
		if ((e = db_migrate(a, dir, print_applied, NULL, &n, err, sizeof(err))) != M2M_OK)
			return ctl_db_fail(e, err);
		printf(n == 0 ? "schema up to date\n" : "%u migration(s) applied\n", n);
		if ((e = db_admin_fill_full_keys(a, &keys, &bad, err, sizeof(err))) != M2M_OK)
			return ctl_db_fail(e, err);
		if (keys > 0)
			printf("uncompressed form stored for %zu module key(s)\n", keys);
		if (bad > 0)
			fprintf(stderr, "m2mctl: %zu current or pending module key(s) are not P-256"
			    " points: those modules cannot authenticate; give them a new key"
			    " (m2mctl rotate-key)\n", bad);
	} else {
		if ((e = db_admin_partitions(a, months, &created, err, sizeof(err))) != M2M_OK)
			return ctl_db_fail(e, err);
		printf("%d report partition(s) created\n", created);
	}
	return 0;
}

int
ctl_db_main(int argc, char **argv)
{
	static const struct option opts[] = { CTL_DB_LONGOPTS,
		{ "migrations", required_argument, NULL, 'm' },
		{ "months", required_argument, NULL, 'n' },
		{ "server", required_argument, NULL, 's' },
		{ "admin", required_argument, NULL, 'a' },
		{ "app", required_argument, NULL, 'p' }, { "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 } };
	const char *dbarg = NULL, *dir = NULL, *what, *roles[3] = { NULL, NULL, NULL };
	struct db_admin *a;
	long months = 3;
	int c, rc, json = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dbarg = optarg; break;
		case 'm': dir = optarg; break;
		case 'j': json = 1; break;
		case 'n':
			if ((months = ctl_number(optarg, 120)) == 0) {
				ctl_errx("--months: expected 1 to 120");
				return 2;
			}
			break;
		case 's': roles[DB_ROLE_SERVER] = optarg; break;
		case 'a': roles[DB_ROLE_ADMIN] = optarg; break;
		case 'p': roles[DB_ROLE_APP] = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || (strcmp(argv[optind], "migrate") != 0 &&
	    strcmp(argv[optind], "status") != 0 && strcmp(argv[optind], "maintain") != 0 &&
	    strcmp(argv[optind], "grant") != 0)) {
		usage(stderr);
		return 2;
	}
	what = argv[optind];
	if (strcmp(what, "grant") == 0 && !roles[0] && !roles[1] && !roles[2]) {
		ctl_errx("db grant: name at least one role (--server, --admin, --app)");
		return 2;
	}
	if (json && strcmp(what, "status") != 0) {
		ctl_errx("db %s: --json is for db status", what);
		return 2;
	}
	if (ctl_db_connect(dbarg, &a) != M2M_OK)
		return 1;
	if (strcmp(what, "grant") == 0)
		rc = grant(a, roles);
	else if (strcmp(what, "status") == 0)
		rc = status(a, db_migrations_dir(dir), json);
	else
		rc = run(what, db_migrations_dir(dir), (int)months, a);
	db_admin_close(a);
	return rc;
}
