# SPDX-License-Identifier: Apache-2.0
# bench: the end-to-end benchmark scripts, run by hand from a build
# directory, not by make check: bench/run (token, database, m2md, m2m-sim,
# report), bench/compare (m2md against nginx's TLS 1.3 on the same box),
# bench/callgrind (instructions per handshake by object), their shared
# functions (bench/lib.sh) and the TLS load client (bench/tls-load).
EXTRA_DIST += bench/run bench/compare bench/callgrind bench/lib.sh bench/cg-objects \
	bench/check
# The scripts parse and bench/cg-objects reads callgrind files right.
TESTS += bench/check
noinst_PROGRAMS += bench/tls-load
bench_tls_load_SOURCES = bench/tls-load.c
bench_tls_load_LDADD = -lssl $(OPENSSL_LIBS) -lpthread
