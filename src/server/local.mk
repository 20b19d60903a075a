# src/server: build fragment.
