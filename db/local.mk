# db: build fragment.
