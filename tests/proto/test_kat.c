/* SPDX-License-Identifier: Apache-2.0 */
/* The known-answer handshake is reproduced byte for byte. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tests/proto/kat.h"

Test(kat, handshake_reproduced_byte_for_byte)
{
	char *got = NULL, *want, path[512];
	size_t gotlen = 0;
	long wantlen;
	FILE *f = open_memstream(&got, &gotlen), *in;

	cr_assert_not_null(f);
	cr_assert_eq(kat_run(f), M2M_OK);
	fclose(f);
	snprintf(path, sizeof(path), "%s/vectors/handshake_kat.txt", TEST_SRCDIR);
	cr_assert_not_null(in = fopen(path, "r"), "cannot open %s", path);
	fseek(in, 0, SEEK_END);
	wantlen = ftell(in);
	rewind(in);
	want = calloc(1, (size_t)wantlen + 1);
	cr_assert_eq(fread(want, 1, (size_t)wantlen, in), (size_t)wantlen);
	fclose(in);
	/* Compare line by line so a failure names the message that changed. */
	{
		char *gs, *ws, *g = strtok_r(got, "\n", &gs), *w = strtok_r(want, "\n", &ws);

		for (; g != NULL && w != NULL; g = strtok_r(NULL, "\n", &gs),
		    w = strtok_r(NULL, "\n", &ws))
			cr_assert_str_eq(g, w);
		cr_assert(g == NULL && w == NULL, "vector has a different number of lines");
	}
	free(got);
	free(want);
}
