/* SPDX-License-Identifier: Apache-2.0 */
/* Entry points of the server for main.c: running it and checking a
 * configuration (m2md -t). */
#ifndef M2M_SRV_SERVER_H
#define M2M_SRV_SERVER_H

#include <stddef.h>
#include <stdio.h>

#include "hsm/hsm.h"
#include "src/proto/proto.h"
#include "src/server/conf.h"

/* Names this node's database connections after its node id, machine,
 * boot and process (node.c); before anything connects. */
void srv_node_name(struct srv_config *cfg);
/* Runs until SIGTERM or SIGINT. */
enum m2m_err srv_run(struct srv_config *cfg, char *err, size_t errlen);
/* Opens the token, finds the keys, connects to the database and checks the
 * schema; prints each finding on stdout. */
enum m2m_err srv_check(struct srv_config *cfg, char *err, size_t errlen);
/* The database part of the check: reachable, schema current, keys
 * registered; findings printed on out when not NULL. */
enum m2m_err srv_check_db(struct srv_config *cfg, const struct proto_srv_key *keys, size_t n,
    FILE *out, char *err, size_t errlen);
/* The database's active server keys are all among keys (the ones served):
 * else an error naming the cause; served keys retired or not registered
 * are reported on out, or logged when out is NULL (keycheck.c). */
struct db_admin;
enum m2m_err srv_check_keys(struct db_admin *a, const struct srv_config *cfg,
    const struct proto_srv_key *keys, size_t n, FILE *out, char *err, size_t errlen);
/* check_db.c, for srv_check_db: the schema is one this m2md runs on; the
 * connected role has the privileges db/grants.c lists for the server. */
enum m2m_err srv_check_schema(struct db_admin *a, FILE *out, char *err, size_t errlen);
enum m2m_err srv_check_privileges(struct db_admin *a, FILE *out, char *err, size_t errlen);
enum m2m_err srv_load_keys(struct hsm *h, const struct srv_config *c,
    struct proto_srv_key *keys, size_t *n, char *err, size_t errlen);

#endif
