# SPDX-License-Identifier: Apache-2.0
# tests/proto: protocol core tests (Criterion).
check_LIBRARIES += libtestutil.a
libtestutil_a_SOURCES = tests/common/testutil.c tests/common/testutil.h
libtestutil_a_CFLAGS = $(TEST_CFLAGS)
PROTO_TEST_LDADD = libtestutil.a libm2mproto.a libm2mcommon.a $(TEST_LIBS) $(OPENSSL_LIBS)

check_PROGRAMS += tests/proto/test_crypto tests/proto/test_handshake tests/proto/test_codec \
	tests/proto/test_kat tests/proto/test_forgery
TESTS += tests/proto/test_crypto tests/proto/test_handshake tests/proto/test_codec \
	tests/proto/test_kat tests/proto/test_forgery
tests_proto_test_crypto_SOURCES = tests/proto/test_crypto.c
tests_proto_test_crypto_CFLAGS = $(TEST_CFLAGS)
tests_proto_test_crypto_LDADD = $(PROTO_TEST_LDADD)
tests_proto_test_handshake_SOURCES = tests/proto/test_handshake.c tests/proto/test_keyed.c \
	tests/proto/test_claims.c
tests_proto_test_handshake_CFLAGS = $(TEST_CFLAGS)
tests_proto_test_handshake_LDADD = $(PROTO_TEST_LDADD)
tests_proto_test_forgery_SOURCES = tests/proto/test_forgery.c
tests_proto_test_forgery_CFLAGS = $(TEST_CFLAGS)
tests_proto_test_forgery_LDADD = $(PROTO_TEST_LDADD)
tests_proto_test_codec_SOURCES = tests/proto/test_codec.c tests/proto/test_sizes.c
tests_proto_test_codec_CFLAGS = $(TEST_CFLAGS)
tests_proto_test_codec_LDADD = $(PROTO_TEST_LDADD)
tests_proto_test_kat_SOURCES = tests/proto/test_kat.c tests/proto/kat.c
tests_proto_test_kat_CFLAGS = $(TEST_CFLAGS)
tests_proto_test_kat_LDADD = $(PROTO_TEST_LDADD)
EXTRA_DIST += tests/vectors/handshake_kat.txt
check_PROGRAMS += tests/proto/kat_gen
tests_proto_kat_gen_SOURCES = tests/proto/kat_gen.c tests/proto/kat.c tests/proto/kat.h
tests_proto_kat_gen_CFLAGS = $(TEST_CFLAGS)
tests_proto_kat_gen_LDADD = $(PROTO_TEST_LDADD)

# The core on the Mbed TLS backend: the known-answer vector byte for byte,
# the Wycheproof and RFC vectors, whole handshakes and the forgery rules.
if HAVE_MBEDTLS
PROTO_MBEDTLS_TEST_LDADD = libtestutil.a libm2mproto_mbedtls.a libm2mcommon.a $(TEST_LIBS) \
	$(MBEDTLS_LIBS)
check_PROGRAMS += tests/proto/test_kat_mbedtls tests/proto/test_crypto_mbedtls \
	tests/proto/test_handshake_mbedtls tests/proto/test_forgery_mbedtls
TESTS += tests/proto/test_kat_mbedtls tests/proto/test_crypto_mbedtls \
	tests/proto/test_handshake_mbedtls tests/proto/test_forgery_mbedtls
tests_proto_test_kat_mbedtls_SOURCES = tests/proto/test_kat.c tests/proto/kat.c
tests_proto_test_kat_mbedtls_CFLAGS = $(TEST_CFLAGS)
tests_proto_test_kat_mbedtls_LDADD = $(PROTO_MBEDTLS_TEST_LDADD)
tests_proto_test_crypto_mbedtls_SOURCES = tests/proto/test_crypto.c
tests_proto_test_crypto_mbedtls_CFLAGS = $(TEST_CFLAGS)
tests_proto_test_crypto_mbedtls_LDADD = $(PROTO_MBEDTLS_TEST_LDADD)
tests_proto_test_handshake_mbedtls_SOURCES = tests/proto/test_handshake.c
tests_proto_test_handshake_mbedtls_CFLAGS = $(TEST_CFLAGS)
tests_proto_test_handshake_mbedtls_LDADD = $(PROTO_MBEDTLS_TEST_LDADD)
tests_proto_test_forgery_mbedtls_SOURCES = tests/proto/test_forgery.c
tests_proto_test_forgery_mbedtls_CFLAGS = $(TEST_CFLAGS)
tests_proto_test_forgery_mbedtls_LDADD = $(PROTO_MBEDTLS_TEST_LDADD)
endif

# The backend's decoded points, y's parity included, on each backend.
check_PROGRAMS += tests/proto/test_backend
TESTS += tests/proto/test_backend
tests_proto_test_backend_SOURCES = tests/proto/test_backend.c
tests_proto_test_backend_CFLAGS = $(TEST_CFLAGS)
tests_proto_test_backend_LDADD = $(PROTO_TEST_LDADD)
if HAVE_MBEDTLS
check_PROGRAMS += tests/proto/test_backend_mbedtls
TESTS += tests/proto/test_backend_mbedtls
tests_proto_test_backend_mbedtls_SOURCES = tests/proto/test_backend.c
tests_proto_test_backend_mbedtls_CFLAGS = $(TEST_CFLAGS)
tests_proto_test_backend_mbedtls_LDADD = $(PROTO_MBEDTLS_TEST_LDADD)
endif
# No crypto library call in the core outside src/crypto, on the sources.
TESTS += tests/proto/check-crypto-seam
EXTRA_DIST += tests/proto/check-crypto-seam
