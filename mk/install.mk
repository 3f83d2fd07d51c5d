# mk/install.mk: `make install PREFIX=… DESTDIR=…` (included by the Makefile).
# Installs libnbtls.so.VERSION with its soname link libnbtls.so.0 and the link libnbtls.so,
# libnbtls.a, nbtls.h, tls.h (which includes nbtls.h, for programs written for libtls) and
# nbtls.pc. The version comes from Cargo.toml; the system libraries a static link needs come
# from `cargo rustc -- --print native-static-libs`, checked by tests/install-test.sh.
# The manual pages in man/ go to $(PREFIX)/share/man/man3, each with a symlink for every
# other function its NAME section lists; `make test-man` checks them (tests/check-man.sh).
#
# `make install-libtls` also installs nbtls under libtls's names, for programs built with
# `pkg-config libtls` or `-ltls`: libtls.pc, and libtls.so and libtls.a as links to nbtls's
# libraries (tls.h is installed by `make install`). A program linked this way needs
# libnbtls.so.0, never the system's libtls.so.N. libtls.pc's version is that of the libtls
# whose every export nbtls has (Debian's 3.7.0, tests/check-libtls-symbols.sh), so
# configure checks such as `libtls >= 2.5` pass.
NBTLS_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
NBTLS_LIBS_PRIVATE ?= -lgcc_s -lutil -lrt -lpthread -lm -ldl
INSTALL ?= install
INSTALL_LIBDIR ?= $(PREFIX)/lib
INSTALL_INCLUDEDIR ?= $(PREFIX)/include
INSTALL_MANDIR ?= $(PREFIX)/share/man
LIBTLS_PC_VERSION ?= 3.7.0
PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(INSTALL_LIBDIR)|' \
	-e 's|@INCLUDEDIR@|$(INSTALL_INCLUDEDIR)|' -e 's|@VERSION@|$(NBTLS_VERSION)|' \
	-e 's|@LIBTLS_VERSION@|$(LIBTLS_PC_VERSION)|' -e 's|@LIBS_PRIVATE@|$(NBTLS_LIBS_PRIVATE)|'

install: lib
	$(INSTALL) -d $(DESTDIR)$(INSTALL_LIBDIR)/pkgconfig $(DESTDIR)$(INSTALL_INCLUDEDIR)
	$(INSTALL) -m 755 $(LIBDIR)/libnbtls.so $(DESTDIR)$(INSTALL_LIBDIR)/libnbtls.so.$(NBTLS_VERSION)
	ln -sf libnbtls.so.$(NBTLS_VERSION) $(DESTDIR)$(INSTALL_LIBDIR)/libnbtls.so.0
	ln -sf libnbtls.so.0 $(DESTDIR)$(INSTALL_LIBDIR)/libnbtls.so
	$(INSTALL) -m 644 $(LIBDIR)/libnbtls.a $(DESTDIR)$(INSTALL_LIBDIR)/libnbtls.a
	$(INSTALL) -m 644 include/nbtls.h include/tls.h $(DESTDIR)$(INSTALL_INCLUDEDIR)/
	$(PC_SED) nbtls.pc.in > $(DESTDIR)$(INSTALL_LIBDIR)/pkgconfig/nbtls.pc
	chmod 644 $(DESTDIR)$(INSTALL_LIBDIR)/pkgconfig/nbtls.pc
	$(INSTALL) -d $(DESTDIR)$(INSTALL_MANDIR)/man3
	$(INSTALL) -m 644 man/*.3 $(DESTDIR)$(INSTALL_MANDIR)/man3/
	for page in man/*.3; do \
		base=$${page#man/}; \
		for name in $$(sed -n '/^\.Sh NAME/,/^\.Nd/s/^\.Nm \([A-Za-z0-9_]*\).*/\1/p' $$page); do \
			[ "$$name.3" = "$$base" ] || ln -sf $$base $(DESTDIR)$(INSTALL_MANDIR)/man3/$$name.3 || exit 1; \
		done; \
	done

.PHONY: install-libtls
install-libtls: install
	ln -sf libnbtls.so.0 $(DESTDIR)$(INSTALL_LIBDIR)/libtls.so
	ln -sf libnbtls.a $(DESTDIR)$(INSTALL_LIBDIR)/libtls.a
	$(PC_SED) libtls.pc.in > $(DESTDIR)$(INSTALL_LIBDIR)/pkgconfig/libtls.pc
	chmod 644 $(DESTDIR)$(INSTALL_LIBDIR)/pkgconfig/libtls.pc

.PHONY: test-man
test-man:
	sh tests/check-man.sh
