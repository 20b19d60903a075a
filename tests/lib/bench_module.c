/* SPDX-License-Identifier: Apache-2.0 */
/* The module's CPU per handshake on libm2m, for doc/benchmarks.md: the
 * module side of the known-answer handshake (HELLO with a fresh e_m and
 * DH1, the CHALLENGE's decompression, DH3 and DH2, the WELCOME's open),
 * repeated in rounds; the best round's mean is the figure (on a shared
 * machine the least disturbed). Also the sizes a device budgets for.
 * Built once per crypto backend; make check builds it, never times it.
 *
 * usage: bench-module-BACKEND [HANDSHAKES_PER_ROUND [ROUNDS]] */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include <m2m/m2m.h>

struct bench {
	uint8_t seed[32];
	uint64_t counter;		/* the vector's rng (tests/lib/test_lib_kat.c) */
	uint8_t *v[6];
	size_t len[6];
	struct m2m_module m;
};
enum { SERVER_PUB, MODULE_PRIV, IDENTITY, PSEUDONYM, CHALLENGE, WELCOME };
static const char *const names[] = { "server_pub", "module_priv", "identity", "pseudonym",
	"challenge", "welcome", NULL };

static int
rng(void *arg, uint8_t *buf, size_t len)
{
	struct bench *b = arg;
	uint8_t in[40], block[32];

	while (len > 0) {
		size_t n = len < 32 ? len : 32;

		memcpy(in, b->seed, 32);
		for (int i = 0; i < 8; i++)
			in[32 + i] = (uint8_t)(b->counter >> (56 - 8 * i));
		b->counter++;
		SHA256(in, sizeof(in), block);
		memcpy(buf, block, n);
		buf += n;
		len -= n;
	}
	return 1;
}

static int
ecdh(void *arg, struct m2m_module *m, enum m2m_key key, const uint8_t peer[M2M_POINT_FULL_LEN],
    uint8_t dh[M2M_DH_LEN])
{
	struct bench *b = arg;

	(void)key;
	return m2m_ecdh(m, b->v[MODULE_PRIV], peer, dh);
}

static int
load(struct bench *b, const char *path)
{
	char name[64], hex[2500];
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return -1;
	while (fscanf(f, "%63s %2499s", name, hex) == 2)
		for (int i = 0; names[i] != NULL; i++)
			if (strcmp(name, names[i]) == 0) {
				b->len[i] = strlen(hex) / 2;
				b->v[i] = malloc(b->len[i]);
				for (size_t j = 0; j < b->len[i]; j++)
					sscanf(hex + 2 * j, "%2hhx", &b->v[i][j]);
			}
	fclose(f);
	for (int i = 0; names[i] != NULL; i++)
		if (b->v[i] == NULL)
			return -1;
	return 0;
}

static double
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* One handshake's module side; 1 when the WELCOME verified. */
static int
handshake(struct bench *b, const struct m2m_config *cfg, const uint8_t *state, double *us)
{
	uint8_t out[M2M_DATAGRAM_MAX];
	struct m2m_event ev;
	double t0;

	b->counter = 3;
	if (m2m_module_init(&b->m, cfg, state) != M2M_RC_OK)
		return 0;
	t0 = cpu_us();
	m2m_module_connect(&b->m, 0, (const uint8_t *)"first", 5);
	m2m_module_output(&b->m, out, sizeof(out));
	m2m_module_input(&b->m, 1, b->v[CHALLENGE], b->len[CHALLENGE], &ev);
	m2m_module_output(&b->m, out, sizeof(out));
	m2m_module_input(&b->m, 2, b->v[WELCOME], b->len[WELCOME], &ev);
	*us += cpu_us() - t0;
	m2m_module_free(&b->m);
	return ev.type == M2M_EV_ESTABLISHED;
}

int
main(int argc, char **argv)
{
	static struct bench b;
	struct m2m_config cfg = { 0 };
	uint8_t state[M2M_STATE_LEN];
	int per = argc > 1 ? atoi(argv[1]) : 200, rounds = argc > 2 ? atoi(argv[2]) : 5, ok = 0;
	double best = 0;

	if (per < 1 || rounds < 1 || load(&b, TEST_SRCDIR "/vectors/handshake_kat.txt") != 0) {
		fprintf(stderr, "usage: bench-module [HANDSHAKES_PER_ROUND [ROUNDS]]\n");
		return 2;
	}
	SHA256((const uint8_t *)"m2m handshake known-answer vector 1", 35, b.seed);
	cfg.identity = b.v[IDENTITY];
	cfg.identity_len = b.len[IDENTITY];
	memcpy(cfg.server_pub, b.v[SERVER_PUB], M2M_POINT_LEN);
	cfg.static_ecdh = ecdh;
	cfg.random = rng;
	cfg.arg = &b;
	m2m_state_new(state, b.v[PSEUDONYM], b.len[PSEUDONYM]);
	for (int r = 0; r < rounds; r++) {
		double us = 0;

		for (int i = 0; i < per; i++)
			ok += handshake(&b, &cfg, state, &us);
		if (r == 0 || us / per < best)
			best = us / per;
	}
	printf("backend %s: module CPU per handshake %.0f us (best of %d rounds of %d; %d/%d "
	    "verified)\n", m2m_crypto_backend(), best, rounds, per, ok, per * rounds);
	printf("state to save %d bytes; struct m2m_module %zu bytes\n", M2M_STATE_LEN,
	    sizeof(struct m2m_module));
	for (int i = 0; names[i] != NULL; i++)
		free(b.v[i]);
	return ok == per * rounds ? 0 : 1;
}
