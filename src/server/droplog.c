/* SPDX-License-Identifier: Apache-2.0 */
/* Dropped datagrams, each counted by reason and, at debug level, logged
 * with its reason and source address: what an operator reads to find out
 * why one device does not get through (doc/operations.md, 6). A flood must
 * not fill the disk, so each worker logs at most SRV_DROP_LOG_PER_S lines
 * a second and then one line saying how many it left out. */
#include "config.h"

#include <netinet/in.h>

#include "src/server/log.h"
#include "src/server/srv.h"

/* The summary of the second that ended, if drops went unlogged in it. */
static void
new_second(struct worker *w, uint32_t now)
{
	struct srv_droplog *d = &w->droplog;

	if (d->second == now)
		return;
	if (d->unlogged > 0)
		log_debug("worker %u: %llu more drops not logged (at most %u lines a second)",
		    w->idx, (unsigned long long)d->unlogged, SRV_DROP_LOG_PER_S);
	d->second = now;
	d->logged = 0;
	d->unlogged = 0;
}

void
srv_drop_as(struct worker *w, const struct sockaddr_storage *from, enum m2m_err why,
    const char *module)
{
	struct srv_droplog *d = &w->droplog;
	char addr[INET6_ADDRSTRLEN + 8];

	srv_count_drop(&w->m, why);
	if (!srv_log_enabled(SRV_LOG_DEBUG))
		return;
	new_second(w, worker_now_s());
	if (d->logged >= SRV_DROP_LOG_PER_S) {
		d->unlogged++;
		return;
	}
	d->logged++;
	net_ntop(from, addr, sizeof(addr));
	if (module != NULL && module[0] != '\0')
		srv_log(SRV_LOG_DEBUG, "worker %u: handshake of module %s from %s failed: %s (%s)",
		    w->idx, module, addr, m2m_strerror(why), m2m_errname(why));
	else if (module != NULL)
		srv_log(SRV_LOG_DEBUG, "worker %u: handshake from %s failed: %s (%s)", w->idx,
		    addr, m2m_strerror(why), m2m_errname(why));
	else
		srv_log(SRV_LOG_DEBUG, "worker %u: dropped a datagram from %s: %s (%s)", w->idx,
		    addr, m2m_strerror(why), m2m_errname(why));
}

void
srv_drop(struct worker *w, const struct sockaddr_storage *from, enum m2m_err why)
{
	srv_drop_as(w, from, why, NULL);
}

void
srv_drop_tick(struct worker *w)
{
	if (srv_log_enabled(SRV_LOG_DEBUG))
		new_second(w, worker_now_s());
	else	/* the level went down (SIGHUP): no stale summary when it comes back */
		w->droplog.unlogged = 0;
}
