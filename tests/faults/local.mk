# SPDX-License-Identifier: Apache-2.0
# tests/faults: m2md under faults and abuse, end to end on a real SoftHSM2
# token (behind the test PKCS#11 module where the HSM must misbehave) and a
# throwaway PostgreSQL (tests/db/with-pg): PostgreSQL restarted under load,
# HSM failures and latency, the real token's directory taken away and
# given back (test_token.c), HELLO floods from many loopback sources, junk
# datagrams, a module that keeps failing authentication, a wire observer
# that knows a module's pseudonym and tokens, commits paused in PostgreSQL
# (no module left locked out), a reused RETRY cookie, replayed messages
# (test_answers). check-sql checks
# that every SQL statement the server sends is a prepared one.
FAULT_TESTS = tests/faults/test_faults tests/faults/test_abuse tests/faults/test_answers
check_PROGRAMS += $(FAULT_TESTS)
TESTS += tests/faults/pg-faults tests/faults/check-sql
EXTRA_DIST += tests/faults/pg-faults tests/faults/run-fault-tests tests/faults/check-sql
FAULT_COMMON = tests/faults/faults.c tests/faults/faults.h tests/server/srvtest.c \
	tests/server/srvtest.h tests/server/lockout.c tests/server/lockout.h
FAULT_LIBS = libtestclient.a libm2mdb.a libm2mproto.a libm2mcommon.a \
	$(TEST_LIBS) $(LIBPQ_LIBS) $(OPENSSL_LIBS) -lpthread
# They load the shim into m2md and run m2md, m2mctl and m2m-sim (built by all).
$(FAULT_TESTS): tests/hsm/m2mshim.la
tests_faults_test_faults_SOURCES = tests/faults/test_faults.c tests/faults/test_lockout.c \
	tests/faults/test_token.c \
	$(FAULT_COMMON)
tests_faults_test_faults_CFLAGS = $(TEST_CFLAGS)
tests_faults_test_faults_LDADD = $(FAULT_LIBS)
tests_faults_test_abuse_SOURCES = tests/faults/test_abuse.c tests/faults/test_observer.c \
	$(FAULT_COMMON)
tests_faults_test_abuse_CFLAGS = $(TEST_CFLAGS)
tests_faults_test_abuse_LDADD = $(FAULT_LIBS)
# What a RETRY cookie or a replayed message can get out of m2md.
tests_faults_test_answers_SOURCES = tests/faults/test_cookie.c tests/faults/test_amplify.c \
	$(FAULT_COMMON)
tests_faults_test_answers_CFLAGS = $(TEST_CFLAGS)
tests_faults_test_answers_LDADD = $(FAULT_LIBS)
