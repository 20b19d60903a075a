/* SPDX-License-Identifier: Apache-2.0 */
/* struct hsm_session: the direct path, one raw session for one thread. */
#include "config.h"

#include "hsm/hsm_int.h"

#include <stdlib.h>

struct hsm_session {
	struct hsm *h;
	struct hsm_sess ss;
};

enum m2m_err
hsm_session_open(struct hsm *h, struct hsm_session **out, char *err, size_t errlen)
{
	struct hsm_session *s;
	enum m2m_err e;

	if ((e = hsm_keys_resolve(h, err, errlen)) != M2M_OK)
		return e;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return M2M_E_NOMEM;
	s->h = h;
	if ((e = hsm_sess_open(h, &s->ss, err, errlen)) != M2M_OK) {
		hsm_session_close(s);
		return e;
	}
	*out = s;
	return M2M_OK;
}

void
hsm_session_close(struct hsm_session *s)
{
	if (s == NULL)
		return;
	hsm_sess_close(s->h, &s->ss);
	free(s->ss.objs);
	free(s);
}

enum m2m_err
hsm_derive(struct hsm_session *s, const uint8_t key_id[HSM_KEY_ID_LEN],
    const uint8_t peer[HSM_POINT_LEN], uint8_t secret[HSM_SECRET_LEN], char *err, size_t errlen)
{
	return hsm_derive_point(s, key_id, peer, HSM_POINT_LEN, secret, err, errlen);
}

enum m2m_err
hsm_derive_point(struct hsm_session *s, const uint8_t key_id[HSM_KEY_ID_LEN],
    const uint8_t *peer, size_t peer_len, uint8_t secret[HSM_SECRET_LEN], char *err,
    size_t errlen)
{
	CK_RV rv;

	if (peer_len != HSM_POINT_LEN && peer_len != HSM_POINT_FULL_LEN) {
		hsm_detail(err, errlen, "peer point of %zu bytes (33 or 65 expected)", peer_len);
		return M2M_E_HSM_PEER;
	}
	return hsm_sess_derive(s->h, &s->ss, key_id, peer, peer_len, secret, &rv, err,
	    errlen);
}
