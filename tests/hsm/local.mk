# tests/hsm: build fragment.
