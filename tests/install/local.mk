# SPDX-License-Identifier: Apache-2.0
# tests/install: make install into a DESTDIR, check where everything went,
# run the installed m2mctl and m2md -t against a SoftHSM2 token and a
# throwaway PostgreSQL (tests/db/with-pg), then make uninstall.
# tests/install/walkthrough: the sh blocks of doc/operations.md (sections 9
# and 3.3) run as written, as root, on a DESTDIR install, a throwaway
# cluster, token directory and user.
# tests/install/libm2m: the library, header, m2m.pc and vector installed; a
# device program built with only pkg-config's flags (shared and static)
# completes a session against the installed m2md.
TESTS += tests/install/destdir tests/install/demo tests/install/walkthrough tests/install/libm2m
EXTRA_DIST += tests/install/destdir tests/install/demo tests/install/walkthrough \
	tests/install/libm2m

# The installation directories, fully expanded, for the test to eval.
.PHONY: m2m-install-paths
m2m-install-paths:
	@echo "prefix='$(prefix)' sbindir='$(sbindir)' bindir='$(bindir)'"
	@echo "sysconfdir='$(sysconfdir)' pkgdatadir='$(pkgdatadir)' docdir='$(docdir)'"
	@echo "libdir='$(libdir)' includedir='$(includedir)'"
	@echo "mandir='$(mandir)' systemdsystemunitdir='$(systemdsystemunitdir)'"
	@echo "sysusersdir='$(sysusersdir)' tmpfilesdir='$(tmpfilesdir)'"
	@echo "bashcompletiondir='$(bashcompletiondir)'"
