/* SPDX-License-Identifier: Apache-2.0 */
/* m2md's log: one line per event with its level, to stderr (where the
 * journal takes it) or to syslog. Never given a secret. */
#ifndef M2M_SRV_LOG_H
#define M2M_SRV_LOG_H

#include "src/server/conf.h"

void srv_log_open(int level, int use_syslog);
/* SIGHUP: syslog is reopened; the level may change. */
void srv_log_reopen(int level, int use_syslog);
int srv_log_enabled(int level);
/* Under systemd, with stderr the journal's stream: sd-daemon's "<3>" ...
 * "<7>" for the level, so that journalctl -p finds each line at its
 * priority; else "". For messages written before srv_log_open. */
const char *srv_log_prefix(int level);
void srv_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)	srv_log(SRV_LOG_ERR, __VA_ARGS__)
#define log_warn(...)	srv_log(SRV_LOG_WARN, __VA_ARGS__)
#define log_info(...)	srv_log(SRV_LOG_INFO, __VA_ARGS__)
#define log_debug(...)	do { if (srv_log_enabled(SRV_LOG_DEBUG)) srv_log(SRV_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
