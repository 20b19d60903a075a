# SPDX-License-Identifier: Apache-2.0
# tests/sim: m2m-sim tests (Criterion). test_args, test_loopback run the
# built m2m-sim binary; the others link its files directly; pg-sim runs it
# against a real m2md (SoftHSM2, throwaway PostgreSQL).
SIM_TEST_LDADD = libtestutil.a libm2mproto.a libm2mcommon.a $(TEST_LIBS) $(OPENSSL_LIBS) \
	-lpthread -lm
SIM_TEST_UTIL = tests/sim/simtest.c tests/sim/simtest.h
check_PROGRAMS += tests/sim/test_hist tests/sim/test_creds tests/sim/test_args \
	tests/sim/test_loopback tests/sim/test_arrival
TESTS += tests/sim/test_hist tests/sim/test_creds tests/sim/test_args tests/sim/test_loopback \
	tests/sim/test_arrival tests/sim/pg-sim tests/sim/pg-sim-bounded
EXTRA_DIST += tests/sim/pg-sim tests/sim/pg-sim-bounded
tests_sim_test_hist_SOURCES = tests/sim/test_hist.c module-sim/hist.c module-sim/hist.h
tests_sim_test_hist_CFLAGS = $(TEST_CFLAGS)
tests_sim_test_hist_LDADD = $(SIM_TEST_LDADD)
tests_sim_test_creds_SOURCES = tests/sim/test_creds.c module-sim/creds.c module-sim/creds.h \
	$(SIM_TEST_UTIL)
tests_sim_test_creds_CFLAGS = $(TEST_CFLAGS)
tests_sim_test_creds_LDADD = $(SIM_TEST_LDADD)
tests_sim_test_arrival_SOURCES = tests/sim/test_arrival.c module-sim/net.c module-sim/sim.h
tests_sim_test_arrival_CFLAGS = $(TEST_CFLAGS)
tests_sim_test_arrival_LDADD = $(SIM_TEST_LDADD)
tests_sim_test_args_SOURCES = tests/sim/test_args.c $(SIM_TEST_UTIL)
tests_sim_test_args_CFLAGS = $(TEST_CFLAGS)
tests_sim_test_args_LDADD = $(SIM_TEST_LDADD)
tests_sim_test_loopback_SOURCES = tests/sim/test_loopback.c tests/sim/responder.c \
	$(SIM_TEST_UTIL)
tests_sim_test_loopback_CFLAGS = $(TEST_CFLAGS)
tests_sim_test_loopback_LDADD = $(SIM_TEST_LDADD)
