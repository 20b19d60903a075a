# tests/obs: what operators read: the metrics page checked by promtool.
TESTS += tests/obs/pg-observe
EXTRA_DIST += tests/obs/pg-observe tests/obs/run-observe
