# doc: build fragment.
dist_doc_DATA += doc/protocol.md
