/* SPDX-License-Identifier: Apache-2.0 */
/* tls-load: the load client of bench/compare. N full TLS 1.3 handshakes
 * with a client certificate (P-256 key exchange and signatures, no session
 * resumption), each carrying one small HTTP request and its response, over
 * a few threads with one connection each in flight; prints the handshakes
 * per second and the bytes each connection put on the wire (TLS records,
 * both directions, counted on the socket BIO: TCP/IP headers not included). */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

struct load {
	SSL_CTX *ctx;
	struct sockaddr_in addr;
	unsigned long count;
	atomic_ulong next, ok, failed, bytes_out, bytes_in;
};

static const char request[] =
	"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A TCP connection closed with a reset once the response is read, so that
 * no side keeps it in TIME_WAIT: thousands per second would use up ports. */
static int
dial(const struct load *l)
{
	struct linger lg = { 1, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (connect(fd, (const struct sockaddr *)&l->addr, sizeof(l->addr)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads the response to its end; 0 if it began with a 200 status. */
static int
read_response(SSL *ssl)
{
	char buf[4096];
	int n, got = 0, ok = 0;

	while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) {
		if (got == 0 && n >= 12 && memcmp(buf + 9, "200", 3) == 0)
			ok = 1;
		got += n;
	}
	return ok ? 0 : -1;
}

/* One connection: handshake, request, response; counts its bytes. */
static int
one(struct load *l)
{
	int fd = dial(l), rc = -1;
	SSL *ssl;

	if (fd < 0)
		return -1;
	ssl = SSL_new(l->ctx);
	if (ssl != NULL && SSL_set_fd(ssl, fd) == 1 && SSL_connect(ssl) == 1 &&
	    SSL_write(ssl, request, sizeof(request) - 1) == (int)sizeof(request) - 1)
		rc = read_response(ssl);
	if (ssl != NULL) {
		atomic_fetch_add(&l->bytes_out, BIO_number_written(SSL_get_wbio(ssl)));
		atomic_fetch_add(&l->bytes_in, BIO_number_read(SSL_get_rbio(ssl)));
		SSL_free(ssl);
	}
	close(fd);
	ERR_clear_error();
	return rc;
}

static void *
run(void *arg)
{
	struct load *l = arg;

	while (atomic_fetch_add(&l->next, 1) < l->count) {
		if (one(l) == 0)
			atomic_fetch_add(&l->ok, 1);
		else
			atomic_fetch_add(&l->failed, 1);
	}
	return NULL;
}

/* TLS 1.3 only, P-256 for the key exchange and the signatures (as m2md's
 * handshake), the server checked against the CA, no tickets kept. */
static SSL_CTX *
make_ctx(const char *ca, const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, "P-256") != 1 ||
	    SSL_CTX_set1_sigalgs_list(ctx, "ECDSA+SHA256") != 1 ||
	    SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return ctx;
}

static void
report(struct load *l, double secs)
{
	unsigned long ok = atomic_load(&l->ok), conns = ok + atomic_load(&l->failed);

	printf("handshakes %lu\nfailed %lu\nseconds %.3f\nhandshakes_per_s %.0f\n",
	    ok, atomic_load(&l->failed), secs, (double)ok / secs);
	printf("bytes_out_per_conn %.1f\nbytes_in_per_conn %.1f\n",
	    (double)atomic_load(&l->bytes_out) / (double)(conns ? conns : 1),
	    (double)atomic_load(&l->bytes_in) / (double)(conns ? conns : 1));
}

static int
usage(void)
{
	fprintf(stderr, "usage: tls-load PORT COUNT THREADS CA CERT KEY\n"
	    "  COUNT full handshakes to 127.0.0.1:PORT, THREADS connections in flight\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct load l = { 0 };
	pthread_t tid[64];
	int threads, i;
	double t0;

	if (argc != 7)
		return usage();
	l.count = strtoul(argv[2], NULL, 10);
	threads = atoi(argv[3]);
	if (l.count == 0 || threads < 1 || threads > 64)
		return usage();
	l.addr.sin_family = AF_INET;
	l.addr.sin_port = htons((uint16_t)atoi(argv[1]));
	l.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((l.ctx = make_ctx(argv[4], argv[5], argv[6])) == NULL)
		return 1;
	t0 = now_s();
	for (i = 0; i < threads; i++)
		if (pthread_create(&tid[i], NULL, run, &l) != 0)
			break;
	threads = i;
	for (i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	report(&l, now_s() - t0);
	SSL_CTX_free(l.ctx);
	return atomic_load(&l.failed) == 0 && atomic_load(&l.ok) > 0 ? 0 : 1;
}
