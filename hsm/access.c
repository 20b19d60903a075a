/* SPDX-License-Identifier: Apache-2.0 */
/* Why a token or a key may be invisible to this process: file permissions.
 * PKCS#11 has no error for "not allowed to read the token": SoftHSM2 says
 * CKR_GENERAL_ERROR, or leaves the token or a key out of its lists. For
 * SoftHSM2 the files are known (its configuration names the token
 * directory), so the hint names the first one this user cannot read; for
 * other modules it can only say which user asked. */
#include "config.h"

#include "hsm/hsm_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SOFTHSM2_DEFAULT_CONF	"/etc/softhsm/softhsm2.conf"
#define SOFTHSM2_DEFAULT_TOKENS	"/var/lib/softhsm/tokens"

/* What the walk found: the number of entries unreadable, the first one. */
struct denied {
	unsigned n;
	char first[512];
	int why;
};

const char *
hsm_user_name(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(geteuid());

	if (pw != NULL)
		snprintf(buf, len, "%s (uid %u)", pw->pw_name, (unsigned)geteuid());
	else
		snprintf(buf, len, "uid %u", (unsigned)geteuid());
	return buf;
}

static int
is_softhsm(const char *module)
{
	const char *base = module != NULL ? strrchr(module, '/') : NULL;

	base = base != NULL ? base + 1 : module;
	return base != NULL && strstr(base, "softhsm") != NULL;
}

static void
check(struct denied *d, const char *path, int mode)
{
	if (faccessat(AT_FDCWD, path, mode, AT_EACCESS) == 0 || (errno != EACCES && errno != EPERM))
		return;
	if (d->n++ == 0) {
		snprintf(d->first, sizeof(d->first), "%s", path);
		d->why = errno;
	}
}

/* directories.tokendir from SoftHSM2's configuration, or its default. */
static void
token_dir(FILE *f, char *dir, size_t len)
{
	char line[1024], *p, *v;

	snprintf(dir, len, "%s", SOFTHSM2_DEFAULT_TOKENS);
	while (fgets(line, sizeof(line), f) != NULL) {
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (strncmp(p, "directories.tokendir", 20) != 0 || (v = strchr(p, '=')) == NULL)
			continue;
		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		v[strcspn(v, "\r\n")] = '\0';
		for (p = v + strlen(v); p > v && (p[-1] == ' ' || p[-1] == '\t'); p--)
			p[-1] = '\0';
		snprintf(dir, len, "%s", v);
	}
}

/* Each token's directory, and the object files in it, must be readable. */
static void
walk_tokens(struct denied *d, const char *dir)
{
	DIR *top = opendir(dir), *tok;
	struct dirent *t, *o;
	char path[1024], file[1536];

	while (top != NULL && (t = readdir(top)) != NULL) {
		if (t->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, t->d_name);
		check(d, path, R_OK | X_OK);
		if ((tok = opendir(path)) == NULL)
			continue;
		while ((o = readdir(tok)) != NULL) {
			size_t n = strlen(o->d_name);

			if (n < 7 || strcmp(o->d_name + n - 7, ".object") != 0)
				continue;
			snprintf(file, sizeof(file), "%s/%s", path, o->d_name);
			check(d, file, R_OK);
		}
		closedir(tok);
	}
	if (top != NULL)
		closedir(top);
}

int
hsm_access_hint(const char *module, char *buf, size_t len)
{
	const char *conf = getenv("SOFTHSM2_CONF");
	struct denied d = { 0, "", 0 };
	char dir[512], user[96], more[48];
	FILE *f;

	if (!is_softhsm(module))
		return 0;
	if (conf == NULL || conf[0] == '\0')
		conf = SOFTHSM2_DEFAULT_CONF;
	check(&d, conf, R_OK);
	if ((f = fopen(conf, "r")) != NULL) {
		token_dir(f, dir, sizeof(dir));
		fclose(f);
	} else {
		snprintf(dir, sizeof(dir), "it names");
	}
	if (d.n == 0) {
		check(&d, dir, R_OK | X_OK);
		if (d.n == 0)
			walk_tokens(&d, dir);
	}
	if (d.n == 0)
		return 0;
	more[0] = '\0';
	if (d.n > 1)
		snprintf(more, sizeof(more), " and %u more token files", d.n - 1);
	hsm_detail(buf, len, "user %s cannot read %s (%s)%s: SoftHSM2's configuration %s, the "
	    "token directory %s and every directory and object file under it must be readable "
	    "by this user", hsm_user_name(user, sizeof(user)), d.first, strerror(d.why), more,
	    conf, dir);
	return 1;
}
