# SPDX-License-Identifier: Apache-2.0
# tests/obs: what operators read: the metrics page checked by promtool and
# against /proc, the metrics the shipped rules and dashboard query present
# on a live m2md's page, m2mctl --json (test_obs), the rules checked and
# unit-tested by promtool (check-rules).
TESTS += tests/obs/pg-observe tests/obs/check-rules tests/obs/completion
EXTRA_DIST += tests/obs/pg-observe tests/obs/run-observe tests/obs/check-rules \
	tests/obs/completion \
	tests/obs/rules.test.yml
check_PROGRAMS += tests/obs/json-exprs
tests_obs_json_exprs_SOURCES = tests/obs/json-exprs.c
tests_obs_json_exprs_CFLAGS = $(TEST_CFLAGS)
tests_obs_json_exprs_LDADD = $(JSONC_LIBS)
check_PROGRAMS += tests/obs/test_obs
tests_obs_test_obs_SOURCES = tests/obs/test_json.c tests/obs/test_sessions.c \
	tests/obs/obstest.c tests/obs/obstest.h \
	tests/server/srvtest.c tests/server/srvtest.h
tests_obs_test_obs_CFLAGS = $(TEST_CFLAGS)
tests_obs_test_obs_LDADD = libtestclient.a libm2mdb.a libm2mproto.a libm2mcommon.a \
	$(TEST_LIBS) $(LIBPQ_LIBS) $(OPENSSL_LIBS) -lpthread
