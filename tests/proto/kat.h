/* SPDX-License-Identifier: Apache-2.0 */
/* A whole handshake with fixed randomness, printed as "name hex" lines:
 * the known-answer vector of tests/vectors/handshake_kat.txt. */
#ifndef M2M_KAT_H
#define M2M_KAT_H

#include <stdio.h>

#include "src/proto/proto.h"

enum m2m_err kat_run(FILE *out);

#endif
