# SPDX-License-Identifier: Apache-2.0
# doc: build fragment. The known-answer vector goes with the library's
# docs for porters (doc/devices.md, section 6).
dist_doc_DATA += doc/protocol.md doc/architecture.md doc/benchmarks.md doc/security.md \
	doc/devices.md tests/vectors/handshake_kat.txt
