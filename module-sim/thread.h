/* SPDX-License-Identifier: Apache-2.0 */
/* Private to thread.c and vmod.c: a worker thread and its slots. A slot is
 * one connected socket carrying one virtual module's session at a time. */
#ifndef SIM_THREAD_H
#define SIM_THREAD_H

#include <event2/event.h>

#include "module-sim/sim.h"

enum sim_slot_state {
	SLOT_FREE = 0,		/* no module; its timer may be a delayed start */
	SLOT_HELLO,		/* HELLO sent, waiting for CHALLENGE or RETRY */
	SLOT_AUTH,		/* AUTH sent for each CHALLENGE, waiting for WELCOME */
	SLOT_DATA,		/* DATA sent, waiting for DATA_ACK */
	SLOT_PAUSE,		/* long-lived session between two DATA */
};

struct sim_slot {
	struct sim_thread *t;
	int fd;
	struct event *rd, *tm;
	enum sim_slot_state st;
	struct sim_mod *mod;
	struct proto_mod_hs hs;
	struct proto_session s;
	uint8_t prev_sid[PROTO_SESSION_ID_LEN];	/* to ignore late duplicates */
	uint8_t last[PROTO_DATAGRAM_MAX];	/* what a retransmission resends */
	size_t last_len;
	/* In SLOT_AUTH a retransmission resends these instead: the AUTH of each
	 * CHALLENGE answered, at its candidate's index (a forged CHALLENGE
	 * cannot be told from the server's), t->auth_cap bytes each. All have
	 * one length: one identity, one first data. */
	uint8_t *auth;
	size_t auth_len;
	unsigned n_auth;
	int bad_welcome;			/* a WELCOME of this handshake did not verify */
	unsigned tries, retry_answers;
	uint64_t t_start_ns;		/* intended start of the handshake */
	uint64_t t_msg_ns;		/* intended send time of the current DATA */
	uint64_t rx_ns;			/* arrival of the datagram being handled */
	unsigned data_done;
	int resumed;				/* the DATA in flight already got a new session */
	uint64_t seq;			/* of the current DATA (its resends are the same record) */
	uint8_t acks_sent;
};

struct sim_thread {
	struct sim_run *run;
	const struct sim_opts *o;
	unsigned index;
	pthread_t tid;
	atomic_int done, stop_mode;	/* stop_mode: 1 drain, 2 now */
	struct event_base *base;
	struct proto_ctx *ctx;
	struct event *stop_ev, *arrive_ev, *end_ev;
	struct sim_slot *slots;
	unsigned n_slots, n_busy;
	uint8_t *auth_buf;		/* the slots' AUTHs */
	size_t auth_cap;
	unsigned *free_slots, n_free;
	struct sim_mod **ring;		/* idle modules, FIFO: round-robin */
	size_t ring_cap, ring_head, ring_len;
	uint64_t quota, started;	/* quota 0: no --count */
	double rate;			/* this thread's share, open loop */
	int draining;
	uint64_t loss_rng;		/* --loss: which datagrams are lost */
	struct proto_mod_prep *prep;	/* --precompute: this thread's share, used from the end */
	size_t n_prep, prep_cap;
	uint8_t payload[SIM_PAYLOAD_MAX];
	struct sim_stats stats;
};

/* vmod.c: one session of one module on a slot. */
void sim_vmod_start(struct sim_slot *sl, struct sim_mod *m, uint64_t intended_ns);
void sim_vmod_on_read(evutil_socket_t fd, short what, void *arg);
void sim_vmod_on_timer(evutil_socket_t fd, short what, void *arg);
/* Ends a long-lived session that is between two DATA (drain). */
void sim_vmod_close_idle(struct sim_slot *sl);
int sim_vmod_open_socket(struct sim_slot *sl);

/* thread.c: called by vmod.c. */
void sim_thread_slot_done(struct sim_slot *sl, int ok);
void sim_thread_slot_ready(struct sim_slot *sl);
void sim_timer_at(struct event *ev, uint64_t at_ns);

#endif
