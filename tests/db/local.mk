# SPDX-License-Identifier: Apache-2.0
# tests/db: database layer tests on a real PostgreSQL, each program run by
# a pg-* script under its own throwaway cluster (tests/db/with-pg).
# (m2mctl_SOURCES += here, not in db/local.mk: see there.)
m2mctl_SOURCES += $(DB_CTL_SOURCES)

DB_TESTS = tests/db/test_schema tests/db/test_ctl tests/db/test_async
check_PROGRAMS += $(DB_TESTS)
TESTS += tests/db/pg-schema tests/db/pg-ctl tests/db/pg-async
EXTRA_DIST += tests/db/with-pg tests/db/pg-schema tests/db/pg-ctl tests/db/pg-async
DB_TEST_LIBS = libm2mdb.a libm2mproto.a libm2mcommon.a $(TEST_LIBS) \
	$(LIBPQ_LIBS) $(LIBEVENT_LIBS) $(OPENSSL_LIBS)
# LIBPQ_CFLAGS: test_async reads notifications off the admin connection.
DB_TEST_CFLAGS = $(TEST_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBPQ_CFLAGS)

tests_db_test_schema_SOURCES = tests/db/test_schema.c tests/db/test_compat.c tests/db/test_schema_claims.c \
	tests/db/pgtest.c tests/db/pgtest.h
tests_db_test_schema_CFLAGS = $(DB_TEST_CFLAGS)
tests_db_test_schema_LDADD = $(DB_TEST_LIBS)
tests_db_test_ctl_SOURCES = tests/db/test_ctl.c tests/db/test_grants.c tests/db/pgtest.c \
	tests/db/pgtest.h
tests_db_test_ctl_CFLAGS = $(DB_TEST_CFLAGS)
tests_db_test_ctl_LDADD = $(DB_TEST_LIBS)
tests_db_test_async_SOURCES = tests/db/test_async.c tests/db/test_pseudonym.c tests/db/pgtest.c \
	tests/db/pgtest.h
tests_db_test_async_CFLAGS = $(DB_TEST_CFLAGS)
tests_db_test_async_LDADD = $(DB_TEST_LIBS)
