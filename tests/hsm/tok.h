/* SPDX-License-Identifier: Apache-2.0 */
/* Test fixture: a real SoftHSM2 token in a fresh temporary directory, a PIN
 * file for it, and an hsm_config pointing at it (directly or via the shim). */
#ifndef M2M_TEST_TOK_H
#define M2M_TEST_TOK_H

#include "hsm/hsm.h"
#include "tests/hsm/shim.h"

#define TOK_PIN		"4711-test"
#define TOK_SO_PIN	"so-1234567"

struct tok {
	char dir[64];
	char conf[96];
	char pin_file[96];
	char shim[512];		/* path of the test module */
	struct hsm_config cfg;
};

/* Creates the token (label) and points cfg at SoftHSM2, or at the shim. */
void tok_create(struct tok *t, const char *label, int via_shim);
void tok_destroy(struct tok *t);
/* Writes pin into t->pin_file (mode 0600). */
void tok_write_pin(struct tok *t, const char *pin);
/* The shim's control block and reset (loads the shim and keeps it). */
struct m2m_shim_ctl *tok_shim(struct tok *t);
void tok_shim_reset(struct tok *t);
/* A fresh software P-256 pair: compressed point and the EVP_PKEY (void *
 * so that this header needs no OpenSSL). */
void tok_soft_key(uint8_t pub[HSM_POINT_LEN], void **pkey);
/* Software ECDH of priv with a compressed point, for cross-checks. */
void tok_soft_ecdh(void *pkey, const uint8_t pub[HSM_POINT_LEN], uint8_t out[HSM_SECRET_LEN]);
void tok_soft_free(void *pkey);
/* The compressed point of an EVP_PKEY. */
void tok_pub_compressed(void *pkey, uint8_t pub[HSM_POINT_LEN]);

#endif
