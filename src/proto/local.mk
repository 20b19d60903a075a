# SPDX-License-Identifier: Apache-2.0
# src/proto: the pure protocol core (libm2mproto.a).
noinst_LIBRARIES += libm2mproto.a
libm2mproto_a_SOURCES = \
	src/proto/proto.h src/proto/crypto.h src/proto/wire.h src/proto/session.h \
	src/proto/server.h src/proto/module.h \
	src/proto/ctx.h src/proto/ctx.c src/proto/p256.c src/proto/kdf.c src/proto/aead.c \
	src/proto/cookie.c src/proto/wire.c src/proto/payload.c src/proto/session.c \
	src/proto/server.c src/proto/module.c src/proto/schedule.c src/proto/schedule.h
