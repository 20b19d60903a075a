/* Reads m2md.conf into struct srv_config: defaults, then each key checked
 * for its type and range, so a typo is an error and never a silent default. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/server/conf.h"

const char *
srv_config_default_path(void)
{
	return SYSCONFDIR "/m2md/m2md.conf";
}

static void
defaults(struct srv_config *c)
{
	memset(c, 0, sizeof(*c));
	c->workers = 2;
	c->log_level = SRV_LOG_INFO;
	c->half_open_max = 131072;	/* 30 MiB: 13,000 handshakes/s over 10 s */
	c->half_open_timeout_s = 10;
	c->retry_above = 0;		/* 0: half of each worker's share */
	c->sessions_max = 100000;
	c->session_idle_s = 600;
	c->inflight_max = 1024;
	c->source_rate = 20;
	c->source_burst = 40;
	c->pseudonym_rate = 1;
	c->pseudonym_burst = 10;
	c->hsm_source_rate = 500;
	c->hsm_source_burst = 1000;
	c->shutdown_grace_s = 10;
	hsm_config_init(&c->hsm);
	db_settings_init(&c->db);
}

struct parse {
	struct srv_config *c;
	char *err;
	size_t errlen;
	int failed;
};

static int
uint_value(const char *v, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || *v == '-' || n < min || n > max)
		return 0;
	*out = (unsigned)n;
	return 1;
}

static int
str_value(const char *v, char **out)
{
	free(*out);
	*out = *v != '\0' ? strdup(v) : NULL;
	return *v == '\0' || *out != NULL;
}

/* "a, b, c" into the listen array. */
static int
listen_value(struct srv_config *c, const char *v)
{
	char *copy = strdup(v), *tok, *save = NULL;
	int ok = copy != NULL;

	for (size_t i = 0; i < c->n_listen; i++)
		free(c->listen[i]);
	c->n_listen = 0;
	for (tok = strtok_r(copy, ", \t", &save); ok && tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (c->n_listen == SRV_LISTEN_MAX || (c->listen[c->n_listen] = strdup(tok)) == NULL)
			ok = 0;
		else
			c->n_listen++;
	}
	free(copy);
	return ok && c->n_listen > 0;
}

static int
level_value(const char *v, int *out)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	for (int i = 0; i < 4; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 1;
		}
	return 0;
}

#define UINT_KEY(sec, key, field, min, max) \
	if (strcmp(s, sec) == 0 && strcmp(k, key) == 0) \
		return uint_value(v, min, max, &c->field) ? 1 : -1
#define STR_KEY(sec, key, field) \
	if (strcmp(s, sec) == 0 && strcmp(k, key) == 0) \
		return str_value(v, &c->field) ? 1 : -1

/* 1: taken, 0: unknown key, -1: bad value. */
static int
server_key(struct srv_config *c, const char *s, const char *k, const char *v)
{
	if (strcmp(s, "server") == 0 && strcmp(k, "listen") == 0)
		return listen_value(c, v) ? 1 : -1;
	if (strcmp(s, "server") == 0 && strcmp(k, "log_level") == 0)
		return level_value(v, &c->log_level) ? 1 : -1;
	if (strcmp(s, "server") == 0 && strcmp(k, "log_target") == 0) {
		c->log_syslog = strcmp(v, "syslog") == 0;
		return c->log_syslog || strcmp(v, "stderr") == 0 ? 1 : -1;
	}
	UINT_KEY("server", "workers", workers, 1, SRV_WORKERS_MAX);
	UINT_KEY("server", "node_id", node_id, 0, 255);
	STR_KEY("server", "metrics", metrics);
	UINT_KEY("limits", "half_open_max", half_open_max, 16, 1u << 24);
	UINT_KEY("limits", "half_open_timeout", half_open_timeout_s, 1, 300);
	UINT_KEY("limits", "retry_above", retry_above, 0, 1u << 24);
	UINT_KEY("limits", "sessions_max", sessions_max, 16, 1u << 26);
	UINT_KEY("limits", "session_idle_timeout", session_idle_s, 5, 86400 * 7);
	UINT_KEY("limits", "inflight_max", inflight_max, 1, 1u << 20);
	UINT_KEY("limits", "source_rate", source_rate, 1, 1u << 20);
	UINT_KEY("limits", "source_burst", source_burst, 1, 1u << 20);
	UINT_KEY("limits", "pseudonym_rate", pseudonym_rate, 1, 1u << 20);
	UINT_KEY("limits", "pseudonym_burst", pseudonym_burst, 1, 1u << 20);
	UINT_KEY("limits", "hsm_source_rate", hsm_source_rate, 1, 1u << 20);
	UINT_KEY("limits", "hsm_source_burst", hsm_source_burst, 1, 1u << 20);
	UINT_KEY("limits", "shutdown_grace", shutdown_grace_s, 0, 3600);
	return 0;
}

static int
backend_key(struct srv_config *c, const char *s, const char *k, const char *v)
{
	STR_KEY("hsm", "module", hsm_module);
	STR_KEY("hsm", "token", hsm_token);
	STR_KEY("hsm", "key", hsm_key);
	STR_KEY("hsm", "pin_file", hsm_pin_file);
	UINT_KEY("hsm", "pool_threads", hsm.pool_threads, 1, 256);
	UINT_KEY("hsm", "pool_queue", hsm.pool_queue, 1, 1u << 20);
	if (strcmp(s, "database") == 0 && strcmp(k, "conninfo") == 0) {
		if (strlen(v) >= sizeof(c->db.conninfo))
			return -1;
		strcpy(c->db.conninfo, v);
		return 1;
	}
	if (strcmp(s, "admin") == 0 && strcmp(k, "conninfo") == 0) {
		if (strlen(v) >= sizeof(c->admin_conninfo))
			return -1;
		strcpy(c->admin_conninfo, v);
		return 1;
	}
	UINT_KEY("database", "batch_max", db.batch_max, 1, 65536);
	UINT_KEY("database", "batch_delay_us", db.batch_delay_us, 0, 1000000);
	UINT_KEY("database", "queue_max", db.queue_max, 1, 1u << 24);
	return 0;
}

static int
on_key(void *arg, const char *s, const char *k, const char *v)
{
	struct parse *p = arg;
	int r = server_key(p->c, s, k, v);

	if (r == 0)
		r = backend_key(p->c, s, k, v);
	if (r == 1)
		return 1;
	/* A connection string may hold a password: never echo it. */
	if (!p->failed && strcmp(k, "conninfo") == 0 && r != 0)
		snprintf(p->err, p->errlen, "invalid value for key 'conninfo' in section [%s]", s);
	else if (!p->failed)
		snprintf(p->err, p->errlen, r == 0 ? "unknown key '%s' in section [%s]" :
		    "invalid value '%s' for key '%s' in section [%s]",
		    r == 0 ? k : v, r == 0 ? s : k, s);
	p->failed = 1;
	return 0;
}

static void
link_hsm(struct srv_config *c)
{
	c->hsm.module = c->hsm_module;
	c->hsm.token = c->hsm_token;
	c->hsm.key = c->hsm_key;
	c->hsm.pin_file = c->hsm_pin_file;
}

enum m2m_err
srv_config_load(struct srv_config *c, const char *path, char *err, size_t errlen)
{
	struct parse p = { c, err, errlen, 0 };
	char what[256];
	int line;

	defaults(c);
	if (!listen_value(c, "0.0.0.0:4433"))
		return M2M_E_NOMEM;
	if (path != NULL) {
		c->path = strdup(path);
		line = ini_parse(path, on_key, &p);
		if (line == -1) {
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
			return M2M_E_CONFIG;
		}
		if (line != 0) {
			snprintf(what, sizeof(what), "%s", p.failed ? err : "syntax error");
			snprintf(err, errlen, "%s:%d: %s", path, line, what);
			return M2M_E_CONFIG;
		}
		if (db_conninfo_check(c->db.conninfo, what, sizeof(what)) != M2M_OK) {
			snprintf(err, errlen, "%s: [database] conninfo: %s", path, what);
			return M2M_E_CONFIG;
		}
		if (db_conninfo_check(c->admin_conninfo, what, sizeof(what)) != M2M_OK) {
			snprintf(err, errlen, "%s: [admin] conninfo: %s", path, what);
			return M2M_E_CONFIG;
		}
	}
	link_hsm(c);
	return M2M_OK;
}

void
srv_config_free(struct srv_config *c)
{
	for (size_t i = 0; i < c->n_listen; i++)
		free(c->listen[i]);
	free(c->path);
	free(c->metrics);
	free(c->hsm_module);
	free(c->hsm_token);
	free(c->hsm_key);
	free(c->hsm_pin_file);
	memset(c, 0, sizeof(*c));
}
