# SPDX-License-Identifier: Apache-2.0
# src/common: the error enum shared by every part.
noinst_LIBRARIES += libm2mcommon.a
libm2mcommon_a_SOURCES = src/common/err.c src/common/err.h src/common/hex.c src/common/hex.h
EXTRA_DIST += src/common/errors.def src/proto/errors.def hsm/errors.def db/errors.def src/server/errors.def
