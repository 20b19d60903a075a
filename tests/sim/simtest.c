/* SPDX-License-Identifier: Apache-2.0 */
/* Test helpers: temporary directories, credentials files, running the
 * m2m-sim binary (see simtest.h). */
#include "config.h"

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tests/sim/simtest.h"

void
st_tmpdir(char *out, size_t cap)
{
	const char *base = getenv("TMPDIR");

	snprintf(out, cap, "%s/m2m-sim-test.XXXXXX", base != NULL ? base : "/tmp");
	cr_assert_not_null(mkdtemp(out), "mkdtemp %s", out);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
st_cleanup(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void
st_enroll(struct st_enrolled *e, size_t n, const char *path)
{
	struct proto_ctx *ctx;
	char a[2 * PROTO_POINT_LEN + 1], b[2 * PROTO_SCALAR_LEN + 1], c[2 * PROTO_PSEUDONYM_LEN + 1];
	uint8_t priv[PROTO_SCALAR_LEN];
	FILE *fp;

	memset(e, 0, sizeof(*e));
	cr_assert_eq(proto_ctx_new(&ctx, NULL), M2M_OK);
	cr_assert_eq(proto_p256_keygen(ctx, e->server_priv, e->key.pub), M2M_OK);
	cr_assert_eq(proto_key_id(e->key.pub, e->key.key_id), M2M_OK);
	e->n = n;
	e->rec = calloc(n, sizeof(*e->rec));
	e->pseudonym = calloc(n, sizeof(*e->pseudonym));
	cr_assert(e->rec != NULL && e->pseudonym != NULL);
	cr_assert_not_null(fp = fopen(path, "w"));
	tu_hex(e->key.key_id, PROTO_KEY_ID_LEN, c);
	tu_hex(e->key.pub, PROTO_POINT_LEN, a);
	fprintf(fp, "# m2m-credentials 1\n# written by the m2m-sim tests\nserver %s %s\n", c, a);
	for (size_t i = 0; i < n; i++) {
		struct proto_module_rec *r = &e->rec[i];

		r->active = 1;
		r->identity_len = (size_t)snprintf((char *)r->identity, sizeof(r->identity),
		    "sim-%06zu", i + 1);
		cr_assert_eq(proto_p256_keygen(ctx, priv, r->key), M2M_OK);
		cr_assert_eq(proto_random(ctx, e->pseudonym[i], PROTO_PSEUDONYM_LEN), M2M_OK);
		tu_hex(e->pseudonym[i], PROTO_PSEUDONYM_LEN, c);
		tu_hex(priv, PROTO_SCALAR_LEN, b);
		tu_hex(r->key, PROTO_POINT_LEN, a);
		fprintf(fp, "module %s %s %s %s\n", (const char *)r->identity, c, b, a);
	}
	cr_assert_eq(fclose(fp), 0);
	chmod(path, 0600);
	proto_ctx_free(ctx);
}

void
st_enrolled_free(struct st_enrolled *e)
{
	free(e->rec);
	free(e->pseudonym);
}

char *
st_read_file(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf;
	long n;

	cr_assert_not_null(fp, "cannot open %s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	cr_assert_not_null(buf = calloc(1, (size_t)n + 1));
	cr_assert_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return buf;
}

void
st_write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp, "cannot create %s", path);
	fputs(text, fp);
	cr_assert_eq(fclose(fp), 0);
}

int
st_run_sim(const char *const *argv, char **out, char **err)
{
	return st_run_sim_signal(argv, 0, out, err);
}

/* 1 once process pid blocks signal sig (/proc/PID/status, SigBlk). */
static int
blocks(pid_t pid, int sig)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "SigBlk:", 7) == 0)
			mask = strtoull(line + 7, NULL, 16);
	fclose(f);
	return (mask >> (sig - 1)) & 1;
}

int
st_run_sim_signal(const char *const *argv, int sig, char **out, char **err)
{
	char dir[256], o[300], e[300];
	const char *av[64];
	size_t n = 0;
	int status;
	pid_t pid;

	st_tmpdir(dir, sizeof(dir));
	snprintf(o, sizeof(o), "%s/stdout", dir);
	snprintf(e, sizeof(e), "%s/stderr", dir);
	av[n++] = TEST_BUILDDIR "/m2m-sim";
	while (argv[n - 1] != NULL && n < 63)
		av[n] = argv[n - 1], n++;
	av[n] = NULL;
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		int fo = open(o, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fo, 1);
		dup2(fe, 2);
		/* A test that times out must not leave m2m-sim running. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(av[0], (char *const *)av);
		_exit(127);
	}
	if (sig != 0) {
		for (int i = 0; i < 3000 && !blocks(pid, sig); i++)
			usleep(10000);
		kill(pid, sig);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	*out = st_read_file(o);
	*err = st_read_file(e);
	st_cleanup(dir);
	cr_assert(WIFEXITED(status), "m2m-sim died: status %d, stderr: %s", status, *err);
	return WEXITSTATUS(status);
}
