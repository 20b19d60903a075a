/* SPDX-License-Identifier: Apache-2.0 */
/* A device on libm2m, through <m2m/m2m.h> only: one UDP socket, a
 * monotonic clock and the library. Against a live m2md it runs a
 * handshake with first data, a DATA confirming the instructions received,
 * a REKEY to a fresh key, a second handshake (which proves the new key:
 * WELCOME status 1), a last DATA and DATAs confirming what is left. Built against each crypto backend
 * and, by tests/install/destdir, against the installed library with only
 * pkg-config's flags.
 *
 * With CUT (1..11) the device loses power at that step of the run (see
 * cut_point) and restarts from what it had saved: its state and its key
 * store (priv[], written when a key is made); then it must get back in:
 * a handshake and an acknowledged DATA.
 *
 * usage: m2m-live CREDS INDEX HOST PORT [CUT] (CREDS: m2mctl enroll --out) */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <m2m/m2m.h>

struct dev {
	int fd;
	struct sockaddr_in srv;
	uint8_t identity[M2M_IDENTITY_MAX];
	size_t identity_len;
	uint8_t server_pub[M2M_POINT_LEN];
	uint8_t pseudonym[M2M_PSEUDONYM_MAX];
	size_t pseudonym_len;
	uint8_t priv[2][M2M_SCALAR_LEN];	/* current, next: the key store */
	uint8_t state[M2M_STATE_LEN];		/* what a device writes to flash */
	unsigned saves;
	int cut, step, dead;			/* the simulated power loss */
	int sent[256];				/* datagram types counted as a step */
	uint8_t acks[M2M_ACKS_MAX][M2M_INSTR_ID_LEN];
	size_t n_acks;
	struct m2m_module m;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
unhex(const char *h, uint8_t *out, size_t n)
{
	if (strlen(h) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (sscanf(h + 2 * i, "%2hhx", &out[i]) != 1)
			return -1;
	return 0;
}

/* The server line and module `index` of an m2mctl enroll --out file. */
static int
read_creds(struct dev *d, const char *file, int index)
{
	char line[512], a[80], b[80], c[80], e[80];
	FILE *f = fopen(file, "r");
	int i = 0, have_server = 0, have_module = 0;

	if (f == NULL)
		return -1;
	while (!have_module && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "server %79s %79s", a, b) == 2)
			have_server = unhex(b, d->server_pub, M2M_POINT_LEN) == 0;
		else if (sscanf(line, "module %79s %79s %79s %79s", a, b, c, e) == 4 &&
		    i++ == index) {
			d->identity_len = strlen(a);
			d->pseudonym_len = strlen(b) / 2;
			if (d->identity_len > M2M_IDENTITY_MAX || d->pseudonym_len > M2M_PSEUDONYM_MAX ||
			    unhex(b, d->pseudonym, d->pseudonym_len) != 0 ||
			    unhex(c, d->priv[0], M2M_SCALAR_LEN) != 0)
				break;
			memcpy(d->identity, a, d->identity_len);
			have_module = 1;
		}
	}
	fclose(f);
	return have_server && have_module ? 0 : -1;
}

static int
static_ecdh(void *arg, struct m2m_module *m, enum m2m_key key,
    const uint8_t peer[M2M_POINT_FULL_LEN], uint8_t dh[M2M_DH_LEN])
{
	struct dev *d = arg;

	return m2m_ecdh(m, d->priv[key], peer, dh);
}

/* The steps of the run, in order: 1 HELLO sent, 2 AUTH sent, 3 WELCOME
 * taken (before its save), 4 after its save, 5 REKEY sent, 6 REKEY_ACK
 * taken (before its save), 7 after its save, 8 HELLO sent on the next
 * key, 9 its AUTH sent, 10 its WELCOME taken (before the save that
 * promotes the key), 11 after that save. The power goes at step cut. */
static void
cut_point(struct dev *d)
{
	if (++d->step == d->cut) {
		d->dead = 1;
		printf("power lost at step %d\n", d->step);
	}
}

static int
save(void *arg, const uint8_t state[M2M_STATE_LEN], unsigned why)
{
	struct dev *d = arg;

	cut_point(d);
	if (d->dead)
		return 0;			/* nothing reaches the flash */
	memcpy(d->state, state, M2M_STATE_LEN);
	if (why & M2M_SAVE_KEY_PROMOTED) {
		memcpy(d->priv[0], d->priv[1], M2M_SCALAR_LEN);
		memset(d->priv[1], 0, M2M_SCALAR_LEN);
	}
	d->saves++;
	cut_point(d);
	return 0;
}

static void
flush(struct dev *d)
{
	uint8_t out[M2M_DATAGRAM_MAX];
	size_t n;

	while (!d->dead && (n = m2m_module_output(&d->m, out, sizeof(out))) > 0) {
		sendto(d->fd, out, n, 0, (struct sockaddr *)&d->srv, sizeof(d->srv));
		/* Retransmissions are not steps. */
		if ((out[1] == 1 || out[1] == 4 || out[1] == 8) && !d->sent[out[1]]) {
			d->sent[out[1]] = 1;
			cut_point(d);
		}
	}
}

static void
take_instr(struct dev *d, const struct m2m_event *ev)
{
	for (size_t i = 0; i < ev->n_instr && d->n_acks < M2M_ACKS_MAX; i++) {
		printf("instruction %.*s\n", (int)ev->instr[i].body_len,
		    (const char *)ev->instr[i].body);
		memcpy(d->acks[d->n_acks++], ev->instr[i].id, M2M_INSTR_ID_LEN);
	}
}

/* Moves datagrams until an event of type want (1) or a give-up (0). */
static int
wait_for(struct dev *d, enum m2m_event_type want, struct m2m_event *ev)
{
	uint8_t in[M2M_DATAGRAM_MAX];

	for (;;) {
		struct pollfd p = { .fd = d->fd, .events = POLLIN };
		uint64_t due = m2m_module_next_timeout(&d->m), now;
		ssize_t n;

		flush(d);
		now = now_ms();
		if (due == UINT64_MAX || d->dead)
			return 0;
		if (poll(&p, 1, due > now ? (int)(due - now) : 0) > 0 &&
		    (n = recv(d->fd, in, sizeof(in), 0)) > 0) {
			int rc = m2m_module_input(&d->m, now_ms(), in, (size_t)n, ev);

			if (rc < 0)
				fprintf(stderr, "input: %s\n", m2m_rc_str(rc));
		} else if (m2m_module_timeout(&d->m, now_ms(), ev) != M2M_RC_OK)
			return 0;
		if (d->dead)
			return 0;
		if (ev->type == want)
			return 1;
		if (ev->type == M2M_EV_GAVE_UP)
			return 0;
	}
}

static int
handshake(struct dev *d, const char *data)
{
	struct m2m_event ev;

	memset(d->sent, 0, sizeof(d->sent));
	if (m2m_module_connect(&d->m, now_ms(), (const uint8_t *)data, strlen(data)) != 0 ||
	    !wait_for(d, M2M_EV_ESTABLISHED, &ev))
		return -1;
	printf("established status %u\n", ev.status);
	take_instr(d, &ev);
	return 0;
}

static int
data(struct dev *d, const char *payload)
{
	struct m2m_event ev;
	uint64_t seq;

	if (m2m_module_send(&d->m, now_ms(), (const uint8_t (*)[M2M_INSTR_ID_LEN])d->acks,
	    d->n_acks, (const uint8_t *)payload, strlen(payload), &seq) != 0 ||
	    !wait_for(d, M2M_EV_DATA_ACKED, &ev) || ev.seq != seq)
		return -1;
	printf("data acked seq %llu confirmed %zu\n", (unsigned long long)seq, d->n_acks);
	d->n_acks = 0;
	take_instr(d, &ev);
	return 0;
}

static int
rekey(struct dev *d)
{
	struct m2m_event ev;
	uint8_t pub[M2M_POINT_LEN];

	memset(d->sent, 0, sizeof(d->sent));
	if (m2m_keygen(&d->m, d->priv[1], pub) != 0 ||
	    m2m_module_rekey(&d->m, now_ms(), pub) != 0 || !wait_for(d, M2M_EV_REKEY_ACKED, &ev))
		return -1;
	printf("rekey acked status %u\n", ev.status);
	return ev.status == 0 ? 0 : -1;
}

/* After the power loss: the module's memory is gone; the device starts
 * from its saved state and key store, and must get in and be heard. */
static int
recover(struct dev *d, const struct m2m_config *cfg)
{
	int rc;

	m2m_module_free(&d->m);
	d->dead = 0;
	d->cut = 0;
	d->n_acks = 0;
	if ((rc = m2m_module_init(&d->m, cfg, d->state)) != 0) {
		fprintf(stderr, "m2m-live: restart: %s\n", m2m_rc_str(rc));
		return -1;
	}
	if (handshake(d, "after power loss") != 0 || data(d, "after power loss") != 0)
		return -1;
	printf("recovered\n");
	return 0;
}

static int
run(struct dev *d)
{
	struct m2m_config cfg = {
		.identity = d->identity, .identity_len = d->identity_len,
		.static_ecdh = static_ecdh, .save = save, .arg = d,
		.rto_ms = 300, .max_tries = 10,
	};
	int rc;

	memcpy(cfg.server_pub, d->server_pub, M2M_POINT_LEN);
	if ((rc = m2m_state_new(d->state, d->pseudonym, d->pseudonym_len)) != 0 ||
	    (rc = m2m_module_init(&d->m, &cfg, d->state)) != 0) {
		fprintf(stderr, "m2m-live: set-up: %s\n", m2m_rc_str(rc));
		return -1;
	}
	printf("backend %s\n", m2m_crypto_backend());
	rc = handshake(d, "live first") == 0 && data(d, "live data") == 0 && rekey(d) == 0 &&
	    handshake(d, "after rekey") == 0 && data(d, "live last") == 0 ? 0 : -1;
	if (d->dead)
		rc = recover(d, &cfg);
	else if (d->cut != 0)
		rc = -1;			/* the run ended before its step */
	/* Instructions received last are confirmed by DATAs with no payload;
	 * one sent again (the server re-sends what a handshake found
	 * unconfirmed) is confirmed again. */
	for (int i = 0; rc == 0 && d->n_acks > 0 && i < 4; i++)
		rc = data(d, "");
	if (rc != 0)
		fprintf(stderr, "m2m-live: %s\n", m2m_module_reason(&d->m));
	printf("saves %u\n", d->saves);
	m2m_module_free(&d->m);
	return rc;
}

int
main(int argc, char **argv)
{
	static struct dev d;
	int rc;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: m2m-live CREDS INDEX HOST PORT [CUT]\n");
		return 2;
	}
	if (read_creds(&d, argv[1], atoi(argv[2])) != 0) {
		fprintf(stderr, "m2m-live: %s: no module %s\n", argv[1], argv[2]);
		return 2;
	}
	d.cut = argc == 6 ? atoi(argv[5]) : 0;
	d.srv.sin_family = AF_INET;
	d.srv.sin_port = htons((uint16_t)atoi(argv[4]));
	if (inet_pton(AF_INET, argv[3], &d.srv.sin_addr) != 1 ||
	    (d.fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0)
		return 2;
	rc = run(&d);
	close(d.fd);
	printf("%s\n", rc == 0 ? "ok" : "failed");
	return rc == 0 ? 0 : 1;
}
