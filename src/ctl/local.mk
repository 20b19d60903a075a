# SPDX-License-Identifier: Apache-2.0
# src/ctl: m2mctl, the admin tool. Parts add their subcommand files with
# m2mctl_SOURCES += ... in their own local.mk.
sbin_PROGRAMS += m2mctl
m2mctl_SOURCES = src/ctl/m2mctl.c src/ctl/ctl.h src/ctl/ctl_bench.c src/ctl/bench_proto.c \
	src/ctl/ctl_json.c src/ctl/ctl_json.h src/ctl/ctl_show_json.c src/ctl/ctl_sessions.c \
	src/server/conf.c src/server/conf.h
m2mctl_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(LIBP11_CFLAGS) $(LIBPQ_CFLAGS) $(INIH_CFLAGS) \
	$(JSONC_CFLAGS)
m2mctl_LDADD = $(M2M_PART_LIBS) libm2mproto.a libm2mcommon.a \
	$(LIBPQ_LIBS) $(LIBP11_LIBS) $(LIBEVENT_LIBS) $(INIH_LIBS) $(JSONC_LIBS) $(OPENSSL_LIBS) \
	-lpthread
