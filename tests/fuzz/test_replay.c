/* SPDX-License-Identifier: Apache-2.0 */
/* make check for the fuzz targets: every seed of the corpus and every
 * stored crash (tests/fuzz/regress/TARGET/) replayed through its target. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tests/fuzz/fuzz.h"

static const struct {
	const char *name;
	int (*run)(const uint8_t *, size_t);
} targets[] = {
	{ "hello", fuzz_hello }, { "auth", fuzz_auth }, { "wire", fuzz_wire },
	{ "record", fuzz_record }, { "payloads", fuzz_payloads }, { "point", fuzz_point },
	{ "server", fuzz_server }, { "module", fuzz_module },
};
#define N_TARGETS (sizeof(targets) / sizeof(targets[0]))

/* The corpus, collected, so that generating it and replaying it can be
 * told apart. */
struct seed {
	size_t target;
	char name[64];
	uint8_t *data;
	size_t size;
};
static struct seed seeds[256];
static size_t n_seeds;

static void
collect(void *arg, const char *target, const char *name, const uint8_t *data, size_t size)
{
	struct seed *s = &seeds[n_seeds];
	size_t i;

	(void)arg;
	cr_assert_lt(n_seeds, sizeof(seeds) / sizeof(seeds[0]));
	for (i = 0; i < N_TARGETS && strcmp(targets[i].name, target) != 0; i++)
		;
	cr_assert_lt(i, N_TARGETS, "seed %s for unknown target %s", name, target);
	s->target = i;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->data = malloc(size + 1);
	cr_assert_not_null(s->data);
	memcpy(s->data, data, size);
	s->size = size;
	n_seeds++;
}

Test(fuzz, seed_corpus_replays_to_what_made_it)
{
	struct fuzz_stats made;
	unsigned per_target[N_TARGETS] = { 0 };
	size_t i;

	memset(&fuzz_stats, 0, sizeof(fuzz_stats));
	fuzz_corpus(collect, NULL);
	made = fuzz_stats;
	memset(&fuzz_stats, 0, sizeof(fuzz_stats));
	for (i = 0; i < n_seeds; i++) {
		targets[seeds[i].target].run(seeds[i].data, seeds[i].size);
		per_target[seeds[i].target]++;
	}
	for (i = 0; i < N_TARGETS; i++)
		cr_expect_gt(per_target[i], 0, "no seed for %s", targets[i].name);
	cr_log_info("%zu seeds; server: %lu challenges, %lu welcomes, %lu records; module: "
	    "%lu sessions, %lu acks", n_seeds, fuzz_stats.challenges, fuzz_stats.welcomes,
	    fuzz_stats.srv_records, fuzz_stats.mod_established, fuzz_stats.mod_acks);
	/* Replayed by the targets, the seeds reach every stage of both roles,
	 * exactly as far as the conversation that made them. */
	cr_expect_gt(fuzz_stats.challenges, 0);
	cr_expect_gt(fuzz_stats.welcomes, 0);
	cr_expect_gt(fuzz_stats.rotations, 0);
	cr_expect_gt(fuzz_stats.srv_records, 0);
	cr_expect_gt(fuzz_stats.rekeys_recorded, 0);
	cr_expect_gt(fuzz_stats.mod_auths, 0);
	cr_expect_gt(fuzz_stats.mod_established, 0);
	cr_expect_gt(fuzz_stats.mod_acks, 0);
	cr_expect_gt(fuzz_stats.mod_rekey_acks, 0);
	cr_expect_eq(memcmp(&made, &fuzz_stats, sizeof(made)), 0,
	    "replaying the seeds does not reach what making them did");
	for (i = 0; i < n_seeds; i++)
		free(seeds[i].data);
	n_seeds = 0;
}

static uint8_t *
slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	cr_assert_not_null(f, "cannot open %s", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	cr_assert_geq(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n, "cannot read %s", path);
	fclose(f);
	*size = (size_t)n;
	return buf;
}

Test(fuzz, stored_crashes_stay_fixed)
{
	char dir[1024], path[2048];
	struct dirent *e;
	unsigned total = 0;
	size_t i, size;
	uint8_t *data;
	DIR *d;

	for (i = 0; i < N_TARGETS; i++) {
		snprintf(dir, sizeof(dir), "%s/fuzz/regress/%s", TEST_SRCDIR, targets[i].name);
		if ((d = opendir(dir)) == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			data = slurp(path, &size);
			cr_log_info("replaying %s", path);
			targets[i].run(data, size);
			free(data);
			total++;
		}
		closedir(d);
	}
	cr_log_info("%u stored crash inputs replayed", total);
}
