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
tests_proto_test_handshake_SOURCES = tests/proto/test_handshake.c tests/proto/test_claims.c
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
