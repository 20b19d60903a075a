# hsm: build fragment.
