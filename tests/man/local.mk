# SPDX-License-Identifier: Apache-2.0
# tests/man: the manual pages document every option and configuration key
# the code accepts (extracted from the sources), and mandoc -Tlint is clean.
TESTS += tests/man/options tests/man/sim-options
EXTRA_DIST += tests/man/options tests/man/sim-options tests/man/options.sh
