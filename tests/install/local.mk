# tests/install: make install into a DESTDIR, check where everything went,
# run the installed m2mctl and m2md -t against a SoftHSM2 token and a
# throwaway PostgreSQL (tests/db/with-pg), then make uninstall.
TESTS += tests/install/destdir tests/install/demo
EXTRA_DIST += tests/install/destdir tests/install/demo

# The installation directories, fully expanded, for the test to eval.
.PHONY: m2m-install-paths
m2m-install-paths:
	@echo "prefix='$(prefix)' sbindir='$(sbindir)' bindir='$(bindir)'"
	@echo "sysconfdir='$(sysconfdir)' pkgdatadir='$(pkgdatadir)' docdir='$(docdir)'"
	@echo "mandir='$(mandir)' systemdsystemunitdir='$(systemdsystemunitdir)'"
