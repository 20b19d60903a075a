# SPDX-License-Identifier: Apache-2.0
# src/proto: the pure protocol core (libm2mproto.a) on the OpenSSL backend
# (src/crypto), which m2md, m2mctl and m2m-sim link.
PROTO_CORE_SOURCES = \
	src/proto/proto.h src/proto/crypto.h src/proto/wire.h src/proto/session.h \
	src/proto/server.h src/proto/module.h \
	src/proto/ctx.h src/proto/ctx.c src/proto/p256.c src/proto/kdf.c src/proto/aead.c \
	src/proto/cookie.c src/proto/wire.c src/proto/payload.c src/proto/session.c \
	src/proto/server.c src/proto/module.c src/proto/schedule.c src/proto/schedule.h \
	src/crypto/backend.h
noinst_LIBRARIES += libm2mproto.a
libm2mproto_a_SOURCES = $(PROTO_CORE_SOURCES) src/crypto/openssl.c

# The same core on the Mbed TLS backend, for the tests that show both
# backends give the same bytes (tests/proto/local.mk).
if HAVE_MBEDTLS
check_LIBRARIES += libm2mproto_mbedtls.a
libm2mproto_mbedtls_a_SOURCES = $(PROTO_CORE_SOURCES) src/crypto/mbedtls.c
libm2mproto_mbedtls_a_CFLAGS = $(M2M_CFLAGS) $(MBEDTLS_CFLAGS)
endif
EXTRA_DIST += src/crypto/mbedtls.c
