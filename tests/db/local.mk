# tests/db: build fragment.
