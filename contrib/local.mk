# contrib: build fragment.
