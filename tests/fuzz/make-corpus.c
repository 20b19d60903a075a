/* SPDX-License-Identifier: Apache-2.0 */
/* make-corpus: writes the seed corpus of the fuzz targets (corpus.c) as
 * DIR/TARGET/NAME files, for make fuzz. */
#include "config.h"

#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static int failed;

static void
write_seed(void *arg, const char *target, const char *name, const uint8_t *data, size_t size)
{
	const char *dir = arg;
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, target);
	if (mkdir(path, 0777) != 0 && errno != EEXIST) {
		perror(path);
		failed = 1;
		return;
	}
	snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(data, 1, size, f) != size ||
	    fclose(f) != 0) {
		perror(path);
		failed = 1;
	}
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: make-corpus DIR\n");
		return 2;
	}
	if (mkdir(argv[1], 0777) != 0 && errno != EEXIST) {
		perror(argv[1]);
		return 1;
	}
	fuzz_corpus(write_seed, argv[1]);
	return failed;
}
