# SPDX-License-Identifier: Apache-2.0
# module-sim: m2m-sim, the multithreaded module simulator (DESIGN §4).
bin_PROGRAMS += m2m-sim
SIM_CORE_SOURCES = module-sim/creds.c module-sim/creds.h module-sim/hist.c module-sim/hist.h
m2m_sim_SOURCES = $(SIM_CORE_SOURCES) module-sim/sim.h module-sim/main.c \
	module-sim/opts.c module-sim/net.c module-sim/thread.c module-sim/thread.h \
	module-sim/vmod.c module-sim/report.c
m2m_sim_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
m2m_sim_LDADD = libm2mproto.a libm2mcommon.a $(LIBEVENT_LIBS) $(OPENSSL_LIBS) -lpthread -lm
dist_man_MANS += man/m2m-sim.1
