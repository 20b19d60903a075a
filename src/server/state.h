/* SPDX-License-Identifier: Apache-2.0 */
/* The per-worker state tables: half-open handshakes (a FIFO slab, since all
 * expire after the same time) and established sessions (a slab with a free
 * list and an idle sweep). Both bounded by configuration. */
#ifndef M2M_SRV_STATE_H
#define M2M_SRV_STATE_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "src/proto/proto.h"
#include "src/server/table.h"

struct halfopen;

/* A HELLO's CHALLENGE (while its entry is open) and an AUTH's WELCOME (once
 * done) are sent again this many times at most: a module resends a few
 * times, whoever captured either could replay it without end. */
#define SRV_ANSWERS_AGAIN	4

struct ho_entry {
	struct proto_srv_hs hs;
	uint32_t expires;		/* monotonic seconds */
	uint8_t in_use;
	uint8_t auth_tag[8];		/* of the AUTH that completed */
	uint8_t welcome_len;		/* 0: no WELCOME kept */
	uint8_t by_hello;		/* findable by its E_m (ho_find_hello) */
	uint8_t hello_tag[8];		/* SHA-256(source address || HELLO), cut */
	uint8_t answers_again;		/* CHALLENGEs, then WELCOMEs, sent again */
};

/* Once the handshake is done its secrets are wiped, and the WELCOME is kept
 * in their place to answer a retransmitted AUTH: no allocation, so an
 * entry costs the same whatever its state. 0 when it does not fit. */
int ho_keep_welcome(struct halfopen *h, struct ho_entry *e, const uint8_t *welcome,
    size_t len, const uint8_t tag[8]);
const uint8_t *ho_welcome(const struct ho_entry *e);
/* Bytes the table holds per entry it can hold (slab, ring, hash slots). */
size_t ho_bytes_per_entry(const struct halfopen *h);

/* Slots are numbered 1..cap (0: none). Live entries are chained in the
 * order they were made, which is the order they expire in (all live the
 * same time); a slot freed early goes back to the free chain at once. */
struct halfopen {
	struct ho_entry *ring;		/* ring[i - 1] is slot i */
	uint32_t *prev, *next;		/* links, kept apart: ho_remove wipes the entry */
	size_t cap;
	uint32_t oldest, newest;	/* live chain */
	uint32_t free;			/* free chain, through next */
	struct srv_table table;		/* by token */
	struct srv_table by_em;		/* by the X of E_m, to answer a HELLO again */
};

enum m2m_err ho_init(struct halfopen *h, size_t cap);
void ho_free(struct halfopen *h);
/* A free slot, or NULL when every slot holds a live entry; ho_commit
 * takes it and makes it findable. */
struct ho_entry *ho_next(struct halfopen *h);
enum m2m_err ho_commit(struct halfopen *h, struct ho_entry *e, uint32_t expires);
struct ho_entry *ho_find(struct halfopen *h, const uint8_t token[PROTO_TOKEN_LEN]);
/* The entry a HELLO with this E_m (compressed, as on the wire) made, while
 * it holds E_m: a retransmitted HELLO gets its CHALLENGE again. */
struct ho_entry *ho_find_hello(struct halfopen *h, const uint8_t e_m[PROTO_POINT_LEN]);
void ho_remove(struct halfopen *h, struct ho_entry *e);
void ho_expire(struct halfopen *h, uint32_t now);
size_t ho_count(const struct halfopen *h);

/* The path (address and port) a session last heard a resent DATA from,
 * and its credit: the bytes of resends received from it less those sent
 * to it in answers (record.c), so never more than it sent. */
struct sess_path {
	uint8_t addr[18];		/* net_addr_bytes with the port */
	uint8_t len;			/* 0: none yet */
	uint32_t credit;
};

/* What m2mctl sessions shows of a session (control.c): where its last
 * authenticated record came from, since when, and its records each way
 * (DATA and REKEY in; DATA_ACK and REKEY_ACK out). Written by the owning
 * worker only (sess_stats.c). */
struct sess_stats {
	struct sockaddr_in6 peer;	/* large enough for a sockaddr_in too */
	uint32_t since, last_data;	/* monotonic seconds; last_data 0: none yet */
	uint32_t dgrams_in, dgrams_out;
	uint64_t bytes_in, bytes_out;
};

struct sess_entry {
	struct proto_session s;		/* s.id is the key */
	int64_t module_id;
	/* What reports.session_id holds for this session: drawn at random,
	 * never on the wire, so that a database dump and recorded traffic
	 * cannot be joined on the session id. */
	uint8_t report_id[PROTO_SESSION_ID_LEN];
	uint32_t last_active;		/* monotonic seconds */
	uint32_t started;		/* monotonic seconds, at the WELCOME */
	uint32_t records;		/* records opened (session_max_records) */
	uint16_t inflight;		/* writes awaiting commit: not swept meanwhile */
	uint8_t in_use;
	uint8_t closed;			/* ended, released once inflight is 0 */
	uint8_t answers_left;		/* DATA resends still to answer (record.c) */
	struct sess_path resend;	/* where resends come from, with its credit */
	struct sess_stats st;
	uint32_t next_free;
};

struct sessions {
	struct sess_entry *slab;
	size_t cap, hand;
	uint32_t free_head;		/* cap: none */
	struct srv_table table;
};

enum m2m_err sess_init(struct sessions *t, size_t cap);
void sess_free(struct sessions *t);
/* A fresh entry (its id still to be set) or NULL when full. */
struct sess_entry *sess_alloc(struct sessions *t);
enum m2m_err sess_insert(struct sessions *t, struct sess_entry *e);
void sess_release(struct sessions *t, struct sess_entry *e);
/* Ends a session at once (no record finds it any more); its memory goes
 * back to the free list when the last write in flight has finished
 * (sess_done). */
void sess_close(struct sessions *t, struct sess_entry *e);
/* A write in flight on e has finished. */
void sess_done(struct sessions *t, struct sess_entry *e);
struct sess_entry *sess_find(struct sessions *t, const uint8_t id[PROTO_SESSION_ID_LEN]);
/* Looks at `budget` slots and ends sessions idle since before `cutoff`. */
void sess_sweep(struct sessions *t, uint32_t cutoff, size_t budget);
size_t sess_count(const struct sessions *t);
size_t sess_bytes_per_entry(const struct sessions *t);

/* sess_stats.c: a session established from `from`, a record received
 * from it (data: a DATA), an answer sent. */
void sess_stats_start(struct sess_entry *e, const struct sockaddr_storage *from, uint32_t now);
void sess_stats_in(struct sess_entry *e, const struct sockaddr_storage *from, size_t len,
    int data, uint32_t now);
void sess_stats_out(struct sess_entry *e, size_t len);

#endif
