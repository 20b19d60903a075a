/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the end-to-end tests: the world that run-server-tests made
 * (token, database, enrolled modules, a running m2md), metrics, SQL, and
 * extra m2md processes. */
#ifndef M2M_TEST_SRVTEST_H
#define M2M_TEST_SRVTEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/server/client.h"

#define ST_HOST	"127.0.0.1"

/* $M2M_TEST_WORLD/NAME */
const char *st_path(const char *name);
int st_port(void);			/* the running m2md's UDP port */
/* Opens a client as module `index` of the world's credentials file, on
 * port; st_open, of the credentials file creds. */
void st_client(struct cli *c, size_t index, int port);
void st_open(struct cli *c, const char *creds, size_t index, int port);
/* Enrolls n fresh modules NAME-000001.. into the world's file NAME and
 * returns its path (module i of the file is NAME-(i + 1)); the last four
 * paths stay valid. */
const char *st_enroll(const char *name, size_t n);
/* The client's module identity (a static buffer), and its rows in reports. */
const char *st_identity(const struct cli *c);
long st_reports(const struct cli *c);
/* A metric of the m2md whose metrics listen on port (sum over labels
 * when label is NULL). */
double st_metric(int metrics_port, const char *name, const char *label);
/* First column of the first row of a query, with text parameters. */
const char *st_sql(const char *sql, int n, const char *const *params);
/* Runs m2mctl with the world's environment; returns its exit status. */
int st_m2mctl(const char *args);
/* Writes a config (the world's, with overrides appended in place of keys)
 * and starts m2md -f on it; waits until it answers. */
pid_t st_start_m2md(const char *conf_name, int port, int node_id, const char *extra);
int st_stop_m2md(pid_t pid, int sig);
/* Runs a shell command; returns its exit status, its output in out. */
int st_capture(const char *cmd, char *out, size_t len);
/* Runs m2md -t on a config; returns its exit status, output in out. */
int st_check(const char *conf, char *out, size_t len);
/* Writes a file under the world directory; returns its path. */
const char *st_write(const char *name, const char *content);

#endif
