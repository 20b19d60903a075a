# SPDX-License-Identifier: Apache-2.0
# tests/lib: libm2m through its public header, on each crypto backend:
# the known-answer vector and the module role's rules (test_lib_kat_*),
# and m2m-live, a device that the end-to-end tests run against a live m2md
# (tests/server/test_libm2m.c) and tests/install/destdir builds against the
# installed library.
LIB_TEST_CFLAGS = $(TEST_CFLAGS) -I$(top_srcdir)/include
check_PROGRAMS += tests/lib/test_lib_kat
TESTS += tests/lib/test_lib_kat
tests_lib_test_lib_kat_SOURCES = tests/lib/test_lib_kat.c
tests_lib_test_lib_kat_CFLAGS = $(LIB_TEST_CFLAGS)
tests_lib_test_lib_kat_LDADD = libm2m.la $(TEST_LIBS) $(OPENSSL_LIBS)
check_PROGRAMS += tests/lib/m2m-live
tests_lib_m2m_live_SOURCES = tests/lib/live.c
tests_lib_m2m_live_CFLAGS = $(M2M_CFLAGS) -I$(top_srcdir)/include
tests_lib_m2m_live_LDADD = libm2m.la
if HAVE_MBEDTLS
check_PROGRAMS += tests/lib/test_lib_kat_mbedtls tests/lib/test_lib_kat_openssl \
	tests/lib/m2m-live-mbedtls
TESTS += tests/lib/test_lib_kat_mbedtls tests/lib/test_lib_kat_openssl
tests_lib_test_lib_kat_mbedtls_SOURCES = tests/lib/test_lib_kat.c
tests_lib_test_lib_kat_mbedtls_CFLAGS = $(LIB_TEST_CFLAGS)
tests_lib_test_lib_kat_mbedtls_LDADD = libm2m-mbedtls.la $(TEST_LIBS) $(OPENSSL_LIBS)
tests_lib_test_lib_kat_openssl_SOURCES = tests/lib/test_lib_kat.c
tests_lib_test_lib_kat_openssl_CFLAGS = $(LIB_TEST_CFLAGS)
tests_lib_test_lib_kat_openssl_LDADD = libm2m-openssl.la $(TEST_LIBS) $(OPENSSL_LIBS)
tests_lib_m2m_live_mbedtls_SOURCES = tests/lib/live.c
tests_lib_m2m_live_mbedtls_CFLAGS = $(M2M_CFLAGS) -I$(top_srcdir)/include
tests_lib_m2m_live_mbedtls_LDADD = libm2m-mbedtls.la
# The module's CPU per handshake on each backend (doc/benchmarks.md); built
# by make check, run by hand.
check_PROGRAMS += tests/lib/bench-module-openssl tests/lib/bench-module-mbedtls
tests_lib_bench_module_openssl_SOURCES = tests/lib/bench_module.c
tests_lib_bench_module_openssl_CFLAGS = $(LIB_TEST_CFLAGS)
tests_lib_bench_module_openssl_LDADD = libm2m-openssl.la $(OPENSSL_LIBS)
tests_lib_bench_module_mbedtls_SOURCES = tests/lib/bench_module.c
tests_lib_bench_module_mbedtls_CFLAGS = $(LIB_TEST_CFLAGS)
tests_lib_bench_module_mbedtls_LDADD = libm2m-mbedtls.la $(OPENSSL_LIBS)
endif
