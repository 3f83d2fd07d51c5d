# mk/install.mk: `make install PREFIX=… DESTDIR=…` (included by the Makefile).
# Installs libnbtls.so.VERSION with its soname link libnbtls.so.0 and the link libnbtls.so,
# libnbtls.a, nbtls.h, tls.h (which includes nbtls.h, for programs written for libtls) and
# nbtls.pc. The version comes from Cargo.toml; the system libraries a static link needs come
# from `cargo rustc -- --print native-static-libs`, checked by tests/install-test.sh.
# The manual pages in man/ go to $(PREFIX)/share/man/man3, each with a symlink for every
# other function its NAME section lists; `make test-man` checks them (tests/check-man.sh).
NBTLS_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
NBTLS_LIBS_PRIVATE ?= -lgcc_s -lutil -lrt -lpthread -lm -ldl
INSTALL ?= install
INSTALL_LIBDIR ?= $(PREFIX)/lib
INSTALL_INCLUDEDIR ?= $(PREFIX)/include
INSTALL_MANDIR ?= $(PREFIX)/share/man

install: lib
	$(INSTALL) -d $(DESTDIR)$(INSTALL_LIBDIR)/pkgconfig $(DESTDIR)$(INSTALL_INCLUDEDIR)
	$(INSTALL) -m 755 $(LIBDIR)/libnbtls.so $(DESTDIR)$(INSTALL_LIBDIR)/libnbtls.so.$(NBTLS_VERSION)
	ln -sf libnbtls.so.$(NBTLS_VERSION) $(DESTDIR)$(INSTALL_LIBDIR)/libnbtls.so.0
	ln -sf libnbtls.so.0 $(DESTDIR)$(INSTALL_LIBDIR)/libnbtls.so
	$(INSTALL) -m 644 $(LIBDIR)/libnbtls.a $(DESTDIR)$(INSTALL_LIBDIR)/libnbtls.a
	$(INSTALL) -m 644 include/nbtls.h include/tls.h $(DESTDIR)$(INSTALL_INCLUDEDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(INSTALL_LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INSTALL_INCLUDEDIR)|' -e 's|@VERSION@|$(NBTLS_VERSION)|' \
	    -e 's|@LIBS_PRIVATE@|$(NBTLS_LIBS_PRIVATE)|' nbtls.pc.in > $(DESTDIR)$(INSTALL_LIBDIR)/pkgconfig/nbtls.pc
	chmod 644 $(DESTDIR)$(INSTALL_LIBDIR)/pkgconfig/nbtls.pc
	$(INSTALL) -d $(DESTDIR)$(INSTALL_MANDIR)/man3
	$(INSTALL) -m 644 man/*.3 $(DESTDIR)$(INSTALL_MANDIR)/man3/
	for page in man/*.3; do \
		base=$${page#man/}; \
		for name in $$(sed -n '/^\.Sh NAME/,/^\.Nd/s/^\.Nm \([A-Za-z0-9_]*\).*/\1/p' $$page); do \
			[ "$$name.3" = "$$base" ] || ln -sf $$base $(DESTDIR)$(INSTALL_MANDIR)/man3/$$name.3 || exit 1; \
		done; \
	done

.PHONY: test-man
test-man:
	sh tests/check-man.sh
