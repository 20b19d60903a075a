/* SPDX-License-Identifier: Apache-2.0 */
/* Schema migrations: db/migrations/NNN_name.sql applied in order, each in
 * its own transaction, recorded with a checksum in m2m_schema_migrations,
 * and with what the file declares about servers of earlier releases
 * (its "-- m2md-compat:" line), so that those can tell whether they still
 * work on a schema newer than they know. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "db/db_int.h"
#include "src/common/hex.h"

#define MIGRATIONS_MAX	1000
/* Any constant works: it only has to be the same for every m2mctl. */
#define MIGRATE_LOCK	"SELECT pg_advisory_xact_lock(7243417500)"


static const char create_table_sql[] =
	"CREATE TABLE IF NOT EXISTS m2m_schema_migrations ("
	" version integer PRIMARY KEY CHECK (version > 0),"
	" name text NOT NULL,"
	" checksum bytea NOT NULL CHECK (octet_length(checksum) = 32),"
	" applied_at timestamptz NOT NULL DEFAULT now())";
/* Rows written before the column existed keep NULL: not declared. */
static const char add_compat_sql[] =
	"ALTER TABLE m2m_schema_migrations ADD COLUMN IF NOT EXISTS servers_before_ok boolean";
static const char compat_tag[] = "-- m2md-compat: servers-before-keep-working ";

const char *
db_migrations_dir(const char *option)
{
	const char *env = getenv("M2M_MIGRATIONS_DIR");

	if (option != NULL && option[0] != '\0')
		return option;
	if (env != NULL && env[0] != '\0')
		return env;
	return PKGDATADIR "/migrations";
}

/* NNN_name.sql -> version NNN; 0 for names that are not migrations. */
static unsigned
migration_version(const char *name)
{
	size_t n = strlen(name), digits = strspn(name, "0123456789");

	if (digits < 3 || digits > 6 || name[digits] != '_' || n < digits + 6 ||
	    strcmp(name + n - 4, ".sql") != 0 || n >= sizeof(((struct db_mfile *)0)->name))
		return 0;
	return (unsigned)strtoul(name, NULL, 10);
}

static int
mfile_cmp(const void *a, const void *b)
{
	const struct db_mfile *x = a, *y = b;

	return x->version < y->version ? -1 : x->version > y->version;
}

/* The migration files of dir, sorted; two files of one version are an error. */
enum m2m_err
db_migration_scan(const char *dir, struct db_mfile **out, size_t *n, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct db_mfile *v;
	size_t i;

	*n = 0;
	if (d == NULL) {
		db_detail(err, errlen, dir, strerror(errno));
		return M2M_E_IO;
	}
	if ((v = *out = calloc(MIGRATIONS_MAX, sizeof(*v))) == NULL) {
		closedir(d);
		return M2M_E_NOMEM;
	}
	while ((de = readdir(d)) != NULL && *n < MIGRATIONS_MAX) {
		unsigned ver = migration_version(de->d_name);

		if (ver == 0)
			continue;
		v[*n].version = ver;
		db_strlcpy(v[*n].name, de->d_name, sizeof(v[*n].name));
		(*n)++;
	}
	closedir(d);
	qsort(v, *n, sizeof(*v), mfile_cmp);
	for (i = 1; i < *n; i++)
		if (v[i].version == v[i - 1].version) {
			db_detail(err, errlen, v[i].name, "two migration files have this number");
			return M2M_E_DB_MIGRATION;
		}
	return M2M_OK;
}

/* The file's "-- m2md-compat:" line: 1 (yes), 0 (no), -1 (none), -2
 * (malformed: err says why). *line and *len (newline included) locate it. */
static int
compat_line(const char *text, const char *path, const char **line, size_t *len,
    char *err, size_t errlen)
{
	const size_t tl = sizeof(compat_tag) - 1;
	const char *p = text, *v, *nl;
	size_t vlen;

	while (strncmp(p, compat_tag, tl) != 0) {
		if ((nl = strchr(p, '\n')) == NULL) {
			*line = NULL;
			*len = 0;
			return -1;
		}
		p = nl + 1;
	}
	v = p + tl;
	vlen = strcspn(v, "\n");
	*line = p;
	*len = (size_t)(v - p) + vlen + (v[vlen] == '\n');
	if (vlen == 3 && strncmp(v, "yes", 3) == 0)
		return 1;
	if (vlen == 2 && strncmp(v, "no", 2) == 0)
		return 0;
	db_detail(err, errlen, path, "expected '-- m2md-compat: servers-before-keep-working yes'"
	    " (or no)");
	return -2;
}

/* SHA-256 of text without the skip bytes at line (NULL: the whole text). */
static int
sum_without(const char *text, size_t len, const char *line, size_t skip, uint8_t sum[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t head = line != NULL ? (size_t)(line - text) : len;
	int ok;

	ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(md, text, head) &&
	    EVP_DigestUpdate(md, text + head + skip, len - head - skip) &&
	    EVP_DigestFinal_ex(md, sum, NULL);
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

/* Reads a whole file, its SHA-256 and its declaration (compat: 1 yes, 0 no,
 * -1 none); the caller frees *text. The checksum leaves the declaration
 * line out: it says something about servers, not about the schema, and
 * files applied before it was added must not look modified. */
enum m2m_err
db_migration_read(const char *dir, const char *name, char **text, uint8_t sum[32],
    int *compat, char *err, size_t errlen)
{
	char path[4096];
	const char *line;
	size_t skip;
	FILE *f;
	long len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		db_detail(err, errlen, path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return M2M_E_IO;
	}
	if ((*text = calloc(1, (size_t)len + 1)) == NULL) {
		fclose(f);
		return M2M_E_NOMEM;
	}
	if (fread(*text, 1, (size_t)len, f) != (size_t)len || memchr(*text, 0, (size_t)len)) {
		db_detail(err, errlen, path, "unreadable or not a text file");
		fclose(f);
		free(*text);
		*text = NULL;
		return M2M_E_IO;
	}
	fclose(f);
	if ((*compat = compat_line(*text, path, &line, &skip, err, errlen)) == -2) {
		free(*text);
		*text = NULL;
		return M2M_E_DB_MIGRATION;
	}
	if (sum_without(*text, (size_t)len, line, skip, sum) != 0) {
		free(*text);
		*text = NULL;
		return M2M_E_NOMEM;
	}
	return M2M_OK;
}

static enum m2m_err
ensure_table(struct db_admin *a, char *err, size_t errlen)
{
	enum m2m_err e;

	if ((e = db_admin_begin(a, err, errlen)) != M2M_OK)
		return e;
	if ((e = db_command(a, MIGRATE_LOCK, 0, NULL, "lock", err, errlen)) != M2M_OK ||
	    (e = db_command(a, create_table_sql, 0, NULL, "m2m_schema_migrations",
	    err, errlen)) != M2M_OK ||
	    (e = db_command(a, add_compat_sql, 0, NULL, "m2m_schema_migrations",
	    err, errlen)) != M2M_OK) {
		db_admin_rollback(a);
		return e;
	}
	return db_admin_commit(a, err, errlen);
}

/* Inside the migration's transaction: is it there already? */
static enum m2m_err
is_applied(struct db_admin *a, unsigned version, int *applied, char *err, size_t errlen)
{
	char ver[16];
	const char *p[1] = { ver };
	PGresult *r;

	snprintf(ver, sizeof(ver), "%u", version);
	r = db_query(a, "SELECT 1 FROM m2m_schema_migrations WHERE version = $1", 1, p);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return db_result_fail(r, "m2m_schema_migrations", err, errlen);
	*applied = PQntuples(r) > 0;
	PQclear(r);
	return M2M_OK;
}

/* The SQL of one file and its record, in one transaction. */
static enum m2m_err
apply_one(struct db_admin *a, const char *dir, const struct db_mfile *m, int *done,
    char *err, size_t errlen)
{
	char ver[16], sumhex[65], *text = NULL;
	const char *sql;
	const char *p[4] = { ver, m->name, sumhex, NULL };
	uint8_t sum[32];
	PGresult *r;
	enum m2m_err e;
	int applied = 0, compat;

	*done = 0;
	snprintf(ver, sizeof(ver), "%u", m->version);
	if ((e = db_admin_begin(a, err, errlen)) != M2M_OK)
		return e;
	if ((e = db_command(a, MIGRATE_LOCK, 0, NULL, "lock", err, errlen)) != M2M_OK ||
	    (e = is_applied(a, m->version, &applied, err, errlen)) != M2M_OK || applied)
		goto out;
	if ((e = db_migration_read(dir, m->name, &text, sum, &compat, err, errlen)) != M2M_OK)
		goto out;
	m2m_hex(sum, 32, sumhex);
	p[3] = compat < 0 ? NULL : compat ? "true" : "false";
	r = PQexec(a->conn, text);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		db_result_fail(r, m->name, err, errlen);
		e = M2M_E_DB_MIGRATION;
		goto out;
	}
	PQclear(r);
	sql = "INSERT INTO m2m_schema_migrations (version, name, checksum, servers_before_ok)"
	    " VALUES ($1, $2, decode($3, 'hex'), $4)";
	if ((e = db_command(a, sql, 4, p, m->name, err, errlen)) != M2M_OK)
		goto out;
	free(text);
	if ((e = db_admin_commit(a, err, errlen)) == M2M_OK)
		*done = 1;
	return e == M2M_OK ? M2M_OK : M2M_E_DB_MIGRATION;
out:
	free(text);
	if (e == M2M_OK)
		return db_admin_commit(a, err, errlen);
	db_admin_rollback(a);
	return e;
}

enum m2m_err
db_admin_partitions(struct db_admin *a, int months_ahead, int *created, char *err,
    size_t errlen)
{
	char n[16], out[32];
	const char *p[1] = { n };
	enum m2m_err e;

	*created = 0;
	if ((e = db_admin_exec(a, "SELECT to_regproc('m2m_reports_partitions') IS NOT NULL",
	    0, NULL, out, sizeof(out), NULL, err, errlen)) != M2M_OK)
		return e;
	if (strcmp(out, "t") != 0)
		return M2M_OK;		/* reports not created yet */
	snprintf(n, sizeof(n), "%d", months_ahead);
	if ((e = db_admin_exec(a, "SELECT m2m_reports_partitions($1::integer)", 1, p,
	    out, sizeof(out), NULL, err, errlen)) != M2M_OK)
		return e;
	*created = atoi(out);
	return M2M_OK;
}

enum m2m_err
db_migrate(struct db_admin *a, const char *dir, db_migration_cb cb, void *arg,
    unsigned *applied, char *err, size_t errlen)
{
	struct db_mfile *v = NULL;
	struct db_migration m;
	size_t n, i;
	enum m2m_err e;
	int done, parts;

	*applied = 0;
	if ((e = db_migration_scan(dir, &v, &n, err, errlen)) != M2M_OK)
		goto out;
	if (n == 0) {
		db_detail(err, errlen, dir, "no NNN_name.sql migration files here");
		e = M2M_E_DB_MIGRATION;
		goto out;
	}
	if ((e = ensure_table(a, err, errlen)) != M2M_OK)
		goto out;
	for (i = 0; i < n; i++) {
		if ((e = apply_one(a, dir, &v[i], &done, err, errlen)) != M2M_OK)
			goto out;
		if (done && cb != NULL) {
			memset(&m, 0, sizeof(m));
			m.version = v[i].version;
			m.applied = 1;
			db_strlcpy(m.name, v[i].name, sizeof(m.name));
			cb(arg, &m);
		}
		*applied += (unsigned)done;
	}
	e = db_admin_partitions(a, 3, &parts, err, errlen);
out:
	free(v);
	return e;
}
