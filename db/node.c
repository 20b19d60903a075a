/* SPDX-License-Identifier: Apache-2.0 */
/* The other sessions that carry a given application name prefix: m2md
 * names its connections after its node id, so a second node with the same
 * id can be told before it hands out tokens and session ids that collide
 * with the first's. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_int.h"

enum m2m_err
db_admin_sessions_named(struct db_admin *a, const char *prefix, db_session_cb cb, void *arg,
    char *err, size_t errlen)
{
	const char *p[1] = { prefix };
	PGresult *r;

	r = db_query(a, "SELECT application_name, coalesce(host(client_addr), 'a local socket')"
	    " FROM pg_stat_activity WHERE starts_with(application_name, $1)"
	    " AND pid <> pg_backend_pid()", 1, p);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return db_result_fail(r, "pg_stat_activity", err, errlen);
	for (int i = 0; i < PQntuples(r); i++)
		cb(arg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
	PQclear(r);
	return M2M_OK;
}
