# tests/obs: what operators read: the metrics page checked by promtool.
TESTS += tests/obs/pg-observe
EXTRA_DIST += tests/obs/pg-observe tests/obs/run-observe
check_PROGRAMS += tests/obs/test_obs
tests_obs_test_obs_SOURCES = tests/obs/test_json.c tests/obs/obstest.c tests/obs/obstest.h \
	tests/server/srvtest.c tests/server/srvtest.h
tests_obs_test_obs_CFLAGS = $(TEST_CFLAGS)
tests_obs_test_obs_LDADD = libtestclient.a libm2mdb.a libm2mproto.a libm2mcommon.a \
	$(TEST_LIBS) $(LIBPQ_LIBS) $(OPENSSL_LIBS) -lpthread
