/* SPDX-License-Identifier: Apache-2.0 */
/* The database layer's public face: every PostgreSQL access of m2md and
 * m2mctl goes through these db_ calls; only db/ includes libpq-fe.h.
 *
 * Two halves. db_admin_*: blocking, for m2mctl and for startup. db_async_*,
 * db_lookup_*, db_write_*: non-blocking, inside the caller's libevent loop
 * (one struct db_async per loop/thread, one connection each). */
#ifndef M2M_DB_H
#define M2M_DB_H

#include <stddef.h>
#include <stdint.h>

#include "src/proto/proto.h"

struct event_base;

#define DB_CONNINFO_MAX		1024
#define DB_INSTR_BODY_MAX	1000	/* CHECK of instructions.body */

/* ---- Settings ---------------------------------------------------------- */

/* Everything the layer can be told. A config file layer fills it first
 * ([database] conninfo = ...), then db_settings_conninfo() applies the
 * environment and the command line on top. */
struct db_settings {
	/* libpq conninfo or URI; "" means libpq's defaults (PG* environment
	 * variables, service files, ~/.pgpass). */
	char conninfo[DB_CONNINFO_MAX];
	unsigned batch_max;		/* items per group-commit transaction (128) */
	unsigned batch_delay_us;	/* longest wait of a first item for company (0) */
	unsigned inflight_max;		/* batches in the pipeline at once (2) */
	unsigned queue_max;		/* lookups plus items waiting or in flight (65536) */
	unsigned backoff_min_ms;	/* first reconnect delay (100), doubled... */
	unsigned backoff_max_ms;	/* ...up to this (10000) */
	unsigned instr_max;		/* instructions per answer (PROTO_INSTR_MAX) */
	unsigned instr_bytes;		/* their bodies + 10 bytes each, per answer (1024) */
	/* application_name of the server's connections ("m2md"; m2md names
	 * its node): how another node sees that a node id is taken. */
	char app_name[64];
};

void db_settings_init(struct db_settings *s);
/* Applies the command line (--db, arg may be NULL) over $M2M_DB over what
 * s already holds. A password in either is refused (M2M_E_DB_PASSWORD):
 * argv and the environment are visible to other local users and end up in
 * shell histories and unit files; PGPASSFILE or ~/.pgpass are the way. */
/* Names node node_id's connections "m2md node N m=MACHINE b=BOOT p=PID"
 * (8 hex digits of the machine id and boot id): enough for another start
 * to tell a live node of the same id from what a crash or a reboot left. */
void db_settings_node(struct db_settings *s, unsigned node_id, const char *machine,
    const char *boot, long pid);
enum m2m_err db_settings_conninfo(struct db_settings *s, const char *arg,
    char *err, size_t errlen);
/* M2M_E_DB_PASSWORD if conninfo sets a password, M2M_E_CONFIG if libpq
 * cannot parse it. */
enum m2m_err db_conninfo_check(const char *conninfo, char *err, size_t errlen);

/* ---- Blocking administration (m2mctl, startup, tests) ------------------ */

struct db_admin;

enum m2m_err db_admin_open(const char *conninfo, struct db_admin **out,
    char *err, size_t errlen);
void db_admin_close(struct db_admin *a);
/* Explicit transactions, so that a command changes all or nothing. */
enum m2m_err db_admin_begin(struct db_admin *a, char *err, size_t errlen);
enum m2m_err db_admin_commit(struct db_admin *a, char *err, size_t errlen);
void db_admin_rollback(struct db_admin *a);
/* Runs one statement with text parameters; copies the first column of the
 * first row (if any, "" otherwise) into out. For tests and one-off
 * queries; sqlstate (6 bytes, may be NULL) receives the error's SQLSTATE. */
enum m2m_err db_admin_exec(struct db_admin *a, const char *sql, int nparams,
    const char *const *params, char *out, size_t outlen, char *sqlstate,
    char *err, size_t errlen);

/* Migrations: dir holds NNN_name.sql. The directory: the option if given,
 * else $M2M_MIGRATIONS_DIR, else PKGDATADIR/migrations. */
const char *db_migrations_dir(const char *option);
struct db_migration {
	unsigned version;
	char name[128];			/* file name */
	int applied;
	char applied_at[40];		/* "" when pending */
	int modified;			/* applied, but the file changed since */
	int missing;			/* applied, but no file for it */
	/* Servers of the release before it keep working with it applied:
	 * 1 yes, 0 no, -1 not declared. From the file's "-- m2md-compat:
	 * servers-before-keep-working yes|no" line, or, for a migration this
	 * release has no file of (applied by a newer m2mctl), from what that
	 * m2mctl recorded. */
	int compat;
};
typedef void (*db_migration_cb)(void *arg, const struct db_migration *m);
/* Applies each pending migration in its own transaction, in order, under an
 * advisory lock; cb is told about each one applied. Then makes sure report
 * partitions exist for the coming months. */
enum m2m_err db_migrate(struct db_admin *a, const char *dir, db_migration_cb cb,
    void *arg, unsigned *applied, char *err, size_t errlen);
/* Calls cb for every migration known to the directory or the database
 * (for a server: those with missing set are newer than it). */
enum m2m_err db_migration_status(struct db_admin *a, const char *dir,
    db_migration_cb cb, void *arg, char *err, size_t errlen);
/* Writes the uncompressed form of every current and pending module key
 * that lacks it (keys from before migration 007); filled: how many;
 * invalid: stored keys that are no curve point, left as they are. */
enum m2m_err db_admin_fill_full_keys(struct db_admin *a, size_t *filled, size_t *invalid,
    char *err, size_t errlen);
/* Creates the monthly report partitions up to months_ahead; returns how many. */
enum m2m_err db_admin_partitions(struct db_admin *a, int months_ahead,
    int *created, char *err, size_t errlen);

/* The roles m2md's database is used with, each granted the least it needs
 * (db/grants.c): the server (m2md), the administrator (m2mctl, all but
 * db migrate and db maintain, which run as the schema's owner) and
 * applications. */
enum db_role { DB_ROLE_SERVER, DB_ROLE_ADMIN, DB_ROLE_APP };
/* Grants role's privileges to the role called name; run as the schema's
 * owner, inside the caller's transaction if any. */
enum m2m_err db_admin_grant(struct db_admin *a, enum db_role role, const char *name,
    char *err, size_t errlen);
/* Tells cb each privilege of role that the connected role lacks (in GRANT
 * syntax: "UPDATE (last_seen) ON modules"); n: how many. A table or
 * function that does not exist counts as lacking. */
typedef void (*db_priv_cb)(void *arg, const char *missing);
enum m2m_err db_admin_check_privileges(struct db_admin *a, enum db_role role,
    db_priv_cb cb, void *arg, size_t *n, char *err, size_t errlen);

/* Server keys. Registers the public half of an HSM key (label may be "").
 * M2M_E_DB_DUPLICATE if this key id is already registered. */
enum m2m_err db_admin_server_key_add(const char *conninfo, const uint8_t key_id[4],
    const uint8_t pub[33], const char *label, char *err, size_t errlen);
/* The most recently registered active key; M2M_E_DB_NO_SERVER_KEY if none. */
enum m2m_err db_admin_server_key_latest(struct db_admin *a, uint8_t key_id[4],
    uint8_t pub[33], char *err, size_t errlen);
/* Calls cb for each other session whose application name starts with
 * prefix, with that name and where it connects from ("10.0.0.2", "a local
 * socket"). */
typedef void (*db_session_cb)(void *arg, const char *app_name, const char *from);
enum m2m_err db_admin_sessions_named(struct db_admin *a, const char *prefix, db_session_cb cb,
    void *arg, char *err, size_t errlen);
/* A registered server key as the server compares it with its token. */
struct db_server_key {
	uint8_t key_id[4];
	uint8_t pub[33];
	char label[65];			/* cut to 64 bytes */
	int active;			/* state 'active', else 'retired' */
};
/* All registered keys, active and retired, active first then newest first,
 * for the server at startup: up to cap of them; *more tells whether there
 * were more. */
enum m2m_err db_admin_server_keys(struct db_admin *a, struct db_server_key *keys,
    size_t cap, size_t *n, int *more, char *err, size_t errlen);

/* Enrollment of one module: identity, current key pub, first pseudonym.
 * M2M_E_DB_DUPLICATE names what collided (identity or key) in err. */
enum m2m_err db_admin_enroll(struct db_admin *a, const char *identity,
    const uint8_t pub[33], const uint8_t *pseudonym, size_t pseudonym_len,
    int64_t *id, char *err, size_t errlen);
/* Bulk enrollment inside the caller's transaction (db_admin_begin first):
 * start, one row per module (streamed with COPY), end; then commit. */
enum m2m_err db_admin_bulk_start(struct db_admin *a, char *err, size_t errlen);
enum m2m_err db_admin_bulk_row(struct db_admin *a, const char *identity,
    const uint8_t pub[33], const uint8_t pseudonym[PROTO_PSEUDONYM_LEN],
    char *err, size_t errlen);
enum m2m_err db_admin_bulk_end(struct db_admin *a, size_t *n, char *err, size_t errlen);

/* What m2mctl shows of a module. Times are text as PostgreSQL prints them. */
struct db_module_info {
	int64_t id;
	char identity[PROTO_IDENTITY_MAX + 1];
	char status[16];
	uint8_t pseudonym[PROTO_PSEUDONYM_MAX];
	size_t pseudonym_len;
	uint8_t previous[PROTO_PSEUDONYM_MAX];
	size_t previous_len;		/* 0: none */
	char created_at[40];
	char last_seen[40];		/* "" never */
	char last_handshake_at[40];	/* "" never; db_admin_module only */
	char last_address[48];		/* of the last handshake; "" unknown */
	uint8_t key[PROTO_POINT_LEN];	/* current key */
	int has_key;
	long long reports;		/* count; -1 when not asked */
	long long instr_open;		/* queued or sent */
};
typedef void (*db_module_cb)(void *arg, const struct db_module_info *m);
/* status may be NULL (all); newest first. */
enum m2m_err db_admin_modules(struct db_admin *a, const char *status,
    long limit, db_module_cb cb, void *arg, char *err, size_t errlen);
/* M2M_E_DB_NOT_FOUND if no module has this identity. */
enum m2m_err db_admin_module(struct db_admin *a, const char *identity,
    struct db_module_info *m, char *err, size_t errlen);

struct db_key_info {
	uint8_t pub[PROTO_POINT_LEN];
	char state[16];
	char created_at[40], valid_from[40], valid_until[40];
};
typedef void (*db_key_cb)(void *arg, const struct db_key_info *k);
enum m2m_err db_admin_module_keys(struct db_admin *a, int64_t module_id,
    db_key_cb cb, void *arg, char *err, size_t errlen);

/* suspend / resume / revoke: status is "active", "suspended" or "revoked".
 * Revoking also revokes the module's current and pending keys. M2M_E_DB_STATE
 * when the module is revoked (final) or already in that status. */
enum m2m_err db_admin_set_status(struct db_admin *a, const char *identity,
    const char *status, char *err, size_t errlen);
/* Administrative rotation: pub becomes current at once, the current one is
 * retired and a pending one revoked. */
enum m2m_err db_admin_rotate_key(struct db_admin *a, const char *identity,
    const uint8_t pub[33], char *err, size_t errlen);

/* Queues an instruction (body <= DB_INSTR_BODY_MAX bytes). */
enum m2m_err db_admin_instruct(struct db_admin *a, const char *identity,
    const uint8_t *body, size_t len, int64_t *id, char *err, size_t errlen);
struct db_instr_info {
	int64_t id;
	char state[16];
	char created_at[40], sent_at[40], acknowledged_at[40];
	int sent_count;
	const uint8_t *body;
	size_t body_len;
};
typedef void (*db_instr_cb)(void *arg, const struct db_instr_info *i);
/* Newest first; open_only: those queued or sent, not yet acknowledged. */
enum m2m_err db_admin_instructions(struct db_admin *a, int64_t module_id, long limit,
    int open_only, db_instr_cb cb, void *arg, char *err, size_t errlen);

struct db_report_info {
	int64_t id;
	char identity[PROTO_IDENTITY_MAX + 1];
	char received_at[40];
	uint8_t session_id[PROTO_SESSION_ID_LEN];
	uint64_t seq;
	const uint8_t *payload;		/* valid during the callback */
	size_t payload_len;
};
typedef void (*db_report_cb)(void *arg, const struct db_report_info *r);
/* Most recent first; identity may be NULL (all modules). */
enum m2m_err db_admin_reports(struct db_admin *a, const char *identity, long limit,
    db_report_cb cb, void *arg, char *err, size_t errlen);

/* ---- Non-blocking access from a libevent loop --------------------------- */

/* One connection driven by one event_base: libpq in non-blocking pipeline
 * mode, prepared statements, reconnection with backoff. Not thread-safe:
 * every call below from the loop's thread. */
struct db_async;

/* Told when the connection comes up (err M2M_OK, ready for requests) and
 * when it goes down (err and libpq's detail). Requests made while down are
 * refused at once with M2M_E_DB_UNAVAILABLE. */
typedef void (*db_state_cb)(void *arg, enum m2m_err err, const char *detail);

/* A statement failed while the connection stays up (permissions, schema,
 * constraints, ...): told once per failed lookup or batch, before the
 * callbacks of its requests, which only get M2M_E_DB_QUERY or
 * M2M_E_DB_BATCH. The caller logs it: db/ never does. */
struct db_error {
	char sqlstate[6];		/* "42501"; "" if the server sent none */
	char message[200];		/* PostgreSQL's primary message, one line */
};
typedef void (*db_error_cb)(void *arg, const struct db_error *e);

/* Starts connecting (PQconnectStart) and returns; the loop does the rest. */
enum m2m_err db_async_new(struct event_base *base, const struct db_settings *s,
    db_state_cb state_cb, void *arg, struct db_async **out, char *err, size_t errlen);
/* Fails every request not yet answered with M2M_E_DB_SHUTDOWN (callbacks run
 * inside this call), then closes the connection. */
void db_async_free(struct db_async *db);
int db_async_up(const struct db_async *db);
/* Where failed statements are told (cb NULL: nowhere). */
void db_async_on_error(struct db_async *db, db_error_cb cb, void *arg);
/* The server process id of the connection (0 when down): for logs and tests. */
int db_async_backend_pid(const struct db_async *db);

struct db_async_stats {
	uint64_t lookups, batches, items_committed, items_failed, reconnects;
	unsigned queued;		/* items waiting for a batch */
	unsigned inflight;		/* requests sent, not yet answered */
};
void db_async_get_stats(const struct db_async *db, struct db_async_stats *st);

/* Lookups. */
enum db_status { DB_ACTIVE = 0, DB_SUSPENDED = 1, DB_REVOKED = 2 };
struct db_module {
	int64_t id;			/* modules.id: what db_write_* take */
	enum db_status status;
	struct proto_module_rec rec;	/* rec.active == (status == DB_ACTIVE) */
};
/* Called once, from the loop, never from inside the request call. err:
 * M2M_OK (m valid during the call), M2M_E_DB_NOT_FOUND (m NULL), or a
 * failure (M2M_E_DB_UNAVAILABLE, M2M_E_DB_QUERY, M2M_E_DB_SHUTDOWN). */
typedef void (*db_lookup_cb)(void *arg, enum m2m_err err, const struct db_module *m);
/* By pseudonym: matches the module's pseudonym or its previous one. */
enum m2m_err db_lookup_pseudonym(struct db_async *db, const uint8_t *pseudonym,
    size_t len, db_lookup_cb cb, void *arg);
enum m2m_err db_lookup_identity(struct db_async *db, const char *identity, size_t len,
    db_lookup_cb cb, void *arg);

/* Group-commit writes. Each request is copied at once; the callback runs
 * once, from the loop, after the transaction of its batch ended, with r
 * never NULL:
 *   M2M_OK: committed (COMMIT returned); r lists the instructions now
 *     marked sent, to put in the WELCOME or DATA_ACK (bodies valid during
 *     the call only), and for a handshake the pseudonym the WELCOME carries.
 *   M2M_E_DB_REJECTED: committed, but the module is not active (or REKEY
 *     reused a key): nothing of this item changed.
 *   M2M_E_DB_BATCH, M2M_E_DB_UNAVAILABLE, M2M_E_DB_SHUTDOWN: not known to
 *     be committed; never acknowledge it (the module will retry).
 * A failed statement rolls back its whole batch: every item of it fails. */
struct db_write_result {
	const char *detail;		/* why it failed (libpq's message), or "" */
	int64_t module_id;
	struct proto_instr instr[PROTO_INSTR_MAX];
	size_t n_instr;
	/* Handshake: the module's current pseudonym after the commit, to send
	 * in the WELCOME. The new one if the module presented its current
	 * pseudonym, else (it presented the previous one, or another handshake
	 * committed first) the one the database holds: never rewound. */
	uint8_t pseudonym[PROTO_PSEUDONYM_MAX];
	size_t pseudonym_len;
};
typedef void (*db_write_cb)(void *arg, enum m2m_err err, const struct db_write_result *r);

struct sockaddr_storage;
/* Handshake completed (step (h)). */
struct db_handshake {
	int64_t module_id;
	const uint8_t *used_pseudonym;	/* the one in HELLO: previous if it was current */
	size_t used_len;
	const uint8_t *new_pseudonym;	/* current if used_pseudonym was */
	size_t new_len;
	const uint8_t *promote_key;	/* NULL, or the pending key C2 proved */
	/* reports.session_id: the server's own id for the session, not
	 * the one on the wire */
	uint8_t session_id[PROTO_SESSION_ID_LEN];
	const uint8_t *data;		/* first data (C2); stored as seq 0 if not empty */
	size_t data_len;
	unsigned instr_bytes;		/* instruction bytes the WELCOME may carry,
					 * at most the setting's instr_bytes */
	const struct sockaddr_storage *from;	/* the AUTH's source, recorded as the
						 * module's last address; NULL: none */
};
/* DATA in a session. */
struct db_data {
	int64_t module_id;
	uint8_t session_id[PROTO_SESSION_ID_LEN];	/* as db_handshake's */
	uint64_t seq;			/* any; stored as migration 029 says */
	const uint8_t *acks;		/* n_acks * PROTO_INSTR_ID_LEN, big-endian ids */
	size_t n_acks;			/* <= PROTO_ACKS_MAX */
	const uint8_t *payload;		/* stored if not empty */
	size_t payload_len;
};
enum m2m_err db_write_handshake(struct db_async *db, const struct db_handshake *h,
    db_write_cb cb, void *arg);
enum m2m_err db_write_data(struct db_async *db, const struct db_data *d,
    db_write_cb cb, void *arg);
/* REKEY: pub (validated by the caller) becomes the pending key; full is
 * the same point uncompressed, or NULL (then m2md decodes pub when used). */
enum m2m_err db_write_rekey(struct db_async *db, int64_t module_id,
    const uint8_t pub[PROTO_POINT_LEN], const uint8_t full[PROTO_POINT_FULL_LEN],
    db_write_cb cb, void *arg);

#endif
