/* SPDX-License-Identifier: Apache-2.0 */
/* Completion into the requester's loop: workers push finished requests on
 * the client's list and write its eventfd; the loop runs the callbacks.
 * An eventfd, not event_active, so no libevent locking setup is assumed. */
#include "config.h"

#include "hsm/pool_int.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>

void
hsm_pool_complete(struct hsm_req *r)
{
	struct hsm_pool_client *c = r->c;
	uint64_t one = 1;
	int was_empty;

	pthread_mutex_lock(&c->mu);
	was_empty = c->done == NULL;
	r->next = c->done;
	c->done = r;
	pthread_mutex_unlock(&c->mu);
	/* The loop drains the whole list per wakeup: one write per batch. */
	if (was_empty)
		while (write(c->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
}

static struct hsm_req *
reversed(struct hsm_req *r)
{
	struct hsm_req *out = NULL, *next;

	for (; r != NULL; r = next) {
		next = r->next;
		r->next = out;
		out = r;
	}
	return out;
}

static void
on_done(evutil_socket_t fd, short what, void *arg)
{
	struct hsm_pool_client *c = arg;
	struct hsm_req *list, *r;
	uint64_t n;

	(void)what;
	/* Read first, then take the list: a push after the take rings again. */
	while (read(fd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&c->mu);
	list = reversed(c->done);
	c->done = NULL;
	pthread_mutex_unlock(&c->mu);
	for (r = list; r != NULL; r = r->next) {
		r->done(r->arg, r->err, r->err == M2M_OK ? r->secret : NULL, r->detail);
		OPENSSL_cleanse(r->secret, sizeof(r->secret));
	}
	hsm_pool_release(c->p, list);
}

enum m2m_err
hsm_pool_client_new(struct hsm_pool *p, struct event_base *base, struct hsm_pool_client **out)
{
	struct hsm_pool_client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return M2M_E_NOMEM;
	c->p = p;
	pthread_mutex_init(&c->mu, NULL);
	c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->efd < 0 || (c->ev = event_new(base, c->efd, EV_READ | EV_PERSIST, on_done, c)) ==
	    NULL || event_add(c->ev, NULL) != 0) {
		enum m2m_err e = c->efd < 0 ? M2M_E_IO : M2M_E_NOMEM;

		hsm_pool_client_free(c);
		return e;
	}
	*out = c;
	return M2M_OK;
}

void
hsm_pool_client_free(struct hsm_pool_client *c)
{
	if (c == NULL)
		return;
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->efd >= 0)
		close(c->efd);
	/* Finished but never delivered: the slots go back, no callbacks. */
	hsm_pool_release(c->p, c->done);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
