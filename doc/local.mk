# SPDX-License-Identifier: Apache-2.0
# doc: build fragment.
dist_doc_DATA += doc/protocol.md doc/architecture.md doc/benchmarks.md doc/security.md
