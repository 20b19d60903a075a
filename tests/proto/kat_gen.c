/* SPDX-License-Identifier: Apache-2.0 */
/* Prints the known-answer handshake; its output is
 * tests/vectors/handshake_kat.txt (regenerate only on a protocol change). */
#include "config.h"

#include <stdio.h>

#include "tests/proto/kat.h"

int
main(void)
{
	enum m2m_err err = kat_run(stdout);

	if (err != M2M_OK)
		fprintf(stderr, "kat_gen: %s\n", m2m_strerror(err));
	return err == M2M_OK ? 0 : 1;
}
