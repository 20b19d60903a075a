# SPDX-License-Identifier: Apache-2.0
# src/lib: libm2m, the module role as an installed library (shared with a
# versioned soname, and static), its public header include/m2m/m2m.h and
# m2m.pc. Only the m2m_ functions of the header are exported; the core's
# proto_ functions stay inside. The crypto backend is configure's
# --with-crypto (OpenSSL by default).
LIBM2M_SOURCES = src/lib/lib.h src/lib/module.c src/lib/handshake.c src/lib/record.c \
	src/lib/state.c include/m2m/m2m.h \
	src/proto/proto.h src/proto/crypto.h src/proto/wire.h src/proto/session.h \
	src/proto/server.h src/proto/module.h src/proto/ctx.h src/proto/schedule.h \
	src/proto/ctx.c src/proto/p256.c src/proto/kdf.c src/proto/aead.c src/proto/wire.c \
	src/proto/payload.c src/proto/session.c src/proto/module.c src/proto/schedule.c \
	src/crypto/backend.h src/common/err.c src/common/err.h
# Interface version current:revision:age (libtool's rules): 0:0:0 is libm2m.so.0.
LIBM2M_LDFLAGS = -version-info 0:0:0 -no-undefined \
	-export-symbols-regex '^m2m_(state_new|module_|rc_str|crypto_backend|ecdh|keygen)'

lib_LTLIBRARIES = libm2m.la
libm2m_la_SOURCES = $(LIBM2M_SOURCES)
if LIBM2M_MBEDTLS
libm2m_la_SOURCES += src/crypto/mbedtls.c
else
libm2m_la_SOURCES += src/crypto/openssl.c
endif
libm2m_la_CFLAGS = $(M2M_CFLAGS) $(LIBM2M_CRYPTO_CFLAGS)
libm2m_la_LDFLAGS = $(AM_LDFLAGS) $(LIBM2M_LDFLAGS)
libm2m_la_LIBADD = $(LIBM2M_CRYPTO_LIBS)

m2mincludedir = $(includedir)/m2m
m2minclude_HEADERS = include/m2m/m2m.h
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = src/lib/m2m.pc
EXTRA_DIST += src/lib/m2m.pc.in

# Both backends in every make check: the library again on the backend
# configure did not pick (a convenience library, not installed).
if HAVE_MBEDTLS
check_LTLIBRARIES += libm2m-mbedtls.la libm2m-openssl.la
libm2m_mbedtls_la_SOURCES = $(LIBM2M_SOURCES) src/crypto/mbedtls.c
libm2m_mbedtls_la_CFLAGS = $(M2M_CFLAGS) $(MBEDTLS_CFLAGS)
libm2m_mbedtls_la_LIBADD = $(MBEDTLS_LIBS)
libm2m_openssl_la_SOURCES = $(LIBM2M_SOURCES) src/crypto/openssl.c
libm2m_openssl_la_CFLAGS = $(M2M_CFLAGS) $(OPENSSL_CFLAGS)
libm2m_openssl_la_LIBADD = $(OPENSSL_LIBS)
endif
