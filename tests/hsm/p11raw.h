/* SPDX-License-Identifier: Apache-2.0 */
/* Raw PKCS#11 for the tests' own look at the token, independent of the
 * code under test. Call only while no struct hsm is open (it finalizes). */
#ifndef M2M_TEST_P11RAW_H
#define M2M_TEST_P11RAW_H

#include "tests/hsm/tok.h"

struct raw_attrs {
	int token, private_, sensitive, extractable, derive, always_sensitive, never_extractable;
	unsigned long value_rv;		/* what reading CKA_VALUE returned */
	const char *value_rv_name;
};

void raw_key_attrs(struct tok *t, const char *label, struct raw_attrs *a);
/* A P-256 pair that cannot derive (CKA_DERIVE false), CKA_ID 0x42. */
void raw_make_nonderive_key(struct tok *t, const char *label);

#endif
