/* SPDX-License-Identifier: Apache-2.0 */
/* Key selectors as users write them: "server-2026" is a label, "id:0a1b..."
 * a CKA_ID in hex, "pkcs11:object=...;id=%0a" a URI. */
#include "config.h"

#include "hsm/hsm_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static enum m2m_err
hex_id(const char *s, struct hsm_keysel *sel, char *err, size_t errlen)
{
	size_t n = strlen(s), i;

	if (n == 0 || n % 2 != 0 || n / 2 > sizeof(sel->id))
		goto bad;
	for (i = 0; i < n / 2; i++) {
		unsigned v;

		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &v) != 1)
			goto bad;
		sel->id[i] = (uint8_t)v;
	}
	sel->id_len = n / 2;
	sel->has_id = 1;
	return M2M_OK;
bad:
	hsm_detail(err, errlen, "key id '%s': want 2 to %zu hex digits, even count", s,
	    2 * sizeof(sel->id));
	return M2M_E_INVALID_ARG;
}

enum m2m_err
hsm_keysel_parse(const char *s, struct hsm_keysel *sel, char *err, size_t errlen)
{
	struct hsm_uri u;
	enum m2m_err e;

	memset(sel, 0, sizeof(*sel));
	if (strncmp(s, "pkcs11:", 7) == 0) {
		if ((e = hsm_uri_parse(s, &u, err, errlen)) != M2M_OK)
			return e;
		*sel = u.key;
		return M2M_OK;
	}
	if (strncmp(s, "id:", 3) == 0)
		return hex_id(s + 3, sel, err, errlen);
	if (strlen(s) == 0 || strlen(s) > HSM_LABEL_MAX) {
		hsm_detail(err, errlen, "key label must be 1 to %d bytes", HSM_LABEL_MAX);
		return M2M_E_INVALID_ARG;
	}
	snprintf(sel->label, sizeof(sel->label), "%s", s);
	sel->has_label = 1;
	return M2M_OK;
}
