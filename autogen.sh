#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Generates configure and Makefile.in from a git checkout.
set -e
cd "$(dirname "$0")"
mkdir -p m4
exec autoreconf -fi
