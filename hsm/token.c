/* SPDX-License-Identifier: Apache-2.0 */
/* Token selection through libp11's slot list: by label, serial or the
 * attributes of a PKCS#11 URI; when nothing matches, list what is there. */
#include "config.h"

#include "hsm/hsm_int.h"

#include <stdio.h>
#include <string.h>

static int
eq_or_any(const char *want, const char *have)
{
	return want[0] == '\0' || (have != NULL && strcmp(want, have) == 0);
}

static int
matches(const PKCS11_TOKEN *t, const struct hsm_uri *want, const char *plain)
{
	if (!t->initialized)
		return 0;
	if (plain != NULL)
		return strcmp(plain, t->label) == 0 || strcmp(plain, t->serialnr) == 0;
	return eq_or_any(want->token, t->label) && eq_or_any(want->serial, t->serialnr) &&
	    eq_or_any(want->manufacturer, t->manufacturer) && eq_or_any(want->model, t->model);
}

/* "tokens present: 'a' (serial 1), 'b' (serial 2)" into err after prefix. */
static void
list_tokens(struct hsm *h, const char *prefix, char *err, size_t errlen)
{
	size_t used;
	unsigned i, n = 0;

	hsm_detail(err, errlen, "%s; tokens present:", prefix);
	for (i = 0; i < h->nslots; i++) {
		PKCS11_TOKEN *t = h->slots[i].token;

		if (t == NULL || !t->initialized || err == NULL)
			continue;
		used = strlen(err);
		if (used < errlen)
			snprintf(err + used, errlen - used, "%s '%s' (serial %s)", n ? "," : "",
			    t->label, t->serialnr);
		n++;
	}
	if (n == 0)
		hsm_detail(err, errlen, "%s; no initialized token in any of the %u slots",
		    prefix, h->nslots);
}

/* A token this user may not read is not listed at all: say so. */
static void
access_hint(struct hsm *h, char *err, size_t errlen)
{
	char hint[1024], user[96];
	size_t used = err != NULL ? strlen(err) : 0;

	if (err == NULL || used >= errlen)
		return;
	if (!hsm_access_hint(h->module_path, hint, sizeof(hint)))
		snprintf(hint, sizeof(hint), "a token that user %s may not use is not listed: "
		    "check its access to the token", hsm_user_name(user, sizeof(user)));
	snprintf(err + used, errlen - used, "; %s", hint);
}

enum m2m_err
hsm_token_select(struct hsm *h, const struct hsm_uri *want, const char *plain,
    char *err, size_t errlen)
{
	PKCS11_SLOT *found = NULL;
	char why[128];
	unsigned i, n = 0;

	if (PKCS11_enumerate_slots(h->ctx, &h->slots, &h->nslots) != 0) {
		hsm_detail(err, errlen, "cannot list slots: %s", hsm_p11_last_error(why, sizeof(why)));
		return M2M_E_HSM_PKCS11;
	}
	for (i = 0; i < h->nslots; i++)
		if (h->slots[i].token != NULL && matches(h->slots[i].token, want, plain)) {
			if (found == NULL)
				found = &h->slots[i];
			n++;
		}
	if (n != 1) {
		snprintf(why, sizeof(why), "%s token %s", n ? "more than one" : "no",
		    plain ? plain : "matching the URI");
		list_tokens(h, why, err, errlen);
		if (n == 0)
			access_hint(h, err, errlen);
		return n ? M2M_E_HSM_TOKEN_AMBIGUOUS : M2M_E_HSM_TOKEN_NOT_FOUND;
	}
	h->slot = PKCS11_get_slotid_from_slot(found);
	snprintf(h->name, sizeof(h->name), "'%s' (serial %s)", found->token->label,
	    found->token->serialnr);
	return M2M_OK;
}
