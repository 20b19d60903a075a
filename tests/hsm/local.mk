# SPDX-License-Identifier: Apache-2.0
# tests/hsm: HSM layer tests on a real SoftHSM2 token made in a temporary
# directory, and the test PKCS#11 module (shim) that forwards to SoftHSM2
# with injected latency and failures; test_outage takes the real token's
# directory away. Built by make check, never installed.
# See hsm/local.mk: m2mctl's hsm subcommands, here for the include order.
m2mctl_SOURCES += $(HSM_CTL_SOURCES)

check_LTLIBRARIES += tests/hsm/m2mshim.la
tests_hsm_m2mshim_la_SOURCES = tests/hsm/shim.c tests/hsm/shim.h
tests_hsm_m2mshim_la_LDFLAGS = -module -avoid-version -rpath /nowhere
tests_hsm_m2mshim_la_LIBADD = -ldl

HSM_TEST_COMMON = tests/hsm/tok.c tests/hsm/tok.h tests/hsm/p11raw.c tests/hsm/p11raw.h \
	tests/hsm/drv.c tests/hsm/drv.h
HSM_TEST_LIBS = libm2mhsm.a libm2mproto.a libm2mcommon.a $(TEST_LIBS) \
	$(LIBP11_LIBS) $(LIBEVENT_LIBS) $(OPENSSL_LIBS) -lpthread -ldl
HSM_TESTS = tests/hsm/test_keys tests/hsm/test_errors tests/hsm/test_pool tests/hsm/test_outage
check_PROGRAMS += $(HSM_TESTS)
TESTS += $(HSM_TESTS) tests/hsm/pg-register
EXTRA_DIST += tests/hsm/pg-register
# pg-register runs m2mctl (built by all, which check depends on) under
# tests/db/with-pg.
# The tests load the shim: build it first.
$(HSM_TESTS): tests/hsm/m2mshim.la

tests_hsm_test_keys_SOURCES = tests/hsm/test_keys.c $(HSM_TEST_COMMON)
tests_hsm_test_keys_CFLAGS = $(TEST_CFLAGS) $(LIBEVENT_CFLAGS)
tests_hsm_test_keys_LDADD = $(HSM_TEST_LIBS)
tests_hsm_test_errors_SOURCES = tests/hsm/test_errors.c $(HSM_TEST_COMMON)
tests_hsm_test_errors_CFLAGS = $(TEST_CFLAGS) $(LIBEVENT_CFLAGS)
tests_hsm_test_errors_LDADD = $(HSM_TEST_LIBS)
tests_hsm_test_pool_SOURCES = tests/hsm/test_pool.c $(HSM_TEST_COMMON)
tests_hsm_test_pool_CFLAGS = $(TEST_CFLAGS) $(LIBEVENT_CFLAGS)
tests_hsm_test_pool_LDADD = $(HSM_TEST_LIBS)
tests_hsm_test_outage_SOURCES = tests/hsm/test_outage.c $(HSM_TEST_COMMON)
tests_hsm_test_outage_CFLAGS = $(TEST_CFLAGS) $(LIBEVENT_CFLAGS)
tests_hsm_test_outage_LDADD = $(HSM_TEST_LIBS)
