# SPDX-License-Identifier: Apache-2.0
# src/server: m2md, the server; a driver of the protocol core.
sbin_PROGRAMS += m2md
m2md_SOURCES = \
	src/server/main.c src/server/server.c src/server/server.h src/server/check.c \
	src/server/keycheck.c src/server/check_db.c src/server/dberr.c src/server/dberr.h \
	src/server/conf.c src/server/conf.h src/server/log.c src/server/log.h \
	src/server/srv.h src/server/net.c src/server/worker.c src/server/worker_init.c \
	src/server/rx.c src/server/node.c src/server/droplog.c \
	src/server/hello.c src/server/auth.c src/server/record.c \
	src/server/table.c src/server/table.h src/server/state.h src/server/halfopen.c \
	src/server/sessions.c src/server/ratelimit.c src/server/ratelimit.h \
	src/server/metrics.c src/server/metrics.h src/server/metrics_proc.c \
	src/server/control.c src/server/control.h src/server/sess_stats.c
m2md_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBPQ_CFLAGS) $(INIH_CFLAGS) $(LIBSYSTEMD_CFLAGS)
m2md_LDADD = $(M2M_PART_LIBS) libm2mproto.a libm2mcommon.a \
	$(LIBPQ_LIBS) $(LIBP11_LIBS) $(LIBEVENT_LIBS) $(INIH_LIBS) $(LIBSYSTEMD_LIBS) \
	$(OPENSSL_LIBS) -lpthread
