/* SPDX-License-Identifier: Apache-2.0 */
/* Rate-limited log lines for database errors on the packet path (see
 * dberr.h): bounded state per worker, no allocation. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "src/server/dberr.h"
#include "src/server/log.h"

#define INTERVAL_MS	1000u

/* Classes that say the database is busy, restarting or going away: they
 * pass. The others (privileges, schema, constraints, ...) need someone. */
static int
transient(const char *cls)
{
	static const char *const t[] = { "08", "25", "40", "53", "55", "57", "58" };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(cls, t[i]) == 0)
			return 1;
	return 0;
}

static void
line_left_out(const struct srv_dberr_class *c, unsigned worker)
{
	srv_log(transient(c->cls) ? SRV_LOG_WARN : SRV_LOG_ERR, "worker %u: %u more database"
	    " errors of class %s not logged since the last line (the last: SQLSTATE %s)",
	    worker, c->left_out, c->cls, c->last);
}

/* The slot of cls: its own, a free one, or the one quiet longest (its
 * count written out first). */
static struct srv_dberr_class *
slot(struct srv_dberr *d, unsigned worker, const char *cls, uint32_t now_ms)
{
	struct srv_dberr_class *c, *old = &d->c[0];

	for (c = d->c; c < d->c + SRV_DBERR_CLASSES; c++) {
		if (strcmp(c->cls, cls) == 0)
			return c;
		if (c->cls[0] == '\0' || (old->cls[0] != '\0' &&
		    now_ms - c->logged_ms > now_ms - old->logged_ms))
			old = c;
	}
	if (old->cls[0] != '\0' && old->left_out > 0)
		line_left_out(old, worker);
	memset(old, 0, sizeof(*old));
	memcpy(old->cls, cls, 2);
	old->logged_ms = now_ms - INTERVAL_MS;
	return old;
}

void
srv_dberr_log(struct srv_dberr *d, unsigned worker, const char *conn,
    const struct db_error *e, uint32_t now_ms)
{
	char cls[3] = "??", more[80] = "";
	struct srv_dberr_class *c;

	if (strlen(e->sqlstate) == 5)
		memcpy(cls, e->sqlstate, 2);
	c = slot(d, worker, cls, now_ms);
	memcpy(c->last, e->sqlstate, sizeof(c->last));
	if (now_ms - c->logged_ms < INTERVAL_MS) {
		c->left_out++;
		return;
	}
	if (c->left_out > 0)
		snprintf(more, sizeof(more), " (%u more of class %s not logged since the last)",
		    c->left_out, cls);
	srv_log(transient(cls) ? SRV_LOG_WARN : SRV_LOG_ERR,
	    "worker %u: database error (%s): SQLSTATE %s: %s%s%s", worker, conn,
	    e->sqlstate[0] ? e->sqlstate : "none", e->message,
	    strcmp(e->sqlstate, "42501") == 0 ?
	    " (m2md -t names what is missing; m2mctl db grant gives it)" : "", more);
	c->logged_ms = now_ms;
	c->left_out = 0;
}

void
srv_dberr_flush(struct srv_dberr *d, unsigned worker, uint32_t now_ms)
{
	for (struct srv_dberr_class *c = d->c; c < d->c + SRV_DBERR_CLASSES; c++)
		if (c->cls[0] != '\0' && c->left_out > 0 && now_ms - c->logged_ms >= INTERVAL_MS) {
			line_left_out(c, worker);
			c->logged_ms = now_ms;
			c->left_out = 0;
		}
}
