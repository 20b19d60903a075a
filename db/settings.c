/* SPDX-License-Identifier: Apache-2.0 */
/* Connection settings the libpq way: defaults, $M2M_DB, --db, and the
 * refusal of passwords in a connection string, wherever it comes from. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"

void
db_settings_init(struct db_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->batch_max = 128;
	s->batch_delay_us = 0;
	s->inflight_max = 2;
	s->queue_max = 65536;
	s->backoff_min_ms = 100;
	s->backoff_max_ms = 10000;
	s->instr_max = PROTO_INSTR_MAX;
	s->instr_bytes = 1024;
	strcpy(s->app_name, "m2md");
}

void
db_settings_node(struct db_settings *s, unsigned node_id, const char *machine,
    const char *boot, long pid)
{
	snprintf(s->app_name, sizeof(s->app_name), "m2md node %u m=%.8s b=%.8s p=%ld", node_id,
	    machine, boot, pid);
}

enum m2m_err
db_conninfo_check(const char *conninfo, char *err, size_t errlen)
{
	PQconninfoOption *opts, *o;
	char *msg = NULL;
	enum m2m_err e = M2M_OK;

	if (conninfo == NULL || conninfo[0] == '\0')
		return M2M_OK;
	/* PQconninfoParse understands both key=value strings and URIs. */
	opts = PQconninfoParse(conninfo, &msg);
	if (opts == NULL) {
		db_detail(err, errlen, "invalid connection string", msg != NULL ? msg : "out of memory");
		PQfreemem(msg);
		return M2M_E_CONFIG;
	}
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL && o->val[0] != '\0')
			e = M2M_E_DB_PASSWORD;
	PQconninfoFree(opts);
	if (e != M2M_OK)
		db_detail(err, errlen, "connection string contains a password",
		    "put it in a password file instead (PGPASSFILE or ~/.pgpass, mode 0600)");
	return e;
}

enum m2m_err
db_settings_conninfo(struct db_settings *s, const char *arg, char *err, size_t errlen)
{
	const char *env = getenv("M2M_DB");
	enum m2m_err e;

	if (arg == NULL && env != NULL && env[0] != '\0')
		arg = env;
	if (arg == NULL)
		return M2M_OK;
	if ((e = db_conninfo_check(arg, err, errlen)) != M2M_OK)
		return e;
	if (strlen(arg) >= sizeof(s->conninfo)) {
		db_detail(err, errlen, "connection string", "too long");
		return M2M_E_CONFIG;
	}
	strcpy(s->conninfo, arg);
	return M2M_OK;
}
