# SPDX-License-Identifier: Apache-2.0
# man: the manual pages (mdoc).
dist_man_MANS += man/m2md.8 man/m2md.conf.5 man/m2mctl.8
