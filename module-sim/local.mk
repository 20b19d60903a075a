# module-sim: build fragment.
