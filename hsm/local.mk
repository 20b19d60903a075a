# SPDX-License-Identifier: Apache-2.0
# hsm: the HSM layer (libm2mhsm.a): PKCS#11 through libp11, keys, ECDH in the
# token, the worker pool; and m2mctl's hsm subcommands and bench.
noinst_LIBRARIES += libm2mhsm.a
M2M_PART_LIBS += libm2mhsm.a
libm2mhsm_a_CFLAGS = $(AM_CFLAGS) $(LIBP11_CFLAGS) $(LIBEVENT_CFLAGS)
libm2mhsm_a_SOURCES = \
	hsm/hsm.h hsm/hsm_int.h hsm/pool_int.h hsm/pkcs11.h \
	hsm/util.c hsm/access.c hsm/ckr.c hsm/config.c hsm/module.c hsm/uri.c hsm/keysel.c \
	hsm/token.c hsm/pin.c hsm/login.c hsm/mech.c hsm/point.c \
	hsm/keyattr.c hsm/keyfind.c hsm/keyserve.c hsm/keygen.c hsm/pem.c \
	hsm/sess.c hsm/session.c hsm/open.c hsm/reopen.c \
	hsm/pool.c hsm/pool_worker.c hsm/pool_client.c hsm/pool_token.c

# m2mctl's hsm subcommands. Added to m2mctl_SOURCES from tests/hsm/local.mk:
# automake wants m2mctl_SOURCES set (src/ctl/local.mk, included after this
# file) before any +=.
HSM_CTL_SOURCES = src/ctl/ctl_hsm.c src/ctl/bench_hsm.c

dist_doc_DATA += doc/hsm.md
