/* SPDX-License-Identifier: Apache-2.0 */
/* Reading datagrams: a batch per system call (recvmmsg), and what only the
 * kernel knows of them: how many it dropped on the socket before m2md read
 * them (SO_RXQ_OVFL: a full receive buffer, rarely a socket filter) and
 * when each arrived (SO_TIMESTAMPNS), so a loop that falls behind shows. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "src/server/srv.h"

#define RX_BATCH	16
#define RX_PER_WAKEUP	64	/* bounded: the loop stays fair to its timers */

struct srv_rx {
	struct srv_pkt pkt[RX_BATCH];
	struct mmsghdr hdr[RX_BATCH];
	struct iovec iov[RX_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} ctl[RX_BATCH];
	uint32_t ovfl[SRV_LISTEN_MAX];	/* the kernel's drop count, last seen */
};

enum m2m_err
srv_rx_new(struct srv_rx **out)
{
	return (*out = calloc(1, sizeof(**out))) != NULL ? M2M_OK : M2M_E_NOMEM;
}

void
srv_rx_free(struct srv_rx *rx)
{
	free(rx);
}

static void
prepare(struct srv_rx *rx)
{
	for (unsigned i = 0; i < RX_BATCH; i++) {
		struct msghdr *h = &rx->hdr[i].msg_hdr;

		rx->iov[i].iov_base = rx->pkt[i].buf;
		rx->iov[i].iov_len = sizeof(rx->pkt[i].buf);
		memset(h, 0, sizeof(*h));
		h->msg_name = &rx->pkt[i].from;
		h->msg_namelen = sizeof(rx->pkt[i].from);
		h->msg_iov = &rx->iov[i];
		h->msg_iovlen = 1;
		h->msg_control = rx->ctl[i].buf;
		h->msg_controllen = sizeof(rx->ctl[i].buf);
	}
}

static uint64_t
ns_of(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

/* The kernel attaches its running drop count to datagrams queued after a
 * drop (the counter grows by the difference), and to each its arrival on
 * the real-time clock, which is why "now" is read on that clock too. */
static void
note_kernel(struct worker *w, unsigned sock, struct msghdr *h, uint64_t now)
{
	struct cmsghdr *c;
	struct timespec ts;
	uint32_t total;

	for (c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SO_RXQ_OVFL) {
			memcpy(&total, CMSG_DATA(c), sizeof(total));
			srv_count(&w->m, SRV_C_rcvbuf_drops, (uint32_t)(total - w->rx->ovfl[sock]));
			w->rx->ovfl[sock] = total;
		} else if (c->cmsg_type == SO_TIMESTAMPNS) {
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			/* A clock stepped back between the two reads is not a wait. */
			srv_observe(&w->m, SRV_H_rx_wait, now > ns_of(&ts) ? now - ns_of(&ts) : 0);
		}
	}
}

static unsigned
socket_index(const struct worker *w, int fd)
{
	unsigned i;

	for (i = 0; i + 1 < w->n_fds && w->fds[i] != fd; i++)
		;
	return i;
}

void
worker_on_read(int fd, short what, void *arg)
{
	struct worker *w = arg;
	struct srv_rx *rx = w->rx;
	unsigned sock = socket_index(w, fd), done = 0;
	struct timespec now;
	int n, i;

	(void)what;
	while (done < RX_PER_WAKEUP && !w->stopping) {
		prepare(rx);
		/* MSG_TRUNC: the real length of an oversized datagram, to drop it. */
		if ((n = recvmmsg(fd, rx->hdr, RX_BATCH, MSG_TRUNC, NULL)) <= 0)
			break;
		clock_gettime(CLOCK_REALTIME, &now);
		for (i = 0; i < n; i++) {
			struct srv_pkt *p = &rx->pkt[i];

			note_kernel(w, sock, &rx->hdr[i].msg_hdr, ns_of(&now));
			p->len = rx->hdr[i].msg_len;
			p->fromlen = rx->hdr[i].msg_hdr.msg_namelen;
			p->fd = fd;
			srv_count(&w->m, SRV_C_datagrams_in, 1);
			srv_count(&w->m, SRV_C_bytes_in, p->len);
			if (p->len > PROTO_DATAGRAM_MAX)
				srv_drop(w, &p->from, M2M_E_PROTO_OVERSIZE);
			else if (w->stopping)	/* read in the batch that saw the stop */
				srv_drop(w, &p->from, M2M_E_SRV_BUSY);
			else
				worker_dispatch(w, p);
		}
		done += (unsigned)n;
		if (n < RX_BATCH)
			break;		/* drained: level-triggered, it wakes us again */
	}
}
