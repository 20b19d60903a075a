/* SPDX-License-Identifier: Apache-2.0 */
/* m2m-client: drives N handshakes with D DATA each for one module of a
 * credentials file against a running m2md; a manual and scripted probe. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "tests/server/client.h"

int
main(int argc, char **argv)
{
	struct proto_mod_creds cr;
	struct cli c;
	uint64_t seq;
	enum m2m_err err;
	int n, d = 0;

	if (argc != 7) {
		fprintf(stderr, "usage: m2m-client CREDS INDEX HOST PORT HANDSHAKES DATA\n");
		return 2;
	}
	if ((err = cli_creds(argv[1], (size_t)atoi(argv[2]), &cr)) != M2M_OK ||
	    (err = cli_open(&c, argv[3], atoi(argv[4]), &cr)) != M2M_OK) {
		fprintf(stderr, "m2m-client: %s\n", m2m_strerror(err));
		return 1;
	}
	for (n = 0; n < atoi(argv[5]); n++) {
		if ((err = cli_handshake(&c, (const uint8_t *)"hello", 5)) != M2M_OK) {
			fprintf(stderr, "m2m-client: handshake %d: %s\n", n, m2m_strerror(err));
			return 1;
		}
		for (d = 0; d < atoi(argv[6]); d++)
			if ((err = cli_data(&c, (const uint8_t *)"reading", 7, &seq)) != M2M_OK) {
				fprintf(stderr, "m2m-client: data %d: %s\n", d, m2m_strerror(err));
				return 1;
			}
	}
	printf("m2m-client: %d handshakes, %d data each: ok\n", n, d);
	cli_close(&c);
	return 0;
}
