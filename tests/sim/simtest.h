/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers of the m2m-sim tests: throwaway credentials files, running the
 * built m2m-sim binary, and a loopback responder on the server role. */
#ifndef SIM_TEST_H
#define SIM_TEST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/common/testutil.h"

/* A fresh temporary directory (removed by st_cleanup). */
void st_tmpdir(char *out, size_t cap);
void st_cleanup(const char *dir);

/* What the server side knows after enrolling n modules. */
struct st_enrolled {
	uint8_t server_priv[PROTO_SCALAR_LEN];
	struct proto_srv_key key;
	size_t n;
	struct proto_module_rec *rec;
	uint8_t (*pseudonym)[PROTO_PSEUDONYM_LEN];
};
/* Generates keys and writes path as `m2mctl enroll --count` would. */
void st_enroll(struct st_enrolled *e, size_t n, const char *path);
void st_enrolled_free(struct st_enrolled *e);

/* Runs m2m-sim with argv (NULL-terminated, without the program name);
 * returns its exit status, with stdout and stderr in malloc'd strings. */
int st_run_sim(const char *const *argv, char **out, char **err);
/* The same, sending it signal sig once it blocks sig (past its start-up:
 * before, the signal's default action would end it). */
int st_run_sim_signal(const char *const *argv, int sig, char **out, char **err);
char *st_read_file(const char *path);
void st_write_file(const char *path, const char *text);

/* The loopback responder: the server role of src/proto on one UDP socket,
 * software ECDH standing in for the HSM, in a thread. */
struct st_resp_cfg {
	int family;			/* AF_INET (127.0.0.1) or AF_INET6 (::1) */
	unsigned retry_every;		/* answer every Nth cookieless HELLO with RETRY */
	unsigned drop_in_every;		/* drop every Nth datagram received */
	unsigned drop_out_every;	/* drop every Nth datagram to send */
	int instructions;		/* one instruction in every WELCOME */
	int corrupt_welcome;		/* flip a bit of every WELCOME's ciphertext */
	/* An attacker spoofing the server: this many forged CHALLENGEs (valid
	 * E_s, random token, under a key that is not the pinned one) and
	 * WELCOMEs that do not verify, ahead of every CHALLENGE and WELCOME. */
	unsigned forge;
	unsigned forge_after;		/* and this many right after the real CHALLENGE */
	int drop_first_auth;		/* drop the first AUTH for each real CHALLENGE */
};
struct st_resp_counts {
	_Atomic uint64_t hellos, retries, challenges, welcomes, welcome_resends;
	_Atomic uint64_t data_again;	/* DATA resent after a lost DATA_ACK, answered again */
	_Atomic uint64_t data, instr_sent, instr_acked, rejected, dropped, failures;
	_Atomic uint64_t forged;	/* datagrams forged (cfg.forge) */
};
struct st_resp;
/* Serves the modules of e (the responder keeps their pseudonyms: the
 * current and the previous one are accepted, as the server does). */
struct st_resp *st_resp_start(const struct st_enrolled *e, const struct st_resp_cfg *cfg);
uint16_t st_resp_port(const struct st_resp *r);
struct st_resp_counts *st_resp_counts(struct st_resp *r);
/* The current pseudonym of module i, hex. */
void st_resp_pseudonym_hex(struct st_resp *r, size_t i, char *out);
void st_resp_stop(struct st_resp *r);

#endif
