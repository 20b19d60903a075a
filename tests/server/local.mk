# SPDX-License-Identifier: Apache-2.0
# tests/server: m2md end to end, on a real SoftHSM2 token and PostgreSQL.
check_LIBRARIES += libtestclient.a
libtestclient_a_SOURCES = tests/server/client.c tests/server/client.h
libtestclient_a_CFLAGS = $(TEST_CFLAGS)
check_PROGRAMS += tests/server/m2m-client
tests_server_m2m_client_SOURCES = tests/server/m2m-client.c
tests_server_m2m_client_CFLAGS = $(TEST_CFLAGS)
tests_server_m2m_client_LDADD = libtestclient.a libm2mproto.a libm2mcommon.a $(OPENSSL_LIBS)
check_PROGRAMS += tests/server/test_server
TESTS += tests/server/pg-server
EXTRA_DIST += tests/server/setup-world tests/server/run-server-tests tests/server/pg-server
tests_server_test_server_SOURCES = tests/server/test_server.c tests/server/srvtest.c \
	tests/server/srvtest.h tests/server/lockout.c tests/server/lockout.h \
	tests/server/test_revoke.c tests/server/test_ops.c tests/server/test_pseudonym.c \
	tests/server/test_forgery.c tests/server/test_keys.c tests/server/test_dbops.c \
	tests/server/test_trouble.c tests/server/test_fixes.c tests/server/test_libm2m.c \
	tests/server/test_claims.c
tests_server_test_server_CFLAGS = $(TEST_CFLAGS)
if HAVE_MBEDTLS
tests_server_test_server_CFLAGS += -DHAVE_MBEDTLS_TESTS
endif
tests_server_test_server_LDADD = libtestclient.a libm2mdb.a libm2mproto.a libm2mcommon.a \
	$(TEST_LIBS) $(LIBPQ_LIBS) $(OPENSSL_LIBS) -lpthread
# They run m2md and m2mctl, which make check builds first (all).
check_PROGRAMS += tests/server/test_memory
TESTS += tests/server/test_memory
tests_server_test_memory_SOURCES = tests/server/test_memory.c tests/server/test_halfopen.c \
	tests/server/test_defaults.c \
	src/server/halfopen.c \
	src/server/sessions.c src/server/table.c src/server/conf.c
tests_server_test_memory_CFLAGS = $(TEST_CFLAGS) $(INIH_CFLAGS)
tests_server_test_memory_LDADD = libm2mdb.a libm2mhsm.a libm2mproto.a libm2mcommon.a \
	$(TEST_LIBS) $(INIH_LIBS) $(LIBPQ_LIBS) $(LIBP11_LIBS) $(LIBEVENT_LIBS) $(OPENSSL_LIBS) \
	-lpthread -ldl
# The per-source limits' key (IPv4 address, IPv6 /64), on the function itself:
# loopback has one IPv6 address.
check_PROGRAMS += tests/server/test_source_key
TESTS += tests/server/test_source_key
tests_server_test_source_key_SOURCES = tests/server/test_source_key.c src/server/net.c \
	src/server/ratelimit.c
tests_server_test_source_key_CFLAGS = $(TEST_CFLAGS) $(LIBPQ_CFLAGS)
tests_server_test_source_key_LDADD = libm2mcommon.a $(TEST_LIBS) $(OPENSSL_LIBS)
