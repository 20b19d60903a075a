/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the fuzz targets, the seed-corpus generator and the replay
 * test: a fixed world, a deterministic rng reset per input, the framing. */
#ifndef M2M_FUZZ_H
#define M2M_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "src/proto/proto.h"

/* Under libFuzzer each file is one target with the libFuzzer entry point;
 * built with -DFUZZ_REPLAY (make check, make-corpus) every target is an
 * ordinary function fuzz_NAME so that all of them link into one program. */
#ifdef FUZZ_REPLAY
#define FUZZ_TARGET(name) int fuzz_##name(const uint8_t *data, size_t size)
#else
#define FUZZ_TARGET(name) int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size); \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
#endif

int fuzz_hello(const uint8_t *data, size_t size);
int fuzz_auth(const uint8_t *data, size_t size);
int fuzz_wire(const uint8_t *data, size_t size);
int fuzz_record(const uint8_t *data, size_t size);
int fuzz_payloads(const uint8_t *data, size_t size);
int fuzz_point(const uint8_t *data, size_t size);
int fuzz_server(const uint8_t *data, size_t size);
int fuzz_module(const uint8_t *data, size_t size);

/* A broken invariant is a crash: libFuzzer keeps the input, Criterion
 * reports the test as failed. */
#define FUZZ_ASSERT(c) do { if (!(c)) fuzz_fail(__FILE__, __LINE__, #c); } while (0)
_Noreturn void fuzz_fail(const char *file, int line, const char *what);

/* Deterministic rng: block i = SHA-256(seed || i), seed from a label. Each
 * target resets its stream at the start of every input, so an input
 * replays to the same tokens, keys and pseudonyms. */
struct fuzz_rng {
	uint8_t seed[PROTO_HASH_LEN];
	uint64_t counter;
};
void fuzz_rng_reset(struct fuzz_rng *r, const char *label);
/* A context drawing from r; aborts on failure. */
struct proto_ctx *fuzz_ctx_new(struct fuzz_rng *r);

/* The fixed world: one server key, one enrolled module (current key M and
 * a second key pair M2 for the pending-key paths), built once. */
struct fuzz_world {
	uint8_t server_priv[PROTO_SCALAR_LEN];
	struct proto_srv_key key;
	struct proto_mod_creds creds;
	uint8_t m2_priv[PROTO_SCALAR_LEN];
	uint8_t m2_pub[PROTO_POINT_LEN];
	struct proto_module_rec rec;
	uint8_t cookie_secret[32];
};
const struct fuzz_world *fuzz_world(void);

/* Multi-datagram inputs are units of: op (1 byte, the driver's choices),
 * length (2 bytes, big-endian), that many bytes (fewer at the end). */
#define FUZZ_UNIT_HDR	3
struct fuzz_in {
	const uint8_t *p;
	size_t left;
};
int fuzz_next(struct fuzz_in *in, uint8_t *op, const uint8_t **dg, size_t *len);
/* Appends a unit to buf (cap bytes) at *n; aborts when it does not fit. */
void fuzz_put(uint8_t *buf, size_t cap, size_t *n, uint8_t op, const uint8_t *dg, size_t len);

/* The server driver of fuzz_server.c, step by step (make-corpus plays it
 * against the module driver). Op bits of a unit: */
#define FSRV_REC_MASK		0x03	/* lookup answer: */
#define FSRV_REC_ENROLLED	0	/*  the module's record */
#define FSRV_REC_UNKNOWN	1	/*  no module has the pseudonym */
#define FSRV_REC_INACTIVE	2	/*  the record, status not active */
#define FSRV_REC_ROTATING	3	/*  current key unrelated, M pending */
#define FSRV_COOKIES		0x04	/* HELLO needs a valid cookie */
#define FSRV_COMMIT_FAILS	0x08	/* the commit fails: no WELCOME */
#define FSRV_INSTR_SHIFT	4	/* bits 4..6: instructions to deliver */
#define FSRV_ADDR_B		0x80	/* the datagram comes from address B */
struct fsrv;
/* The process's one server driver; reset starts a fresh server. */
struct fsrv *fsrv_get(void);
void fsrv_reset(struct fsrv *s);
/* Its crypto context, for code that seals outside the driver. */
struct proto_ctx *fsrv_ctx(void);
/* One datagram in; the answer (if any) in out (PROTO_DATAGRAM_MAX). */
size_t fsrv_step(struct fsrv *s, uint8_t op, const uint8_t *dg, size_t len, uint8_t *out);

/* The module driver of fuzz_module.c. Op bits of a unit: */
#define FMOD_RESTART		0x01	/* send a new HELLO, ignore the datagram */
#define FMOD_REKEY		0x02	/* answer in the session with REKEY, not DATA */
#define FMOD_DATA_SHIFT		2	/* bits 2..7: first data = 16 * n bytes */
struct fmod;
struct fmod *fmod_get(void);
/* Starts over: the HELLO goes to out. */
size_t fmod_reset(struct fmod *m, uint8_t *out);
size_t fmod_step(struct fmod *m, uint8_t op, const uint8_t *dg, size_t len, uint8_t *out);

/* fuzz_record.c: the two ends of its fixed session (fixed PRK2 and TH4). */
void fuzz_record_sessions(struct proto_session *mod, struct proto_session *srv);

/* What the drivers reached, so the replay test can tell the seeds still
 * go deep (whole handshakes, records both ways). */
struct fuzz_stats {
	unsigned long challenges, welcomes, rotations, srv_records, rekeys_recorded;
	unsigned long mod_auths, mod_established, mod_acks, mod_rekey_acks;
};
extern struct fuzz_stats fuzz_stats;

/* The seed corpus: calls emit once per seed with the target's name. */
typedef void (*fuzz_emit_fn)(void *arg, const char *target, const char *name,
    const uint8_t *data, size_t size);
void fuzz_corpus(fuzz_emit_fn emit, void *arg);

#endif
