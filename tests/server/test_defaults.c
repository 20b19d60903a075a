/* SPDX-License-Identifier: Apache-2.0 */
/* The defaults m2md.conf(5) and contrib/m2md.conf state for the numeric
 * keys of [server] and [limits] are the code's: a configuration made of
 * exactly those values loads to the same settings as no file at all. */
#include "config.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/server/conf.h"

#define LIMITS_FROM	offsetof(struct srv_config, half_open_max)
#define LIMITS_TO	(offsetof(struct srv_config, shutdown_grace_s) + sizeof(unsigned))

static FILE *
open_src(const char *rel)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/../%s", TEST_SRCDIR, rel);
	cr_assert_not_null(f = fopen(path, "r"), "%s", path);
	return f;
}

/* "key = N" for every ".It Cm key" of [server] and [limits] whose
 * "Default: N." is a number. */
static size_t
from_man(FILE *out)
{
	char line[512], key[64] = "", *d;
	size_t n = 0;
	int on = 0;
	FILE *f = open_src("man/m2md.conf.5");

	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, ".Ss The [", 9) == 0) {
			on = strncmp(line + 9, "server]", 7) == 0 || strncmp(line + 9, "limits]", 7) == 0;
			if (on)
				fprintf(out, "[%.6s]\n", line + 9);
		} else if (on && sscanf(line, ".It Cm %63[a-z_]", key) == 1) {
			continue;
		} else if (on && key[0] != '\0' && (d = strstr(line, "Default: ")) != NULL &&
		    isdigit((unsigned char)d[9])) {
			fprintf(out, "%s = %ld\n", key, strtol(d + 9, NULL, 10));
			key[0] = '\0';
			n++;
		}
	}
	fclose(f);
	return n;
}

/* Every "#key = N" of [server] and [limits], uncommented. */
static size_t
from_sample(FILE *out)
{
	char line[512], key[64];
	long v;
	size_t n = 0;
	int on = 0;
	FILE *f = open_src("contrib/m2md.conf");

	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '[') {
			on = strncmp(line, "[server]", 8) == 0 || strncmp(line, "[limits]", 8) == 0;
			if (on)
				fputs(line, out);
		} else if (on && sscanf(line, "#%63[a-z_] = %ld", key, &v) == 2 &&
		    strspn(strchr(line, '=') + 2, "0123456789") == strcspn(strchr(line, '=') + 2, "\n")) {
			fprintf(out, "%s = %ld\n", key, v);
			n++;
		}
	}
	fclose(f);
	return n;
}

static void
same_as_defaults(size_t (*make)(FILE *), const char *what)
{
	char path[] = "/tmp/m2m-defaults.XXXXXX", err[512];
	struct srv_config dflt, doc;
	size_t keys;
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	cr_assert_not_null(f);
	keys = make(f);
	fclose(f);
	cr_assert_geq(keys, 12, "%s: %zu numeric defaults found", what, keys);
	cr_assert_eq(srv_config_load(&dflt, NULL, err, sizeof(err)), M2M_OK, "%s", err);
	cr_assert_eq(srv_config_load(&doc, path, err, sizeof(err)), M2M_OK, "%s: %s", what, err);
	unlink(path);
	cr_expect_eq(doc.workers, dflt.workers, "%s: workers", what);
	cr_expect_eq(doc.half_open_max, dflt.half_open_max, "%s: half_open_max %u, code %u", what,
	    doc.half_open_max, dflt.half_open_max);
	cr_expect_eq(memcmp((char *)&doc + LIMITS_FROM, (char *)&dflt + LIMITS_FROM,
	    LIMITS_TO - LIMITS_FROM), 0, "%s: a [limits] default differs from the code's", what);
	srv_config_free(&dflt);
	srv_config_free(&doc);
}

Test(defaults, man_page_states_the_code_defaults)
{
	same_as_defaults(from_man, "m2md.conf(5)");
}

Test(defaults, sample_config_states_the_code_defaults)
{
	same_as_defaults(from_sample, "contrib/m2md.conf");
}
