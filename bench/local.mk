# SPDX-License-Identifier: Apache-2.0
# bench: the end-to-end benchmark script (bench/run: token, database, m2md,
# m2m-sim, report); run by hand from a build directory, not by make check.
EXTRA_DIST += bench/run
