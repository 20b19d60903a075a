/* SPDX-License-Identifier: Apache-2.0 */
/* The per-session figures m2mctl sessions lists (struct sess_stats): set
 * by the owning worker on its packet path, read by the same worker when
 * the control socket asks (control.c), so they need no lock. */
#include "config.h"

#include <string.h>

#include "src/server/state.h"

static void
set_peer(struct sess_entry *e, const struct sockaddr_storage *from)
{
	size_t n = from->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);

	memset(&e->st.peer, 0, sizeof(e->st.peer));
	memcpy(&e->st.peer, from, n);
}

void
sess_stats_start(struct sess_entry *e, const struct sockaddr_storage *from, uint32_t now)
{
	memset(&e->st, 0, sizeof(e->st));
	set_peer(e, from);
	e->st.since = now;
}

/* Only records that authenticated reach here: the address is the module's
 * (it moves with NAT rebinding), not a replayer's. */
void
sess_stats_in(struct sess_entry *e, const struct sockaddr_storage *from, size_t len, int data,
    uint32_t now)
{
	set_peer(e, from);
	e->st.dgrams_in++;
	e->st.bytes_in += len;
	if (data)
		e->st.last_data = now;
}

void
sess_stats_out(struct sess_entry *e, size_t len)
{
	e->st.dgrams_out++;
	e->st.bytes_out += len;
}
