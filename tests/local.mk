# SPDX-License-Identifier: Apache-2.0
# tests: Criterion unit and integration tests, run by make check.
TEST_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS) $(JSONC_CFLAGS) \
	-DTEST_SRCDIR='"$(abs_top_srcdir)/tests"' -DTEST_BUILDDIR='"$(abs_top_builddir)"'
TEST_LIBS = $(CRITERION_LIBS) $(JSONC_LIBS)
AM_TESTS_ENVIRONMENT = SOFTHSM2_MODULE='$(SOFTHSM2_MODULE)'; export SOFTHSM2_MODULE; \
	M2M_TEST_LDFLAGS='$(M2M_LDFLAGS)'; export M2M_TEST_LDFLAGS; \
	M2M_TEST_SYSCONFDIR='$(sysconfdir)'; export M2M_TEST_SYSCONFDIR;
# Every test runs with a deliberately wrong m2md.conf where an installed
# one would be (see the script).
LOG_COMPILER = $(SHELL) $(top_srcdir)/tests/installed-config
EXTRA_DIST += tests/installed-config
# Every source file names its licence (README.md).
TESTS += tests/check-spdx
EXTRA_DIST += tests/check-spdx
EXTRA_DIST += tests/vectors/LICENSE.wycheproof tests/vectors/README.md \
	tests/vectors/aes_gcm_test.json tests/vectors/hkdf_sha256_test.json \
	tests/vectors/ecdh_secp256r1_ecpoint_test.json

include tests/proto/local.mk
include tests/lib/local.mk
include tests/hsm/local.mk
include tests/db/local.mk
include tests/server/local.mk
include tests/sim/local.mk
include tests/man/local.mk
include tests/install/local.mk
include tests/fuzz/local.mk
include tests/faults/local.mk
include tests/obs/local.mk
