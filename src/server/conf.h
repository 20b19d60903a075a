/* SPDX-License-Identifier: Apache-2.0 */
/* m2md.conf: the server's configuration (INI, parsed with inih), shared by
 * m2md and m2mctl (which reads its [hsm] section, and [admin]: its own
 * database connection, never the server's [database] one). */
#ifndef M2M_SRV_CONF_H
#define M2M_SRV_CONF_H

#include <stddef.h>

#include "db/db.h"
#include "hsm/hsm.h"

#define SRV_LISTEN_MAX	8
#define SRV_WORKERS_MAX	64
#define SRV_CONF_SET_MAX	64

enum srv_log_level { SRV_LOG_ERR = 0, SRV_LOG_WARN, SRV_LOG_INFO, SRV_LOG_DEBUG };

struct srv_config {
	char *path;				/* the file read, or NULL */
	/* [server] */
	char *listen[SRV_LISTEN_MAX];		/* "host:port", "[v6]:port" */
	size_t n_listen;
	unsigned workers;
	unsigned node_id;			/* 0..255, first byte of tokens and session ids */
	int log_level;				/* enum srv_log_level */
	int log_syslog;				/* 0: stderr (the journal takes it) */
	int log_sessions;			/* an info line per session established */
	char *metrics;				/* "127.0.0.1:9433", NULL: off */
	char *control;				/* UNIX socket path (control.c), NULL: off */
	/* [limits] */
	unsigned half_open_max;			/* whole server, split over workers; an
						 * entry holds its slot for the whole
						 * timeout, so size it rate x timeout */
	unsigned half_open_timeout_s;
	unsigned retry_above;			/* half-open entries (whole server) before RETRY; 0: half of half_open_max */
	unsigned sessions_max;
	unsigned session_idle_s;
	unsigned session_max_age_s;		/* a session ends at its first record this old */
	unsigned session_max_records;		/* ... or after this many records */
	unsigned inflight_max;			/* AUTH and DATA awaiting HSM or database, per worker */
	unsigned source_rate, source_burst;	/* HELLO per source address */
	unsigned pseudonym_rate, pseudonym_burst; /* HSM operations per pseudonym */
	unsigned hsm_source_rate, hsm_source_burst; /* HSM operations per source address */
	unsigned shutdown_grace_s;
	/* [hsm] */
	char *hsm_module, *hsm_token, *hsm_key, *hsm_pin_file;
	struct hsm_config hsm;			/* points into the strings above */
	/* [database] */
	struct db_settings db;
	/* "section.key=value" for each key the file set, to tell on SIGHUP
	 * what changed (only the log is reloaded). */
	char *set[SRV_CONF_SET_MAX];
	size_t n_set;
	/* [admin]: m2mctl's connection; m2md only checks it. */
	char admin_conninfo[DB_CONNINFO_MAX];
};

/* Defaults, then the file (NULL: none). On a bad line err names the file,
 * the line and the problem. */
enum m2m_err srv_config_load(struct srv_config *c, const char *path, char *err, size_t errlen);
void srv_config_free(struct srv_config *c);
/* The settings that differ between two loads, as "[section] key" joined by
 * ", ", log_level and log_target aside; returns how many. */
size_t srv_config_changed(const struct srv_config *old, const struct srv_config *fresh,
    char *out, size_t len);
/* SYSCONFDIR/m2md/m2md.conf: where m2md, and m2mctl, look without -c. */
const char *srv_config_default_path(void);

#endif
