/* SPDX-License-Identifier: Apache-2.0 */
/* Credentials file: strict line parser with FILE:LINE messages, checks
 * that keys are valid and belong together, and the atomic write-back. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "module-sim/creds.h"
#include "src/common/hex.h"

#define FIELDS_MAX	6
#define IO_BUF		65536

struct parse {
	const char *path;
	unsigned line;
	char *detail;
	size_t dlen;
	struct proto_ctx *ctx;
	int have_server;
};

static enum m2m_err
bad(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->detail, p->dlen, "%s:%u: ", p->path, p->line);
	if (n < 0 || (size_t)n >= p->dlen)
		return M2M_E_CONFIG;
	va_start(ap, fmt);
	vsnprintf(p->detail + n, p->dlen - (size_t)n, fmt, ap);
	va_end(ap);
	return M2M_E_CONFIG;
}

/* Decodes a hex field of min..max bytes; 0 when it is not one. */
static int
unhex(const char *s, uint8_t *out, size_t min, size_t max, size_t *len)
{
	size_t n;

	if (m2m_unhex(s, strlen(s), out, max, &n) != 0 || n < min)
		return 0;
	if (len != NULL)
		*len = n;
	return 1;
}

static enum m2m_err
parse_server(struct parse *p, struct sim_creds *cr, char **f, size_t n)
{
	uint8_t id[PROTO_KEY_ID_LEN];
	char want[2 * PROTO_KEY_ID_LEN + 1];

	if (p->have_server)
		return bad(p, "a second server line (only one server key per file)");
	if (n != 3)
		return bad(p, "server line needs 3 fields: server <key id> <public key>, found %zu", n);
	if (!unhex(f[1], cr->key_id, PROTO_KEY_ID_LEN, PROTO_KEY_ID_LEN, NULL))
		return bad(p, "server key id must be %d hex digits", 2 * PROTO_KEY_ID_LEN);
	if (!unhex(f[2], cr->server_pub, PROTO_POINT_LEN, PROTO_POINT_LEN, NULL))
		return bad(p, "server public key must be %d hex digits (SEC1 compressed)",
		    2 * PROTO_POINT_LEN);
	if (proto_p256_check(p->ctx, cr->server_pub, PROTO_POINT_LEN) != M2M_OK)
		return bad(p, "server public key is not a valid P-256 point");
	if (proto_key_id(cr->server_pub, id) != M2M_OK)
		return bad(p, "cannot hash the server public key");
	if (memcmp(id, cr->key_id, sizeof(id)) != 0) {
		m2m_hex(id, sizeof(id), want);
		return bad(p, "server key id %s does not match the server key (its id is %s)",
		    f[1], want);
	}
	p->have_server = 1;
	return M2M_OK;
}

static enum m2m_err
check_module_keys(struct parse *p, struct proto_mod_creds *c, char **f)
{
	uint8_t pub[PROTO_POINT_LEN];

	if (!unhex(f[3], c->priv, PROTO_SCALAR_LEN, PROTO_SCALAR_LEN, NULL))
		return bad(p, "private key must be %d hex digits", 2 * PROTO_SCALAR_LEN);
	if (!unhex(f[4], c->pub, PROTO_POINT_LEN, PROTO_POINT_LEN, NULL))
		return bad(p, "public key must be %d hex digits (SEC1 compressed)",
		    2 * PROTO_POINT_LEN);
	if (proto_p256_public(p->ctx, c->priv, PROTO_SCALAR_LEN, pub) != M2M_OK)
		return bad(p, "private key is not a valid P-256 scalar");
	if (memcmp(pub, c->pub, PROTO_POINT_LEN) != 0)
		return bad(p, "public key does not belong to the private key");
	return M2M_OK;
}

static enum m2m_err
grow(struct sim_creds *cr)
{
	size_t cap = cr->cap != 0 ? 2 * cr->cap : 64;
	struct sim_mod *m;

	if (cr->n < cr->cap)
		return M2M_OK;
	/* No realloc: it would free the old copy of the keys unwiped. */
	if ((m = calloc(cap, sizeof(*m))) == NULL)
		return M2M_E_NOMEM;
	if (cr->n != 0)
		memcpy(m, cr->mods, cr->n * sizeof(*m));
	proto_wipe(cr->mods, cr->cap * sizeof(*m));
	free(cr->mods);
	cr->mods = m;
	cr->cap = cap;
	return M2M_OK;
}

static enum m2m_err
parse_module(struct parse *p, struct sim_creds *cr, char **f, size_t n)
{
	struct sim_mod *m;
	size_t idlen = strlen(f[1]);
	enum m2m_err err;

	if (!p->have_server)
		return bad(p, "module line before the server line");
	if (n != 5)
		return bad(p, "module line needs 5 fields: module <identity> <pseudonym> "
		    "<private key> <public key>, found %zu", n);
	if (idlen > PROTO_IDENTITY_MAX)
		return bad(p, "identity longer than %d bytes", PROTO_IDENTITY_MAX);
	if ((err = grow(cr)) != M2M_OK)
		return bad(p, "out of memory"), err;
	m = &cr->mods[cr->n];
	memset(m, 0, sizeof(*m));
	if (!unhex(f[2], m->c.pseudonym, PROTO_PSEUDONYM_MIN, PROTO_PSEUDONYM_MAX,
	    &m->c.pseudonym_len))
		return bad(p, "pseudonym must be %d to %d hex digits", 2 * PROTO_PSEUDONYM_MIN,
		    2 * PROTO_PSEUDONYM_MAX);
	if ((err = check_module_keys(p, &m->c, f)) != M2M_OK)
		return err;
	memcpy(m->c.identity, f[1], idlen);
	m->c.identity_len = idlen;
	memcpy(m->c.server_pub, cr->server_pub, PROTO_POINT_LEN);
	memcpy(m->c.key_id, cr->key_id, PROTO_KEY_ID_LEN);
	m->line = p->line;
	if (idlen > cr->max_identity)
		cr->max_identity = idlen;
	cr->n++;
	return M2M_OK;
}

/* Splits on blanks in place; returns the number of fields (up to FIELDS_MAX). */
static size_t
split(char *s, char **f)
{
	size_t n = 0;
	char *save = NULL, *tok;

	for (tok = strtok_r(s, " \t", &save); tok != NULL && n < FIELDS_MAX;
	    tok = strtok_r(NULL, " \t", &save))
		f[n++] = tok;
	return n;
}

static enum m2m_err
parse_line(struct parse *p, struct sim_creds *cr, char *s)
{
	char *f[FIELDS_MAX];
	size_t n, len = strlen(s);

	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = '\0';
	if (p->line == 1 && strcmp(s, SIM_CREDS_HEADER) != 0) {
		if (strncmp(s, "# m2m-credentials ", 18) == 0)
			return bad(p, "unsupported format version '%s' (this m2m-sim reads '%s')",
			    s + 18, SIM_CREDS_HEADER);
		return bad(p, "not a credentials file: the first line must be '%s'",
		    SIM_CREDS_HEADER);
	}
	if (s[0] == '#')
		return M2M_OK;
	if ((n = split(s, f)) == 0)
		return M2M_OK;		/* blank line */
	if (strcmp(f[0], "server") == 0)
		return parse_server(p, cr, f, n);
	if (strcmp(f[0], "module") == 0)
		return parse_module(p, cr, f, n);
	return bad(p, "unknown record '%.32s' (expected 'server', 'module' or a # comment)", f[0]);
}

static int
cmp_identity(const void *a, const void *b)
{
	const struct sim_mod *x = *(struct sim_mod *const *)a, *y = *(struct sim_mod *const *)b;
	int c;

	if (x->c.identity_len != y->c.identity_len)
		return x->c.identity_len < y->c.identity_len ? -1 : 1;
	if ((c = memcmp(x->c.identity, y->c.identity, x->c.identity_len)) != 0)
		return c;
	return x->line < y->line ? -1 : 1;
}

static int
cmp_pseudonym(const void *a, const void *b)
{
	const struct sim_mod *x = *(struct sim_mod *const *)a, *y = *(struct sim_mod *const *)b;
	int c;

	if (x->c.pseudonym_len != y->c.pseudonym_len)
		return x->c.pseudonym_len < y->c.pseudonym_len ? -1 : 1;
	if ((c = memcmp(x->c.pseudonym, y->c.pseudonym, x->c.pseudonym_len)) != 0)
		return c;
	return x->line < y->line ? -1 : 1;
}

/* Two modules with one identity or pseudonym would fight over the same
 * server record: refuse the file. Sorting keeps this O(n log n). */
static enum m2m_err
check_unique(struct parse *p, struct sim_creds *cr)
{
	struct sim_mod **v;
	enum m2m_err err = M2M_OK;

	if ((v = malloc(cr->n * sizeof(*v))) == NULL)
		return M2M_E_NOMEM;
	for (size_t i = 0; i < cr->n; i++)
		v[i] = &cr->mods[i];
	qsort(v, cr->n, sizeof(*v), cmp_identity);
	for (size_t i = 1; i < cr->n && err == M2M_OK; i++)
		if (v[i - 1]->c.identity_len == v[i]->c.identity_len && memcmp(v[i - 1]->c.identity, v[i]->c.identity,
		    v[i]->c.identity_len) == 0) {
			p->line = v[i]->line;
			err = bad(p, "identity '%.*s' already on line %u",
			    (int)v[i]->c.identity_len, (const char *)v[i]->c.identity, v[i - 1]->line);
		}
	qsort(v, cr->n, sizeof(*v), cmp_pseudonym);
	for (size_t i = 1; i < cr->n && err == M2M_OK; i++)
		if (v[i - 1]->c.pseudonym_len == v[i]->c.pseudonym_len && memcmp(
		    v[i - 1]->c.pseudonym, v[i]->c.pseudonym, v[i]->c.pseudonym_len) == 0) {
			p->line = v[i]->line;
			err = bad(p, "pseudonym already used on line %u", v[i - 1]->line);
		}
	free(v);
	return err;
}

static enum m2m_err
read_lines(struct parse *p, struct sim_creds *cr, FILE *fp)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	enum m2m_err err = M2M_OK;

	while (err == M2M_OK && (n = getline(&line, &cap, fp)) >= 0) {
		p->line++;
		if (memchr(line, '\0', (size_t)n) != NULL)
			err = bad(p, "NUL byte in the line");
		else
			err = parse_line(p, cr, line);
	}
	if (err == M2M_OK && ferror(fp)) {
		snprintf(p->detail, p->dlen, "%s: %s", p->path, strerror(errno));
		err = M2M_E_IO;
	}
	if (line != NULL)
		proto_wipe(line, cap);	/* it held a private key */
	free(line);
	return err;
}

static enum m2m_err
check_whole(struct parse *p, struct sim_creds *cr)
{
	if (!p->have_server) {
		snprintf(p->detail, p->dlen, "%s: no server line", p->path);
		return M2M_E_CONFIG;
	}
	if (cr->n == 0) {
		snprintf(p->detail, p->dlen, "%s: no module lines", p->path);
		return M2M_E_CONFIG;
	}
	return check_unique(p, cr);
}

enum m2m_err
sim_creds_load(struct sim_creds *cr, const char *path, char *detail, size_t dlen)
{
	struct parse p = { .path = path, .detail = detail, .dlen = dlen };
	static _Thread_local char iobuf[IO_BUF];
	FILE *fp;
	enum m2m_err err;

	memset(cr, 0, sizeof(*cr));
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(detail, dlen, "%s: %s", path, strerror(errno));
		return M2M_E_IO;
	}
	/* Our own buffer, so the copy of the keys stdio reads can be wiped. */
	setvbuf(fp, iobuf, _IOFBF, sizeof(iobuf));
	if ((err = proto_ctx_new(&p.ctx, NULL)) == M2M_OK) {
		err = read_lines(&p, cr, fp);
		if (err == M2M_OK)
			err = check_whole(&p, cr);
		proto_ctx_free(p.ctx);
	} else {
		snprintf(detail, dlen, "%s: %s", path, m2m_strerror(err));
	}
	fclose(fp);
	proto_wipe(iobuf, sizeof(iobuf));
	if (err != M2M_OK)
		sim_creds_free(cr);
	return err;
}

static int
write_all(FILE *fp, const struct sim_creds *cr)
{
	char a[2 * PROTO_POINT_LEN + 1], b[2 * PROTO_PSEUDONYM_MAX + 1];
	char k[2 * PROTO_SCALAR_LEN + 1], id[2 * PROTO_KEY_ID_LEN + 1];
	int ok;

	m2m_hex(cr->key_id, PROTO_KEY_ID_LEN, id);
	m2m_hex(cr->server_pub, PROTO_POINT_LEN, a);
	ok = fprintf(fp, "%s\nserver %s %s\n", SIM_CREDS_HEADER, id, a) > 0;
	for (size_t i = 0; ok && i < cr->n; i++) {
		const struct proto_mod_creds *c = &cr->mods[i].c;

		m2m_hex(c->pseudonym, c->pseudonym_len, b);
		m2m_hex(c->priv, PROTO_SCALAR_LEN, k);
		m2m_hex(c->pub, PROTO_POINT_LEN, a);
		ok = fprintf(fp, "module %.*s %s %s %s\n", (int)c->identity_len,
		    (const char *)c->identity, b, k, a) > 0;
	}
	proto_wipe(k, sizeof(k));
	return ok && fflush(fp) == 0 && fsync(fileno(fp)) == 0;
}

/* After the rename, the directory entry must reach the disk too. */
static int
sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, ok = 0;

	if (copy == NULL)
		return 0;
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY)) >= 0) {
		ok = fsync(fd) == 0;
		close(fd);
	}
	free(copy);
	return ok;
}

enum m2m_err
sim_creds_save(const struct sim_creds *cr, const char *path, char *detail, size_t dlen)
{
	static _Thread_local char iobuf[IO_BUF];
	char tmp[4096];
	FILE *fp = NULL;
	int fd, ok;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp)) {
		snprintf(detail, dlen, "%s: path too long", path);
		return M2M_E_IO;
	}
	if ((fd = mkstemp(tmp)) < 0 || fchmod(fd, 0600) != 0 || (fp = fdopen(fd, "w")) == NULL) {
		snprintf(detail, dlen, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd), unlink(tmp);
		return M2M_E_IO;
	}
	setvbuf(fp, iobuf, _IOFBF, sizeof(iobuf));
	ok = write_all(fp, cr);
	ok = fclose(fp) == 0 && ok;
	proto_wipe(iobuf, sizeof(iobuf));
	if (!ok || rename(tmp, path) != 0) {
		snprintf(detail, dlen, "%s: %s", ok ? path : tmp, strerror(errno));
		unlink(tmp);
		return M2M_E_IO;
	}
	if (!sync_dir(path)) {
		snprintf(detail, dlen, "%s: directory not synced: %s", path, strerror(errno));
		return M2M_E_IO;
	}
	return M2M_OK;
}

void
sim_creds_free(struct sim_creds *cr)
{
	if (cr->mods != NULL)
		proto_wipe(cr->mods, cr->cap * sizeof(*cr->mods));
	free(cr->mods);
	memset(cr, 0, sizeof(*cr));
}
