/* SPDX-License-Identifier: Apache-2.0 */
/* m2mctl bench: dispatches to the benchmark of each part. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "src/ctl/ctl.h"

static const struct ctl_cmd benches[] = {
	{ "proto", ctl_bench_proto, "µs per handshake step and per primitive, both roles" },
	{ "hsm", ctl_bench_hsm, "ECDH/s in the token: direct, via the pool, vs OpenSSL" },
	{ "db", ctl_bench_db, "group-commit rows/s at batch sizes 1-1024, lookups/s" },
	/* m2mctl bench table end */
};

int
ctl_bench_main(int argc, char **argv)
{
	size_t i;

	if (argc >= 2)
		for (i = 0; i < sizeof(benches) / sizeof(benches[0]); i++)
			if (strcmp(argv[1], benches[i].name) == 0)
				return benches[i].run(argc - 1, argv + 1);
	fprintf(argc >= 2 ? stderr : stdout, "usage: m2mctl bench WHAT [OPTIONS]\n\n");
	for (i = 0; i < sizeof(benches) / sizeof(benches[0]); i++)
		fprintf(stderr, "  %-8s %s\n", benches[i].name, benches[i].summary);
	if (argc >= 2)
		ctl_errx("unknown benchmark '%s'", argv[1]);
	return 2;
}
