# doc: build fragment.
