# SPDX-License-Identifier: Apache-2.0
# tests/man: the manual pages document every option and configuration key
# the code accepts (extracted from the sources), and mandoc -Tlint is clean;
# every test the documents name exists (claims).
TESTS += tests/man/options tests/man/sim-options tests/man/claims
EXTRA_DIST += tests/man/options tests/man/sim-options tests/man/options.sh tests/man/claims
