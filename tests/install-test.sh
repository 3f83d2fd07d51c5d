#!/bin/sh
# Installs nbtls into a temporary DESTDIR (`make install PREFIX=/usr/local DESTDIR=…`) and
# builds a program from outside the tree with nothing but pkg-config: once shared
# (`pkg-config --cflags --libs nbtls`), once static (`pkg-config --static --cflags --libs
# nbtls`, against a copy of the installed tree without the shared library, as on a system
# that has only libnbtls.a). Both programs run. Also checks that Libs.private names every
# system library rustc says a static link needs, and that the manual pages are installed with
# a link for every exported function.
#
# Then `make install-libtls` into a second DESTDIR: the same program is built with nothing
# but `pkg-config --cflags --libs libtls` (and once with a bare -ltls), must NEED
# libnbtls.so.0 and not the system's libtls.so.N (Debian's libtls-dev may be installed too
# and would satisfy a careless build), and runs. With the system libtls installed, a program
# built against it runs on nbtls through a libtls.so.N link on LD_LIBRARY_PATH, as the
# README describes.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
CC=${CC:-cc}
MAKE=${MAKE:-make}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=/usr/local

$MAKE -C "$top" --no-print-directory install PREFIX=$prefix DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; echo "install-test: make install failed"; exit 1; }
lib=$tmp/root$prefix/lib
for f in libnbtls.so libnbtls.so.0 libnbtls.a pkgconfig/nbtls.pc; do
	[ -e "$lib/$f" ] || { echo "install-test: $prefix/lib/$f not installed"; exit 1; }
done
for f in nbtls.h tls.h; do
	[ -f "$tmp/root$prefix/include/$f" ] || { echo "install-test: $prefix/include/$f not installed"; exit 1; }
done
[ "$(readlink "$lib/libnbtls.so")" = libnbtls.so.0 ] || { echo "install-test: libnbtls.so is not a link to libnbtls.so.0"; exit 1; }
for f in libtls.so libtls.a pkgconfig/libtls.pc; do
	[ ! -e "$lib/$f" ] || { echo "install-test: make install installed $f (only make install-libtls may)"; exit 1; }
done

# Manual pages: the family pages themselves, a link for each other function they name, and a
# page for every exported function.
man3=$tmp/root$prefix/share/man/man3
[ -f "$man3/tls_read.3" ] && [ ! -L "$man3/tls_read.3" ] || { echo "install-test: tls_read.3 is not installed as a page"; exit 1; }
for pair in tls_write:tls_read tls_conn_group:tls_conn_version tls_feed:tls_connect_mem \
	tls_config_set_read_ahead: tls_accept_fds:tls_accept_socket tls_peer_ocsp_url:tls_ocsp_process_response; do
	name=${pair%%:*} target=${pair#*:}
	if [ -n "$target" ]; then
		[ "$(readlink "$man3/$name.3")" = "$target.3" ] || { echo "install-test: $name.3 is not a link to $target.3"; exit 1; }
	else
		[ -f "$man3/$name.3" ] && [ ! -L "$man3/$name.3" ] || { echo "install-test: $name.3 is not installed as a page"; exit 1; }
	fi
done
while read -r sym; do
	[ -f "$man3/$sym.3" ] || { echo "install-test: no manual page $prefix/share/man/man3/$sym.3"; exit 1; }
done < "$top/capi-tests/symbols.txt"

# The system libraries a static link needs, as rustc reports them, are all in Libs.private.
need=$(cd "$top" && cargo rustc --release --lib --crate-type staticlib -q -- --print native-static-libs 2>&1 |
	sed -n 's/.*native-static-libs: //p' | tail -n 1)
private=$(sed -n 's/^Libs.private: //p' "$lib/pkgconfig/nbtls.pc")
for l in $need; do
	[ "$l" = -lc ] && continue
	case " $private " in *" $l "*) ;; *) echo "install-test: Libs.private lacks $l (rustc: $need)"; exit 1 ;; esac
done

# A program written for libtls, outside the tree.
mkdir "$tmp/prog"
cat > "$tmp/prog/prog.c" <<'C'
#include <stdio.h>
#include <tls.h>

int
main(void)
{
	struct tls_config *cfg;
	struct tls *ctx;

	if (tls_init() != 0 || (cfg = tls_config_new()) == NULL || (ctx = tls_client()) == NULL)
		return 1;
	if (tls_config_set_ciphers(cfg, "secure") != 0 || tls_configure(ctx, cfg) != 0) {
		fprintf(stderr, "prog: %s\n", tls_config_error(cfg));
		return 1;
	}
	printf("prog: TLS_API %d, CA file %s\n", TLS_API, tls_default_ca_cert_file());
	tls_free(ctx);
	tls_config_free(cfg);
	return 0;
}
C
build() { # root static-flag output
	PKG_CONFIG_SYSROOT_DIR=$1 PKG_CONFIG_LIBDIR=$1$prefix/lib/pkgconfig pkg-config $2 --cflags --libs nbtls
}

# Shared.
flags=$(build "$tmp/root" "")
(cd "$tmp/prog" && $CC -Wall -Werror -o prog-shared prog.c $flags)
readelf -d "$tmp/prog/prog-shared" | grep -q 'NEEDED.*libnbtls.so.0' ||
	{ echo "install-test: the shared program does not need libnbtls.so.0"; exit 1; }
LD_LIBRARY_PATH=$lib "$tmp/prog/prog-shared"

# Static: a tree with libnbtls.a only.
mkdir -p "$tmp/static"
cp -R "$tmp/root/." "$tmp/static/"
rm -f "$tmp/static$prefix/lib/"libnbtls.so*
flags=$(build "$tmp/static" --static)
(cd "$tmp/prog" && $CC -Wall -Werror -o prog-static prog.c $flags)
if readelf -d "$tmp/prog/prog-static" | grep -q 'NEEDED.*libnbtls'; then
	echo "install-test: the static program needs libnbtls.so"; exit 1
fi
"$tmp/prog/prog-static"

# install-libtls: the program as a libtls program, built with pkg-config libtls and -ltls only.
$MAKE -C "$top" --no-print-directory install-libtls PREFIX=$prefix DESTDIR="$tmp/compat" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; echo "install-test: make install-libtls failed"; exit 1; }
clib=$tmp/compat$prefix/lib
[ "$(readlink "$clib/libtls.so")" = libnbtls.so.0 ] || { echo "install-test: libtls.so is not a link to libnbtls.so.0"; exit 1; }
pc() { PKG_CONFIG_SYSROOT_DIR="$tmp/compat" PKG_CONFIG_LIBDIR=$clib/pkgconfig pkg-config "$@"; }
flags=$(pc --cflags --libs libtls)
case " $flags " in *" -ltls "*) ;; *) echo "install-test: pkg-config libtls gives '$flags', without -ltls"; exit 1 ;; esac
pc --atleast-version=2.5 libtls || { echo "install-test: libtls.pc's version is below 2.5"; exit 1; }
# <tls.h> must resolve to nbtls's header, not the system's.
printf '#include <tls.h>\n#ifndef NBTLS_H\n#error not nbtls tls.h\n#endif\nint main(void) { return 0; }\n' > "$tmp/prog/which.c"
(cd "$tmp/prog" && $CC -o which which.c $(pc --cflags libtls)) || { echo "install-test: <tls.h> is not nbtls's with pkg-config libtls"; exit 1; }
(cd "$tmp/prog" && $CC -Wall -Werror -o prog-libtls prog.c $flags)
(cd "$tmp/prog" && $CC -Wall -Werror -o prog-ltls prog.c -I"$tmp/compat$prefix/include" -L"$clib" -ltls)
for p in prog-libtls prog-ltls; do
	needed=$(readelf -d "$tmp/prog/$p" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
	case " $needed " in *" libnbtls.so.0 "*) ;; *) echo "install-test: $p needs '$needed', not libnbtls.so.0"; exit 1 ;; esac
	case " $needed " in *" libtls.so"*) echo "install-test: $p needs the system's libtls: $needed"; exit 1 ;; esac
	LD_LIBRARY_PATH=$clib "$tmp/prog/$p"
done

# A program already built against the system's libtls runs on nbtls through a link named
# after the soname it needs (README, "Running libtls programs on nbtls").
if [ -e /usr/include/tls.h ] && ls /usr/lib/*/libtls.so /usr/lib/libtls.so 2>/dev/null | grep -q .; then
	(cd "$tmp/prog" && $CC -o prog-system prog.c -ltls)
	soname=$(readelf -d "$tmp/prog/prog-system" | sed -n 's/.*(NEEDED).*\[\(libtls\.so\.[0-9]*\)\]/\1/p')
	[ -n "$soname" ] || { echo "install-test: the system-built program needs no libtls.so.N"; exit 1; }
	mkdir "$tmp/shim"
	ln -s "$clib/libnbtls.so.0" "$tmp/shim/$soname"
	LD_TRACE_LOADED_OBJECTS=1 LD_LIBRARY_PATH=$tmp/shim "$tmp/prog/prog-system" > "$tmp/ldd"
	grep -q "$soname => $tmp/shim/$soname" "$tmp/ldd" || { cat "$tmp/ldd"; echo "install-test: $soname did not resolve to nbtls"; exit 1; }
	! grep -q 'libcrypto\|libssl' "$tmp/ldd" || { cat "$tmp/ldd"; echo "install-test: OpenSSL was loaded"; exit 1; }
	LD_LIBRARY_PATH=$tmp/shim "$tmp/prog/prog-system"
	echo "install-test: a program built against the system's $soname ran on nbtls"
fi
echo "install-test: installed into DESTDIR; shared and static programs built with pkg-config nbtls, and libtls programs built with pkg-config libtls and -ltls, ran"
