/* SPDX-License-Identifier: Apache-2.0 */
/* The database's server keys against the keys this node serves, at start
 * and in m2md -t. `m2mctl enroll` hands out the newest active key: a node
 * that cannot use an active key would drop every module provisioned with
 * it (M2M_E_PROTO_KEY_ID), so that is an error with its cause, typically a
 * key the m2md user cannot read. A retired key still in the token, or a
 * key never registered, is served and reported. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "src/server/log.h"
#include "src/server/server.h"
#include "src/server/srv.h"

#define REGISTERED_MAX	64

/* m2md -t prints findings on out; at a normal start they go to the log. */
static void warn(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
warn(FILE *out, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (out != NULL)
		fprintf(out, "warning: %s\n", line);
	else
		log_warn("%s", line);
}

static const struct proto_srv_key *
served(const struct proto_srv_key *keys, size_t n, const uint8_t pub[PROTO_POINT_LEN])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(keys[i].pub, pub, PROTO_POINT_LEN) == 0)
			return &keys[i];
	return NULL;
}

static const char *
token(const struct srv_config *cfg)
{
	return cfg->hsm.token != NULL ? cfg->hsm.token : "(none)";
}

/* Why an active key is not among those served. */
static void
cause(const struct srv_config *cfg, char *buf, size_t len)
{
	char user[96];

	if (cfg->hsm.key != NULL) {
		snprintf(buf, len, "[hsm] key = %s selects one key only (unset it to serve every key "
		    "in the token)", cfg->hsm.key);
		return;
	}
	if (hsm_access_hint(cfg->hsm.module, buf, len))
		return;
	snprintf(buf, len, "the token holds no usable P-256 derive key with this key id that "
	    "user %s can see: the key is missing from this node's token, or this user may not "
	    "read it (check that the user m2md can read the key; for SoftHSM2, the token's files)",
	    hsm_user_name(user, sizeof(user)));
}

static enum m2m_err
check_active(const struct srv_config *cfg, const struct db_server_key *k,
    const struct proto_srv_key *keys, size_t n, FILE *out, char *err, size_t errlen)
{
	char why[1024];

	if (served(keys, n, k->pub) != NULL) {
		if (out != NULL)
			fprintf(out, "ok: server key id %02x%02x%02x%02x (label %s) active in the "
			    "database and served\n", k->key_id[0], k->key_id[1], k->key_id[2],
			    k->key_id[3], k->label);
		return M2M_OK;
	}
	cause(cfg, why, sizeof(why));
	snprintf(err, errlen, "server key id %02x%02x%02x%02x (label %s) is active in the database "
	    "but not usable from token %s: %s", k->key_id[0], k->key_id[1], k->key_id[2],
	    k->key_id[3], k->label, token(cfg), why);
	return M2M_E_HSM_KEY_NOT_FOUND;
}

static void
check_served(const struct srv_config *cfg, const struct proto_srv_key *key,
    const struct db_server_key *reg, size_t nreg, int more, FILE *out)
{
	const uint8_t *id = key->key_id;

	for (size_t j = 0; j < nreg; j++) {
		if (memcmp(reg[j].pub, key->pub, PROTO_POINT_LEN) != 0)
			continue;
		if (!reg[j].active)
			warn(out, "server key id %02x%02x%02x%02x (label %s) is retired in the "
			    "database but still in token %s: m2md serves it until it is deleted from "
			    "the token", id[0], id[1], id[2], id[3], reg[j].label, token(cfg));
		return;
	}
	if (more)	/* among the retired keys the list left out */
		return;
	warn(out, "server key id %02x%02x%02x%02x is not registered in the database"
	    " (m2mctl hsm export --register): enrollment cannot name it", id[0], id[1], id[2],
	    id[3]);
}

enum m2m_err
srv_check_keys(struct db_admin *a, const struct srv_config *cfg,
    const struct proto_srv_key *keys, size_t n, FILE *out, char *err, size_t errlen)
{
	struct db_server_key reg[REGISTERED_MAX];
	size_t nreg = 0;
	int more = 0;
	enum m2m_err e;

	if ((e = db_admin_server_keys(a, reg, REGISTERED_MAX, &nreg, &more, err, errlen)) != M2M_OK)
		return e;
	/* Active keys come first, so a cut list only misses retired ones. */
	for (size_t i = 0; i < nreg && reg[i].active; i++)
		if ((e = check_active(cfg, &reg[i], keys, n, out, err, errlen)) != M2M_OK)
			return e;
	for (size_t i = 0; i < n; i++)
		check_served(cfg, &keys[i], reg, nreg, more, out);
	return M2M_OK;
}
