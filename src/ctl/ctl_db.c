/* m2mctl db: schema migrations (migrate, status) and report partitions
 * (maintain). */
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
	    "       m2mctl db status --json\n\n"
	    "  migrate         apply pending migrations, each in one transaction\n"
	    "  status          list migrations: applied, pending, modified; exit status 1\n"
	    "                  when any is pending or modified\n"
	    "  maintain        create the monthly report partitions ahead (--months N, 3)\n"
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
	unsigned pending, modified, missing;
	struct json_object *json;
};

static const char *
mig_state(const struct db_migration *m)
{
	return !m->applied ? "pending" : m->missing ? "no-file" : m->modified ? "modified" :
	    "applied";
}

static void
print_status(void *arg, const struct db_migration *m)
{
	struct mig_status *st = arg;
	struct json_object *o;

	st->pending += !m->applied;
	st->modified += strcmp(mig_state(m), "modified") == 0;
	st->missing += m->applied && m->missing;
	if (st->json == NULL) {
		printf("%-8s %-40s %s\n", strcmp(mig_state(m), "modified") == 0 ? "MODIFIED" :
		    mig_state(m), m->name, m->applied_at);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "version", json_object_new_int((int)m->version));
	json_object_object_add(o, "name", json_object_new_string(m->name));
	json_object_object_add(o, "state", json_object_new_string(mig_state(m)));
	json_object_object_add(o, "applied_at", ctl_json_str_or_null(m->applied_at));
	json_object_array_add(st->json, o);
}

/* Exit status 1 when a migration is pending or modified: the schema is
 * not the one this release's files describe. */
static int
status(struct db_admin *a, const char *dir, int json)
{
	struct mig_status st = { 0, 0, 0, json ? json_object_new_array() : NULL };
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
	return st.pending > 0 || st.modified > 0;
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
		{ "months", required_argument, NULL, 'n' }, { "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 } };
	const char *dbarg = NULL, *dir = NULL, *what;
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
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || (strcmp(argv[optind], "migrate") != 0 &&
	    strcmp(argv[optind], "status") != 0 && strcmp(argv[optind], "maintain") != 0)) {
		usage(stderr);
		return 2;
	}
	what = argv[optind];
	if (json && strcmp(what, "status") != 0) {
		ctl_errx("db %s: --json is for db status", what);
		return 2;
	}
	if (ctl_db_connect(dbarg, &a) != M2M_OK)
		return 1;
	if (strcmp(what, "status") == 0)
		rc = status(a, db_migrations_dir(dir), json);
	else
		rc = run(what, db_migrations_dir(dir), (int)months, a);
	db_admin_close(a);
	return rc;
}
