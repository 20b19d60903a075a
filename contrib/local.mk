# SPDX-License-Identifier: Apache-2.0
# contrib: build fragment.
# The systemd unit, the sample configuration and the operator's guide.

# --- The sample configuration: $(sysconfdir)/m2md/m2md.conf -------------
# Installed only where no file exists yet, so that an upgrade never
# overwrites a site's configuration; uninstalled only while it is still
# identical to the sample (a changed file is kept and reported). The
# pristine sample also goes to $(docdir) for comparison.
m2mdconfdir = $(sysconfdir)/m2md
dist_doc_DATA += contrib/m2md.conf doc/operations.md

install-data-local: install-m2md-conf
uninstall-local: uninstall-m2md-conf
.PHONY: install-m2md-conf uninstall-m2md-conf

install-m2md-conf:
	$(MKDIR_P) '$(DESTDIR)$(m2mdconfdir)'
	@f='$(DESTDIR)$(m2mdconfdir)/m2md.conf'; \
	if test -e "$$f" || test -h "$$f"; then \
	  echo "m2md: keeping the existing $$f (the new sample is $(docdir)/m2md.conf)"; \
	else \
	  echo " $(INSTALL_DATA) $(srcdir)/contrib/m2md.conf '$$f'"; \
	  $(INSTALL_DATA) $(srcdir)/contrib/m2md.conf "$$f"; \
	fi

uninstall-m2md-conf:
	@f='$(DESTDIR)$(m2mdconfdir)/m2md.conf'; \
	if test -f "$$f" && cmp -s "$$f" $(srcdir)/contrib/m2md.conf; then \
	  echo " rm -f '$$f'"; rm -f "$$f"; \
	elif test -e "$$f"; then \
	  echo "m2md: keeping $$f: it differs from the sample (remove it by hand)"; \
	fi; \
	rmdir '$(DESTDIR)$(m2mdconfdir)' 2>/dev/null || :

# --- bash completion: one file, under each command's name -------------
# bash-completion loads a command's completion from a file named after it.
EXTRA_DIST += contrib/bash-completion/m2m
install-data-local: install-m2m-completion
uninstall-local: uninstall-m2m-completion
.PHONY: install-m2m-completion uninstall-m2m-completion
install-m2m-completion:
	$(MKDIR_P) '$(DESTDIR)$(bashcompletiondir)'
	for c in m2md m2mctl m2m-sim; do \
	  $(INSTALL_DATA) $(srcdir)/contrib/bash-completion/m2m "$(DESTDIR)$(bashcompletiondir)/$$c" || exit 1; \
	done
uninstall-m2m-completion:
	for c in m2md m2mctl m2m-sim; do rm -f "$(DESTDIR)$(bashcompletiondir)/$$c"; done

# --- Prometheus rules and a Grafana dashboard --------------------------
# With the documentation: they are examples to adapt (thresholds, job
# name), not configuration m2md reads.
prometheusdir = $(docdir)/prometheus
dist_prometheus_DATA = contrib/prometheus/m2md.rules.yml
grafanadir = $(docdir)/grafana
dist_grafana_DATA = contrib/grafana/m2md-dashboard.json

# --- The systemd unit ----------------------------------------------------
# Paths are substituted at make time so that they are fully expanded and
# follow "make prefix=..." overrides. Type=notify when m2md is built with
# libsystemd (it calls sd_notify READY=1), else Type=simple. Built only
# when it is installed (configure --with-systemdsystemunitdir=no: neither).
# With it: the maintenance unit and its monthly timer, the m2md user and
# group (sysusers.d) and its directories (tmpfiles.d).
EXTRA_DIST += contrib/m2md.service.in contrib/m2md-maintain.service.in \
	contrib/m2md-maintain.timer contrib/sysusers.d/m2md.conf contrib/tmpfiles.d/m2md.conf
CLEANFILES += contrib/m2md.service contrib/m2md-maintain.service
if HAVE_SYSTEMDUNITDIR
systemdsystemunit_DATA = contrib/m2md.service contrib/m2md-maintain.service \
	contrib/m2md-maintain.timer
sysusers_DATA = contrib/sysusers.d/m2md.conf
tmpfiles_DATA = contrib/tmpfiles.d/m2md.conf
endif

contrib/m2md-maintain.service: $(srcdir)/contrib/m2md-maintain.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@docdir[@]|$(docdir)|g' \
	    $(srcdir)/contrib/m2md-maintain.service.in > $@.tmp && \
	mv $@.tmp $@

contrib/m2md.service: $(srcdir)/contrib/m2md.service.in config.h Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib && \
	if grep -q '^#define HAVE_LIBSYSTEMD 1' config.h; then type=notify; else type=simple; fi && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' \
	    -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	    -e 's|@docdir[@]|$(docdir)|g' \
	    -e "s|@M2MD_SERVICE_TYPE[@]|$$type|g" \
	    $(srcdir)/contrib/m2md.service.in > $@.tmp && \
	mv $@.tmp $@

# make distcheck installs as non-root into a staged prefix: keep the unit
# inside it whatever systemd.pc says.
AM_DISTCHECK_CONFIGURE_FLAGS = --with-systemdsystemunitdir='$${libdir}/systemd/system'
