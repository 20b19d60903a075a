/* SPDX-License-Identifier: Apache-2.0 */
/* The state a device keeps across power loss (doc/devices.md): the
 * pseudonym for the next HELLO and which static key is current. Versioned,
 * with a check, so an unreadable blob is refused rather than misread.
 *
 *   0  4  "m2mS"           39 33 next public key (flag bit 0)
 *   4  1  version (1)      72  4 zero
 *   5  1  flags            76  4 SHA-256(bytes 0..75)[0..3]
 *   6  1  pseudonym length
 *   7 32  pseudonym, zero-padded */
#include "config.h"

#include "src/lib/lib.h"

#include <string.h>

#define STATE_VERSION	1
#define STATE_CHECK_OFF	(M2M_STATE_LEN - 4)

_Static_assert(M2M_STATE_LEN == 80, "state layout");

static int
state_check(const uint8_t *s, uint8_t check[4])
{
	uint8_t h[PROTO_HASH_LEN];

	if (proto_sha256(s, STATE_CHECK_OFF, NULL, 0, NULL, 0, h) != M2M_OK)
		return -1;
	memcpy(check, h, 4);
	return 0;
}

static int
state_write(uint8_t s[M2M_STATE_LEN], uint8_t flags, const uint8_t *ps, size_t pslen,
    const uint8_t next_pub[PROTO_POINT_LEN])
{
	if (pslen < PROTO_PSEUDONYM_MIN || pslen > PROTO_PSEUDONYM_MAX)
		return M2M_RC_EINVAL;
	memset(s, 0, M2M_STATE_LEN);
	memcpy(s, "m2mS", 4);
	s[4] = STATE_VERSION;
	s[5] = flags;
	s[6] = (uint8_t)pslen;
	memcpy(s + 7, ps, pslen);
	if (next_pub != NULL)
		memcpy(s + 39, next_pub, PROTO_POINT_LEN);
	return state_check(s, s + STATE_CHECK_OFF) == 0 ? M2M_RC_OK : M2M_RC_ECRYPTO;
}

int
m2m_state_new(uint8_t state[M2M_STATE_LEN], const uint8_t *pseudonym, size_t len)
{
	if (state == NULL || pseudonym == NULL)
		return M2M_RC_EINVAL;
	return state_write(state, 0, pseudonym, len, NULL);
}

int
lib_state_load(struct lib *l, const uint8_t s[M2M_STATE_LEN])
{
	uint8_t check[4];

	if (memcmp(s, "m2mS", 4) != 0 || s[4] != STATE_VERSION ||
	    (s[5] & ~LIB_FLAG_NEXT_KEY) != 0 ||
	    s[6] < PROTO_PSEUDONYM_MIN || s[6] > PROTO_PSEUDONYM_MAX)
		return M2M_RC_ESTATEBLOB;
	if (state_check(s, check) != 0 || memcmp(check, s + STATE_CHECK_OFF, 4) != 0)
		return M2M_RC_ESTATEBLOB;
	l->flags = s[5];
	l->creds.pseudonym_len = s[6];
	memcpy(l->creds.pseudonym, s + 7, s[6]);
	memcpy(l->next_pub, s + 39, PROTO_POINT_LEN);
	return M2M_RC_OK;
}

int
lib_save(struct lib *l, unsigned why)
{
	uint8_t s[M2M_STATE_LEN];
	int rc;

	rc = state_write(s, l->flags, l->creds.pseudonym, l->creds.pseudonym_len,
	    (l->flags & LIB_FLAG_NEXT_KEY) ? l->next_pub : NULL);
	if (rc == M2M_RC_OK && l->cfg.save != NULL && l->cfg.save(l->cfg.arg, s, why) != 0)
		rc = M2M_RC_ESAVE;
	return rc;
}
