/* SPDX-License-Identifier: Apache-2.0 */
/* m2md -t: everything the server needs at start, checked one by one with
 * a line each, so an operator sees what is wrong before starting it. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "src/server/server.h"
#include "src/server/srv.h"

/* Findings go to out (m2md -t), or nowhere at a normal start. */
static void say(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(FILE *out, const char *fmt, ...)
{
	va_list ap;

	if (out == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
}

static enum m2m_err
check_hsm(struct srv_config *cfg, struct proto_srv_key *keys, size_t *n, char *err,
    size_t errlen)
{
	struct hsm *h;
	enum m2m_err e;

	if ((e = hsm_open(&h, &cfg->hsm, err, errlen)) != M2M_OK)
		return e;
	printf("ok: token %s opened, logged in\n", hsm_token_name(h));
	e = srv_load_keys(h, cfg, keys, n, err, errlen);
	hsm_close(h);
	for (size_t i = 0; e == M2M_OK && i < *n; i++)
		printf("ok: server key id %02x%02x%02x%02x usable for ECDH\n", keys[i].key_id[0],
		    keys[i].key_id[1], keys[i].key_id[2], keys[i].key_id[3]);
	return e;
}

/* Two nodes with one node id hand out colliding tokens and session ids,
 * and each drops the other's modules as not its own. A running node of
 * the same id is an error at start; for m2md -t, run beside this node's
 * own m2md, a warning. */
static enum m2m_err
check_node_id(struct db_admin *a, const struct srv_config *cfg, FILE *out, char *err,
    size_t errlen)
{
	char from[256];
	unsigned n;
	enum m2m_err e = srv_node_peers(a, cfg, &n, from, sizeof(from), err, errlen);

	if (e != M2M_OK || n == 0)
		return e;
	if (out != NULL) {
		say(out, "warning: node_id %u is in use by a running m2md (connected from %s);"
		    " unless that is this node's own, give each node its own node_id\n",
		    cfg->node_id, from);
		return M2M_OK;
	}
	snprintf(err, errlen, "node_id %u is in use by another m2md connected to this database"
	    " (from %s): give each node its own node_id", cfg->node_id, from);
	return M2M_E_CONFIG;
}

enum m2m_err
srv_check_db(struct srv_config *cfg, const struct proto_srv_key *keys, size_t n, FILE *out,
    char *err, size_t errlen)
{
	struct db_admin *a;
	char perr[1024];
	enum m2m_err e;

	if ((e = db_admin_open(cfg->db.conninfo, &a, err, errlen)) != M2M_OK)
		return e;
	say(out, "ok: database reachable\n");
	/* check_db.c. A role that may not read the schema's history fails the
	 * first as a query: the second then names all it lacks. */
	if ((e = srv_check_schema(a, out, err, errlen)) == M2M_E_DB_QUERY &&
	    srv_check_privileges(a, NULL, perr, sizeof(perr)) == M2M_E_CONFIG) {
		snprintf(err, errlen, "%s", perr);
		e = M2M_E_CONFIG;
	}
	if (e == M2M_OK && (e = srv_check_privileges(a, out, err, errlen)) == M2M_OK)
		e = srv_check_keys(a, cfg, keys, n, out, err, errlen);
	if (e == M2M_OK)
		e = check_node_id(a, cfg, out, err, errlen);
	db_admin_close(a);
	return e;
}

enum m2m_err
srv_check(struct srv_config *cfg, char *err, size_t errlen)
{
	struct proto_srv_key keys[SRV_KEYS_MAX];
	struct sockaddr_storage ss;
	socklen_t len;
	size_t n = 0;
	enum m2m_err e;

	printf("ok: configuration %s read\n", cfg->path != NULL ? cfg->path : "(defaults)");
	for (size_t i = 0; i < cfg->n_listen; i++)
		if ((e = net_parse(cfg->listen[i], &ss, &len, err, errlen)) != M2M_OK)
			return e;
	if (cfg->metrics != NULL &&
	    (e = srv_metrics_parse(cfg->metrics, &ss, &len, err, errlen)) != M2M_OK)
		return e;
	if ((e = check_hsm(cfg, keys, &n, err, errlen)) != M2M_OK)
		return e;
	return srv_check_db(cfg, keys, n, stdout, err, errlen);
}
