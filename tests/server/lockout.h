/* SPDX-License-Identifier: Apache-2.0 */
/* The check that no module is left holding a pseudonym the database does
 * not accept (doc/protocol.md, 12.1): what test clients or m2m-sim hold,
 * compared with modules.pseudonym and previous_pseudonym, in SQL. */
#ifndef M2M_TEST_LOCKOUT_H
#define M2M_TEST_LOCKOUT_H

#include <stddef.h>

#include "src/proto/proto.h"

/* How many of the n modules hold a pseudonym that is neither the current
 * nor the previous one of their identity's row (locked out); their
 * identities, space separated, in ids (the first ones that fit). */
long st_locked_out(const struct proto_mod_creds *cr, size_t n, char *ids, size_t len);
/* The same for every module of a credentials file (m2mctl enroll --out,
 * which m2m-sim rewrites with the pseudonyms it ends with). */
long st_locked_out_file(const char *creds, char *ids, size_t len);

#endif
