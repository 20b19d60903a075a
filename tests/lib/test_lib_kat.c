/* SPDX-License-Identifier: Apache-2.0 */
/* libm2m, through <m2m/m2m.h> only, against the known-answer vector of
 * tests/vectors/handshake_kat.txt (doc/protocol.md §15): the module side
 * of the handshake and of a DATA byte for byte, with the randomness the
 * vector was made with; and the rules of the module role: forged WELCOMEs
 * and CHALLENGEs, replays, retransmission, the saved state. Built once per
 * crypto backend. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/sha.h>

#include <m2m/m2m.h>

/* The vector's rng: block i = SHA-256(SHA-256(seed) || i, 64-bit big
 * endian), one block per draw; the module's e_m is the fourth draw (after
 * the server key, the module key and the pseudonym). */
struct krng {
	uint8_t seed[32];
	uint64_t counter;
};

static int
krng_fill(void *arg, uint8_t *buf, size_t len)
{
	struct krng *r = arg;
	uint8_t in[40], block[32];

	while (len > 0) {
		size_t n = len < 32 ? len : 32;

		memcpy(in, r->seed, 32);
		for (int i = 0; i < 8; i++)
			in[32 + i] = (uint8_t)(r->counter >> (56 - 8 * i));
		r->counter++;
		SHA256(in, sizeof(in), block);
		memcpy(buf, block, n);
		buf += n;
		len -= n;
	}
	return 1;
}

struct vec {
	uint8_t *v[16];
	size_t len[16];
};
static const char *names[] = { "server_pub", "module_priv", "identity", "pseudonym", "hello",
	"challenge", "auth", "welcome", "data", "data_ack", NULL };
enum { SERVER_PUB, MODULE_PRIV, IDENTITY, PSEUDONYM, HELLO, CHALLENGE, AUTH, WELCOME, DATA,
	DATA_ACK };

static void
load(struct vec *k)
{
	char path[512], name[64], hex[2500];
	FILE *f;

	memset(k, 0, sizeof(*k));
	snprintf(path, sizeof(path), "%s/vectors/handshake_kat.txt", TEST_SRCDIR);
	cr_assert_not_null(f = fopen(path, "r"), "%s", path);
	while (fscanf(f, "%63s %2499s", name, hex) == 2)
		for (int i = 0; names[i] != NULL; i++)
			if (strcmp(names[i], name) == 0) {
				k->len[i] = strlen(hex) / 2;
				k->v[i] = malloc(k->len[i]);
				for (size_t j = 0; j < k->len[i]; j++)
					sscanf(hex + 2 * j, "%2hhx", &k->v[i][j]);
			}
	fclose(f);
	for (int i = 0; names[i] != NULL; i++)
		cr_assert_not_null(k->v[i], "vector has no %s", names[i]);
}

struct dev {
	struct krng r;		/* first: the rng's argument is the dev */
	struct vec k;
	struct m2m_module m;
	uint8_t state[M2M_STATE_LEN];
	unsigned saves, why;
};

static int
ecdh(void *arg, struct m2m_module *m, enum m2m_key key, const uint8_t peer[M2M_POINT_FULL_LEN],
    uint8_t dh[M2M_DH_LEN])
{
	struct dev *d = arg;

	cr_assert_eq(key, M2M_KEY_CURRENT);
	return m2m_ecdh(m, d->k.v[MODULE_PRIV], peer, dh);
}

static int
save(void *arg, const uint8_t state[M2M_STATE_LEN], unsigned why)
{
	struct dev *d = arg;

	memcpy(d->state, state, M2M_STATE_LEN);
	d->saves++;
	d->why = why;
	return 0;
}

static struct dev *
dev_new(void)
{
	struct dev *d = calloc(1, sizeof(*d));
	struct m2m_config cfg = { 0 };

	load(&d->k);
	SHA256((const uint8_t *)"m2m handshake known-answer vector 1", 35, d->r.seed);
	d->r.counter = 3;
	cfg.identity = d->k.v[IDENTITY];
	cfg.identity_len = d->k.len[IDENTITY];
	memcpy(cfg.server_pub, d->k.v[SERVER_PUB], M2M_POINT_LEN);
	cfg.static_ecdh = ecdh;
	cfg.save = save;
	cfg.random = krng_fill;
	cfg.arg = d;
	cfg.rto_ms = 1000;
	cfg.max_tries = 3;
	cr_assert_eq(m2m_state_new(d->state, d->k.v[PSEUDONYM], d->k.len[PSEUDONYM]), M2M_RC_OK);
	cr_assert_eq(m2m_module_init(&d->m, &cfg, d->state), M2M_RC_OK);
	return d;
}

static void
dev_free(struct dev *d)
{
	m2m_module_free(&d->m);
	for (int i = 0; names[i] != NULL; i++)
		free(d->k.v[i]);
	free(d);
}

static void
expect_out(struct dev *d, int which)
{
	uint8_t out[M2M_DATAGRAM_MAX];
	size_t n = m2m_module_output(&d->m, out, sizeof(out));

	cr_assert_eq(n, d->k.len[which], "%s: %zu bytes, want %zu", names[which], n,
	    d->k.len[which]);
	cr_assert_eq(memcmp(out, d->k.v[which], n), 0, "%s differs", names[which]);
	cr_assert_eq(m2m_module_output(&d->m, out, sizeof(out)), 0, "one datagram at a time");
}

static void
feed(struct dev *d, int which, int want_rc, enum m2m_event_type want_ev)
{
	struct m2m_event ev;

	cr_assert_eq(m2m_module_input(&d->m, 5, d->k.v[which], d->k.len[which], &ev), want_rc,
	    "%s: %s", names[which], m2m_module_reason(&d->m));
	cr_assert_eq(ev.type, want_ev, "%s", names[which]);
}

/* HELLO, AUTH, WELCOME taken, DATA: the vector's bytes. */
static void
run_kat(struct dev *d)
{
	static const uint8_t payload[] = "v=1";
	uint64_t seq;
	struct m2m_event ev;

	cr_assert_eq(m2m_module_connect(&d->m, 0, (const uint8_t *)"first", 5), M2M_RC_OK);
	expect_out(d, HELLO);
	feed(d, CHALLENGE, M2M_RC_OK, M2M_EV_NONE);
	expect_out(d, AUTH);
	cr_assert_eq(d->saves, 0);
	cr_assert_eq(m2m_module_input(&d->m, 6, d->k.v[WELCOME], d->k.len[WELCOME], &ev),
	    M2M_RC_OK, "%s", m2m_module_reason(&d->m));
	cr_assert_eq(ev.type, M2M_EV_ESTABLISHED);
	cr_assert_eq(ev.status, 0);
	cr_assert_eq(d->saves, 1, "the next pseudonym saved once");
	cr_assert_eq(d->why, M2M_SAVE_PSEUDONYM);
	cr_assert(m2m_module_established(&d->m));
	cr_assert_eq(m2m_module_next_timeout(&d->m), UINT64_MAX, "nothing in flight");
	cr_assert_eq(m2m_module_send(&d->m, 7, NULL, 0, payload, 3, &seq), M2M_RC_OK);
	expect_out(d, DATA);
	cr_assert_eq(seq, 1);
	/* The vector's DATA_ACK opens under the session's keys but names seq 0
	 * (tests/proto/kat.c writes a fixed plaintext), not this DATA's: it is
	 * not taken as its answer, and the DATA stays in flight. */
	feed(d, DATA_ACK, M2M_RC_IGNORED, M2M_EV_NONE);
	cr_assert_str_eq(m2m_module_reason(&d->m), "message not expected in this state");
	cr_assert_eq(m2m_module_next_timeout(&d->m), 7 + 1000);
}

Test(lib_kat, module_side_byte_for_byte)
{
	struct dev *d = dev_new();

	run_kat(d);
	cr_log_info("backend %s", m2m_crypto_backend());
	dev_free(d);
}

Test(lib_kat, saved_state_restarts_with_the_next_pseudonym)
{
	struct dev *d = dev_new();
	struct m2m_config cfg = { 0 };
	uint8_t first[M2M_STATE_LEN], out[M2M_DATAGRAM_MAX];
	size_t n;

	memcpy(first, d->state, sizeof(first));
	run_kat(d);
	cr_assert_neq(memcmp(first, d->state, sizeof(first)), 0);
	m2m_module_free(&d->m);
	/* A device restarted on the saved state sends the pseudonym from the
	 * WELCOME, not the provisioned one. */
	cfg.identity = d->k.v[IDENTITY];
	cfg.identity_len = d->k.len[IDENTITY];
	memcpy(cfg.server_pub, d->k.v[SERVER_PUB], M2M_POINT_LEN);
	cfg.static_ecdh = ecdh;
	cfg.arg = d;
	cr_assert_eq(m2m_module_init(&d->m, &cfg, d->state), M2M_RC_OK);
	cr_assert_eq(m2m_module_connect(&d->m, 0, NULL, 0), M2M_RC_OK);
	cr_assert_gt(n = m2m_module_output(&d->m, out, sizeof(out)), 24);
	cr_assert_eq(out[7], d->k.len[PSEUDONYM]);
	cr_assert_neq(memcmp(out + 8, d->k.v[PSEUDONYM], d->k.len[PSEUDONYM]), 0);
	dev_free(d);
}

Test(lib_kat, unreadable_state_refused)
{
	struct dev *d = dev_new();
	struct m2m_module m;
	struct m2m_config cfg = { 0 };

	cfg.identity = d->k.v[IDENTITY];
	cfg.identity_len = d->k.len[IDENTITY];
	memcpy(cfg.server_pub, d->k.v[SERVER_PUB], M2M_POINT_LEN);
	cfg.static_ecdh = ecdh;
	d->state[10] ^= 1;
	cr_assert_eq(m2m_module_init(&m, &cfg, d->state), M2M_RC_ESTATEBLOB);
	d->state[10] ^= 1;
	d->state[4] = 2;			/* a version this library does not know */
	cr_assert_eq(m2m_module_init(&m, &cfg, d->state), M2M_RC_ESTATEBLOB);
	dev_free(d);
}

Test(lib_kat, forged_welcome_and_replays_ignored)
{
	struct dev *d = dev_new();
	uint8_t forged[M2M_DATAGRAM_MAX];
	struct m2m_event ev;

	cr_assert_eq(m2m_module_connect(&d->m, 0, (const uint8_t *)"first", 5), M2M_RC_OK);
	expect_out(d, HELLO);
	feed(d, CHALLENGE, M2M_RC_OK, M2M_EV_NONE);
	expect_out(d, AUTH);
	memcpy(forged, d->k.v[WELCOME], d->k.len[WELCOME]);
	forged[d->k.len[WELCOME] - 1] ^= 1;
	cr_assert_eq(m2m_module_input(&d->m, 1, forged, d->k.len[WELCOME], &ev), M2M_RC_IGNORED);
	cr_assert_eq(ev.type, M2M_EV_NONE);
	cr_assert_not(m2m_module_established(&d->m));
	cr_assert_eq(d->saves, 0, "a WELCOME that does not verify saves nothing");
	/* The same CHALLENGE again: its AUTH re-sent, nothing sealed anew. */
	feed(d, CHALLENGE, M2M_RC_OK, M2M_EV_NONE);
	expect_out(d, AUTH);
	feed(d, WELCOME, M2M_RC_OK, M2M_EV_ESTABLISHED);
	feed(d, WELCOME, M2M_RC_IGNORED, M2M_EV_NONE);
	cr_assert_eq(m2m_module_send(&d->m, 7, NULL, 0, (const uint8_t *)"v=1", 3, NULL), M2M_RC_OK);
	cr_assert_eq(m2m_module_send(&d->m, 7, NULL, 0, (const uint8_t *)"v=2", 3, NULL),
	    M2M_RC_EBUSY, "one DATA in flight");
	expect_out(d, DATA);
	feed(d, DATA_ACK, M2M_RC_IGNORED, M2M_EV_NONE);
	feed(d, DATA_ACK, M2M_RC_IGNORED, M2M_EV_NONE);
	cr_assert_str_eq(m2m_module_reason(&d->m), "sequence number already received");
	dev_free(d);
}

Test(lib_kat, forged_challenge_first_then_the_real_one)
{
	struct dev *d = dev_new();
	uint8_t forged[2 + 16 + M2M_POINT_LEN], priv[M2M_SCALAR_LEN], out[M2M_DATAGRAM_MAX];
	struct m2m_event ev;

	cr_assert_eq(m2m_module_connect(&d->m, 0, (const uint8_t *)"first", 5), M2M_RC_OK);
	expect_out(d, HELLO);
	forged[0] = 1;
	forged[1] = 3;
	memset(forged + 2, 0xee, 16);
	cr_assert_eq(m2m_keygen(&d->m, priv, forged + 18), M2M_RC_OK);
	cr_assert_eq(m2m_module_input(&d->m, 1, forged, sizeof(forged), &ev), M2M_RC_OK);
	cr_assert_gt(m2m_module_output(&d->m, out, sizeof(out)), 0, "a forged CHALLENGE is answered");
	feed(d, CHALLENGE, M2M_RC_OK, M2M_EV_NONE);
	expect_out(d, AUTH);
	feed(d, WELCOME, M2M_RC_OK, M2M_EV_ESTABLISHED);
	dev_free(d);
}

Test(lib_kat, retransmission_then_give_up)
{
	struct dev *d = dev_new();
	struct m2m_event ev;
	uint64_t due;

	cr_assert_eq(m2m_module_connect(&d->m, 100, (const uint8_t *)"first", 5), M2M_RC_OK);
	expect_out(d, HELLO);
	cr_assert_eq(due = m2m_module_next_timeout(&d->m), 1100);
	cr_assert_eq(m2m_module_timeout(&d->m, due - 1, &ev), M2M_RC_OK);
	cr_assert_eq(ev.type, M2M_EV_NONE);
	{
		uint8_t out[M2M_DATAGRAM_MAX];

		cr_assert_eq(m2m_module_output(&d->m, out, sizeof(out)), 0, "not due yet");
	}
	cr_assert_eq(m2m_module_timeout(&d->m, due, &ev), M2M_RC_OK);
	expect_out(d, HELLO);
	cr_assert_eq(due = m2m_module_next_timeout(&d->m), 1100 + 2000, "the timeout doubles");
	cr_assert_eq(m2m_module_timeout(&d->m, due, &ev), M2M_RC_OK);
	expect_out(d, HELLO);
	cr_assert_eq(m2m_module_timeout(&d->m, m2m_module_next_timeout(&d->m), &ev), M2M_RC_OK);
	cr_assert_eq(ev.type, M2M_EV_GAVE_UP, "after max_tries sends");
	cr_assert_eq(m2m_module_next_timeout(&d->m), UINT64_MAX);
	feed(d, CHALLENGE, M2M_RC_IGNORED, M2M_EV_NONE);
	dev_free(d);
}

/* e_m and DH1 made ahead of time (m2m_module_prepare) give the same
 * handshake: the prepared key is the one the HELLO carries, used once. */
Test(lib_kat, prepared_hello_is_the_vectors)
{
	struct dev *d = dev_new();
	uint8_t out[M2M_DATAGRAM_MAX];

	cr_assert_eq(m2m_module_prepare(&d->m), M2M_RC_OK);
	cr_assert_eq(d->r.counter, 4, "the prepared e_m drew the vector's draw 3");
	cr_assert_eq(m2m_module_connect(&d->m, 0, (const uint8_t *)"first", 5), M2M_RC_OK);
	cr_assert_eq(d->r.counter, 4, "connect drew nothing more");
	expect_out(d, HELLO);
	feed(d, CHALLENGE, M2M_RC_OK, M2M_EV_NONE);
	expect_out(d, AUTH);
	feed(d, WELCOME, M2M_RC_OK, M2M_EV_ESTABLISHED);
	/* The next handshake makes a new e_m: the prepared one was used once. */
	cr_assert_eq(m2m_module_connect(&d->m, 0, NULL, 0), M2M_RC_OK);
	cr_assert_eq(d->r.counter, 5);
	cr_assert_gt(m2m_module_output(&d->m, out, sizeof(out)), 0);
	cr_assert_neq(memcmp(out, d->k.v[HELLO], d->k.len[HELLO]), 0);
	dev_free(d);
}
