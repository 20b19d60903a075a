/* SPDX-License-Identifier: Apache-2.0 */
/* enroll --count: generates simulated modules, registers them in one
 * transaction (COPY) and writes the credentials file m2m-sim reads. The
 * file appears complete or not at all: written to a temporary file,
 * fsynced, and linked into place only after the COMMIT. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/ctl/ctl.h"
#include "src/ctl/ctl_db.h"
#include "src/common/hex.h"
#include "src/ctl/ctl_json.h"

struct bulk {
	struct db_admin *a;
	struct proto_ctx *ctx;
	FILE *f;
	char tmp[512];
	char iobuf[1 << 16];		/* stdio's buffer holds private keys: ours, to wipe */
	char err[2 * CTL_ERRLEN];
};

/* Identities go into a space-separated file and a COPY stream. */
static int
prefix_ok(const char *p)
{
	size_t i;

	for (i = 0; p[i] != '\0'; i++)
		if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f || p[i] == '\\')
			return 0;
	return i + 12 <= PROTO_IDENTITY_MAX;
}

/* One module: key pair, pseudonym, a line in the file, a row in the COPY. */
static enum m2m_err
one(struct bulk *b, const char *prefix, long i)
{
	uint8_t priv[PROTO_SCALAR_LEN], pub[PROTO_POINT_LEN], ps[PROTO_PSEUDONYM_LEN];
	char id[PROTO_IDENTITY_MAX + 1], hpriv[65], hpub[67], hps[33];
	enum m2m_err e;

	snprintf(id, sizeof(id), "%s%06ld", prefix, i);
	if ((e = proto_p256_keygen(b->ctx, priv, pub)) != M2M_OK ||
	    (e = proto_random(b->ctx, ps, sizeof(ps))) != M2M_OK)
		goto out;
	m2m_hex(priv, sizeof(priv), hpriv);
	m2m_hex(pub, sizeof(pub), hpub);
	m2m_hex(ps, sizeof(ps), hps);
	if (fprintf(b->f, "module %s %s %s %s\n", id, hps, hpriv, hpub) < 0) {
		snprintf(b->err, sizeof(b->err), "%s: %s", b->tmp, strerror(errno));
		e = M2M_E_IO;
		goto out;
	}
	e = db_admin_bulk_row(b->a, id, pub, ps, b->err, sizeof(b->err));
out:
	proto_wipe(priv, sizeof(priv));
	proto_wipe(hpriv, sizeof(hpriv));
	return e;
}

static enum m2m_err
open_tmp(struct bulk *b, const char *out, const struct proto_srv_key *key)
{
	char kid[9], kpub[67];
	int fd;

	snprintf(b->tmp, sizeof(b->tmp), "%s.XXXXXX", out);
	if ((fd = mkstemp(b->tmp)) < 0 || fchmod(fd, 0600) != 0 ||
	    (b->f = fdopen(fd, "w")) == NULL) {
		snprintf(b->err, sizeof(b->err), "%s: %s", b->tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(b->tmp);
		}
		b->tmp[0] = '\0';
		return M2M_E_IO;
	}
	setvbuf(b->f, b->iobuf, _IOFBF, sizeof(b->iobuf));
	m2m_hex(key->key_id, PROTO_KEY_ID_LEN, kid);
	m2m_hex(key->pub, PROTO_POINT_LEN, kpub);
	fprintf(b->f, "# m2m-credentials 1\nserver %s %s\n", kid, kpub);
	return M2M_OK;
}

/* fsync the file and close it; wipe what stdio buffered. */
static enum m2m_err
close_tmp(struct bulk *b, int keep)
{
	int bad = 0;

	if (b->f != NULL) {
		bad = fflush(b->f) != 0 || (keep && fsync(fileno(b->f)) != 0);
		bad |= fclose(b->f) != 0;
		b->f = NULL;
		if (bad)
			snprintf(b->err, sizeof(b->err), "%s: %s", b->tmp, strerror(errno));
	}
	proto_wipe(b->iobuf, sizeof(b->iobuf));
	if ((!keep || bad) && b->tmp[0] != '\0')
		unlink(b->tmp);
	return bad ? M2M_E_IO : M2M_OK;
}

/* Everything up to the COMMIT; on failure the transaction is rolled back. */
static enum m2m_err
fill(struct bulk *b, const struct proto_srv_key *key, long count, const char *prefix,
    const char *out, size_t *n)
{
	enum m2m_err e;
	long i;

	if ((e = open_tmp(b, out, key)) != M2M_OK ||
	    (e = db_admin_begin(b->a, b->err, sizeof(b->err))) != M2M_OK)
		return e;
	if ((e = db_admin_bulk_start(b->a, b->err, sizeof(b->err))) != M2M_OK)
		goto fail;
	for (i = 1; i <= count && e == M2M_OK; i++)
		e = one(b, prefix, i);
	if (e != M2M_OK || (e = db_admin_bulk_end(b->a, n, b->err, sizeof(b->err))) != M2M_OK ||
	    (e = close_tmp(b, 1)) != M2M_OK)
		goto fail;
	return db_admin_commit(b->a, b->err, sizeof(b->err));
fail:
	db_admin_rollback(b->a);
	return e;
}

/* link() refuses to replace: a file created meanwhile is never clobbered. */
static enum m2m_err
publish(struct bulk *b, const char *out)
{
	char dir[4096];
	int fd;

	if (link(b->tmp, out) != 0) {
		snprintf(b->err, sizeof(b->err), "modules enrolled, but %s: %s; the credentials"
		    " are in %s", out, strerror(errno), b->tmp);
		return M2M_E_IO;
	}
	unlink(b->tmp);
	snprintf(dir, sizeof(dir), "%s", out);
	if ((fd = open(dirname(dir), O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(fd);	/* the new name survives a crash too */
		close(fd);
	}
	return M2M_OK;
}

/* {"enrolled": N, "credentials": PATH} */
static void
bulk_json(size_t n, const char *out)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "enrolled", json_object_new_int64((int64_t)n));
	json_object_object_add(o, "credentials", json_object_new_string(out));
	ctl_json_print(o);
}

int
ctl_enroll_bulk(struct db_admin *a, const struct proto_srv_key *key, long count,
    const char *prefix, const char *out, int json)
{
	struct bulk *b;
	struct stat st;
	size_t n = 0;
	enum m2m_err e;
	int rc = 1;

	if (!prefix_ok(prefix)) {
		ctl_errx("--prefix: at most 52 printable characters, no spaces or backslashes");
		return 2;
	}
	if (strlen(out) > 400) {
		ctl_errx("--out: path too long");
		return 2;
	}
	if (lstat(out, &st) == 0) {
		ctl_errx("%s exists: remove it or choose another --out", out);
		return 1;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL || proto_ctx_new(&b->ctx, NULL) != M2M_OK) {
		free(b);
		return ctl_db_fail(M2M_E_NOMEM, NULL);
	}
	b->a = a;
	if ((e = fill(b, key, count, prefix, out, &n)) != M2M_OK) {
		close_tmp(b, 0);
		ctl_db_fail(e, b->err);
	} else if ((e = publish(b, out)) != M2M_OK) {
		ctl_db_fail(e, b->err);
	} else {
		if (json)
			bulk_json(n, out);
		else
			printf("enrolled %zu modules; credentials in %s\n", n, out);
		rc = 0;
	}
	proto_ctx_free(b->ctx);
	proto_wipe(b, sizeof(*b));
	free(b);
	return rc;
}
