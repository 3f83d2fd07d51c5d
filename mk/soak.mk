# mk/soak.mk: the load soak. Included by the top Makefile.
#
#   make soak                          SOAK_SECONDS (default 300) at SOAK_CONNS (default 4000)
#                                      concurrent connections
#   make soak SOAK_SECONDS=3600        the long run
#   make soak-quick                    the short version `make test` runs
#
# examples-c/echo-server-epoll runs with tests/soak/alloc-count.so preloaded (a counter of
# live heap allocations) and tests/soak/soak-client drives it with random sizes, closes,
# resets, garbage and silence; tests/soak/soak.py checks that every connection is accounted
# for and that the allocation count at idle is back to its baseline.
SOAK_SECONDS ?= 300
SOAK_CONNS   ?= 4000
SOAK_DIR      = target/soak

.PHONY: soak soak-quick soak-build

$(SOAK_DIR)/alloc-count.so: tests/soak/alloc-count.c
	@mkdir -p $(SOAK_DIR)
	$(CC) $(CWARN) -O2 -shared -fPIC -o $@ $<

$(SOAK_DIR)/soak-client: tests/soak/soak-client.c examples-c/util.h examples-c/tlsapi.h \
		include/nbtls.h $(LIBDIR)/libnbtls.so
	@mkdir -p $(SOAK_DIR)
	$(CC) $(CWARN) -O2 -g -Iexamples-c -Iinclude -o $@ $< -L$(LIBDIR) -lnbtls \
		-Wl,-rpath,$(abspath $(LIBDIR))

soak-build: lib certs examples $(SOAK_DIR)/alloc-count.so $(SOAK_DIR)/soak-client

soak: soak-build
	$(PYTHON) tests/soak/soak.py --seconds $(SOAK_SECONDS) --concurrent $(SOAK_CONNS)

soak-quick: soak-build
	$(PYTHON) tests/soak/soak.py --seconds 10 --concurrent 2000
