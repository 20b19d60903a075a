/* SPDX-License-Identifier: Apache-2.0 */
/* Reads m2md.conf into struct srv_config: defaults, then each key checked
 * for its type and range, so a typo is an error and never a silent default. */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
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
	c->session_max_age_s = 86400;
	c->session_max_records = 1u << 20;
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
	char expect[64];	/* what a bad value should have been */
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
		return uint_value(v, min, max, &c->field) ? 1 : \
		    expect(p, "a whole number from %u to %u", (unsigned)(min), (unsigned)(max))
#define STR_KEY(sec, key, field) \
	if (strcmp(s, sec) == 0 && strcmp(k, key) == 0) \
		return str_value(v, &c->field) ? 1 : -1

/* Notes what a bad value should have been; returns -1 (bad value). */
static int __attribute__((format(printf, 2, 3)))
expect(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->expect, sizeof(p->expect), fmt, ap);
	va_end(ap);
	return -1;
}

/* 1: taken, 0: unknown key, -1: bad value. */
static int
server_key(struct parse *p, const char *s, const char *k, const char *v)
{
	struct srv_config *c = p->c;

	if (strcmp(s, "server") == 0 && strcmp(k, "listen") == 0)
		return listen_value(c, v) ? 1 : expect(p, "1 to %d addresses", SRV_LISTEN_MAX);
	if (strcmp(s, "server") == 0 && strcmp(k, "log_level") == 0)
		return level_value(v, &c->log_level) ? 1 :
		    expect(p, "error, warning, info or debug");
	if (strcmp(s, "server") == 0 && strcmp(k, "log_target") == 0) {
		c->log_syslog = strcmp(v, "syslog") == 0;
		return c->log_syslog || strcmp(v, "stderr") == 0 ? 1 : expect(p, "stderr or syslog");
	}
	if (strcmp(s, "server") == 0 && strcmp(k, "log_sessions") == 0) {
		c->log_sessions = strcmp(v, "yes") == 0;
		return c->log_sessions || strcmp(v, "no") == 0 ? 1 : expect(p, "yes or no");
	}
	UINT_KEY("server", "workers", workers, 1, SRV_WORKERS_MAX);
	UINT_KEY("server", "node_id", node_id, 0, 255);
	STR_KEY("server", "metrics", metrics);
	STR_KEY("server", "control", control);
	UINT_KEY("limits", "half_open_max", half_open_max, 16, 1u << 24);
	UINT_KEY("limits", "half_open_timeout", half_open_timeout_s, 1, 300);
	UINT_KEY("limits", "retry_above", retry_above, 0, 1u << 24);
	UINT_KEY("limits", "sessions_max", sessions_max, 16, 1u << 26);
	UINT_KEY("limits", "session_idle_timeout", session_idle_s, 5, 86400 * 7);
	UINT_KEY("limits", "session_max_age", session_max_age_s, 1, 86400 * 365);
	UINT_KEY("limits", "session_max_records", session_max_records, 1, 1u << 31);
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
backend_key(struct parse *p, const char *s, const char *k, const char *v)
{
	struct srv_config *c = p->c;

	STR_KEY("hsm", "module", hsm_module);
	STR_KEY("hsm", "token", hsm_token);
	STR_KEY("hsm", "key", hsm_key);
	STR_KEY("hsm", "pin_file", hsm_pin_file);
	UINT_KEY("hsm", "pool_threads", hsm.pool_threads, 1, 256);
	UINT_KEY("hsm", "pool_queue", hsm.pool_queue, 1, 1u << 20);
	if (strcmp(s, "database") == 0 && strcmp(k, "conninfo") == 0) {
		if (strlen(v) >= sizeof(c->db.conninfo))
			return expect(p, "at most %zu bytes", sizeof(c->db.conninfo) - 1);
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

/* Keeps "section.key=value"; a key set again replaces its entry. */
static int
remember(struct srv_config *c, const char *s, const char *k, const char *v)
{
	size_t name = strlen(s) + 1 + strlen(k) + 1, i;
	char *e = malloc(name + strlen(v) + 1);

	if (e == NULL)
		return 0;
	sprintf(e, "%s.%s=%s", s, k, v);
	for (i = 0; i < c->n_set && strncmp(c->set[i], e, name) != 0; i++)
		;
	if (i == SRV_CONF_SET_MAX) {
		free(e);
		return 0;
	}
	if (i < c->n_set)
		free(c->set[i]);
	else
		c->n_set++;
	c->set[i] = e;
	return 1;
}

static int
on_key(void *arg, const char *s, const char *k, const char *v)
{
	struct parse *p = arg;
	int r;

	p->expect[0] = '\0';
	if ((r = server_key(p, s, k, v)) == 0)
		r = backend_key(p, s, k, v);
	if (r == 1 && remember(p->c, s, k, v))
		return 1;
	if (r == 1)
		r = expect(p, "at most %d keys in a file", SRV_CONF_SET_MAX);
	/* A connection string may hold a password: never echo it. */
	if (!p->failed && r == 0)
		snprintf(p->err, p->errlen, "unknown key '%s' in section [%s]", k, s);
	else if (!p->failed)
		snprintf(p->err, p->errlen, "invalid value%s%s%s for key '%s' in section [%s]%s%s",
		    strcmp(k, "conninfo") != 0 ? " '" : "", strcmp(k, "conninfo") != 0 ? v : "",
		    strcmp(k, "conninfo") != 0 ? "'" : "", k, s, p->expect[0] != '\0' ? ": " : "",
		    p->expect);
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

static enum m2m_err
config_load(struct srv_config *c, const char *path, char *err, size_t errlen)
{
	struct parse p = { c, err, errlen, 0, "" };
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

/* A failed load releases what it read before the failure: no caller has
 * to (a SIGHUP with a broken file, m2md or m2mctl stopping on it). */
enum m2m_err
srv_config_load(struct srv_config *c, const char *path, char *err, size_t errlen)
{
	enum m2m_err e = config_load(c, path, err, errlen);

	if (e != M2M_OK)
		srv_config_free(c);
	return e;
}

void
srv_config_free(struct srv_config *c)
{
	for (size_t i = 0; i < c->n_listen; i++)
		free(c->listen[i]);
	free(c->path);
	free(c->metrics);
	free(c->control);
	free(c->hsm_module);
	free(c->hsm_token);
	free(c->hsm_key);
	free(c->hsm_pin_file);
	for (size_t i = 0; i < c->n_set; i++)
		free(c->set[i]);
	memset(c, 0, sizeof(*c));
}

/* The entry of b whose "section.key=" is e's, or NULL. */
static const char *
entry_for(const struct srv_config *b, const char *e)
{
	size_t name = (size_t)(strchr(e, '=') - e) + 1;

	for (size_t i = 0; i < b->n_set; i++)
		if (strncmp(b->set[i], e, name) == 0)
			return b->set[i];
	return NULL;
}

/* Appends "[section] key" of e unless it is a log setting. */
static size_t
note_change(const char *e, char *out, size_t len)
{
	const char *dot = strchr(e, '.'), *eq = strchr(e, '=');
	size_t used = strlen(out);

	if (strncmp(e, "server.log_", 11) == 0)
		return 0;
	snprintf(out + used, len - used, "%s[%.*s] %.*s", used > 0 ? ", " : "",
	    (int)(dot - e), e, (int)(eq - dot - 1), dot + 1);
	return 1;
}

size_t
srv_config_changed(const struct srv_config *old, const struct srv_config *fresh, char *out,
    size_t len)
{
	size_t n = 0;
	const char *o;

	out[0] = '\0';
	for (size_t i = 0; i < fresh->n_set; i++)
		if ((o = entry_for(old, fresh->set[i])) == NULL || strcmp(o, fresh->set[i]) != 0)
			n += note_change(fresh->set[i], out, len);
	for (size_t i = 0; i < old->n_set; i++)
		if (entry_for(fresh, old->set[i]) == NULL)
			n += note_change(old->set[i], out, len);
	return n;
}
