/* SPDX-License-Identifier: Apache-2.0 */
/* This node among others on one database: its connections carry its node
 * id, machine, boot and process, so that a start can tell a live m2md of
 * the same node id (colliding tokens and session ids: each would drop the
 * other's modules) from connections a crash or a reboot left behind. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "src/server/server.h"
#include "src/server/srv.h"

/* The first 8 hex digits of a file's first line (dashes skipped). */
static void
first_hex(const char *path, char out[9])
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	int c;

	while (f != NULL && n < 8 && (c = fgetc(f)) != EOF && c != '\n')
		if (c != '-')
			out[n++] = (char)c;
	if (f != NULL)
		fclose(f);
	while (n < 8)
		out[n++] = '0';
	out[8] = '\0';
}

struct self {
	char machine[9], boot[9];
	long pid;
};

static void
self_of(struct self *me)
{
	first_hex("/etc/machine-id", me->machine);
	first_hex("/proc/sys/kernel/random/boot_id", me->boot);
	me->pid = (long)getpid();
}

void
srv_node_name(struct srv_config *cfg)
{
	struct self me;

	self_of(&me);
	db_settings_node(&cfg->db, cfg->node_id, me.machine, me.boot, me.pid);
}

struct peers {
	struct self me;
	unsigned node_id, live;
	char *from;
	size_t fromlen;
};

/* Stale: left by this machine before its last boot, or by a process of
 * this boot that is gone. */
static int
stale(const struct self *me, const char *machine, const char *boot, long pid)
{
	if (strcmp(machine, me->machine) != 0)
		return 0;
	if (strcmp(boot, me->boot) != 0)
		return 1;
	return pid == me->pid || (kill((pid_t)pid, 0) != 0 && errno == ESRCH);
}

static void
on_session(void *arg, const char *name, const char *from)
{
	struct peers *p = arg;
	char machine[9], boot[9];
	unsigned node;
	long pid;
	size_t used = strlen(p->from);

	if (sscanf(name, "m2md node %u m=%8s b=%8s p=%ld", &node, machine, boot, &pid) == 4 &&
	    (node != p->node_id || stale(&p->me, machine, boot, pid)))
		return;
	if (p->live++ == 0 || strstr(p->from, from) == NULL)
		snprintf(p->from + used, p->fromlen - used, "%s%s", used > 0 ? ", " : "", from);
}

enum m2m_err
srv_node_peers(struct db_admin *a, const struct srv_config *cfg, unsigned *live, char *from,
    size_t fromlen, char *err, size_t errlen)
{
	struct peers p = { .node_id = cfg->node_id, .from = from, .fromlen = fromlen };
	char prefix[32];
	enum m2m_err e;

	self_of(&p.me);
	from[0] = '\0';
	snprintf(prefix, sizeof(prefix), "m2md node %u ", cfg->node_id);
	e = db_admin_sessions_named(a, prefix, on_session, &p, err, errlen);
	*live = p.live;
	return e;
}
