#!/bin/sh
# Runs the tests of the bindings for other languages against target/release/libnbtls.so
# (`make lib` first): the Python binding's pytest suite, then the Rust extern "C" crate's
# cargo tests.  Exit status non-zero when any fails.
# The Python binding is tested as a user gets it: `pip install bindings/python` into a
# virtualenv under target/ (nothing is installed system-wide; pip fetches setuptools and
# pytest from PyPI the first time), then its tests import the installed package. Also
# checked: the package's version is Cargo.toml's, it finds libnbtls.so.0 through the
# dynamic loader with NBTLS_LIBDIR unset, and it says clearly when it finds none.
#   NBTLS_LIBDIR  the library's directory (default: target/release)
#   NBTLS_CERTS   the test PKI (default: generated into target/certs)
#   PYTHON, CARGO as usual
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
: "${NBTLS_LIBDIR:=$root/target/release}"
: "${NBTLS_CERTS:=$root/target/certs}"
export NBTLS_LIBDIR NBTLS_CERTS
PYTHON=${PYTHON:-python3}
CARGO=${CARGO:-cargo}

if [ ! -e "$NBTLS_LIBDIR/libnbtls.so" ]; then
	echo "run-bindings: $NBTLS_LIBDIR/libnbtls.so is missing: run 'make lib'" >&2
	exit 1
fi
if [ ! -e "$NBTLS_LIBDIR/libnbtls.so.0" ]; then
	echo "run-bindings: $NBTLS_LIBDIR/libnbtls.so.0 is missing (the library build makes it): run 'make lib'" >&2
	exit 1
fi
[ -f "$NBTLS_CERTS/.done" ] || sh "$root/tests/gen-certs.sh" "$NBTLS_CERTS" >/dev/null || exit 1

python_package() {
	venv=$root/target/python-venv
	py=$venv/bin/python
	if [ ! -x "$py" ]; then
		"$PYTHON" -m venv "$venv" || return 1
	fi
	# setuptools builds in the source tree; a stale build/ could ship files since removed.
	rm -rf "$root/bindings/python/build" "$root/bindings/python/nbtls.egg-info"
	"$py" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps \
		"$root/bindings/python" || { echo "run-bindings: pip install bindings/python failed"; return 1; }
	rm -rf "$root/bindings/python/build" "$root/bindings/python/nbtls.egg-info"
	"$py" -c 'import pytest' 2>/dev/null ||
		"$py" -m pip install -q --disable-pip-version-check pytest || return 1
	want=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
	got=$("$py" -c 'import importlib.metadata as m; print(m.version("nbtls"))')
	[ "$got" = "$want" ] || { echo "run-bindings: the Python package is $got, Cargo.toml $want"; return 1; }
	tmp=$(mktemp -d)
	# Installed: imported from the virtualenv, and without NBTLS_LIBDIR it loads the library
	# the dynamic loader finds (here through LD_LIBRARY_PATH).
	where=$(cd "$tmp" && env -u NBTLS_LIBDIR LD_LIBRARY_PATH="$NBTLS_LIBDIR" "$py" -c \
		'import nbtls; print(nbtls.__file__, nbtls.library_path)') || { rm -rf "$tmp"; return 1; }
	case "$where" in
	"$venv"/*" libnbtls.so.0") ;;
	*) echo "run-bindings: installed package loaded as '$where'"; rm -rf "$tmp"; return 1 ;;
	esac
	# None to be found: ImportError naming the library and NBTLS_LIBDIR.
	if (cd "$tmp" && NBTLS_LIBDIR="$tmp" "$py" -c 'import nbtls' 2>"$tmp/err"); then
		echo "run-bindings: nbtls imported with NBTLS_LIBDIR naming an empty directory"; rm -rf "$tmp"; return 1
	fi
	grep -q "ImportError: nbtls: cannot load libnbtls.so.0.*NBTLS_LIBDIR" "$tmp/err" ||
		{ cat "$tmp/err"; echo "run-bindings: unclear message when no library is found"; rm -rf "$tmp"; return 1; }
	rm -rf "$tmp"
	# The tests, against the installed package.
	(cd "$root" && "$py" -m pytest -q -p no:cacheprovider bindings/python/tests)
}

failed=""
echo "== Python binding (pip install bindings/python into target/python-venv, ctypes)"
python_package || failed="$failed python"
echo "== Rust through extern \"C\" (bindings/rust-extern)"
(cd "$root/bindings/rust-extern" && "$CARGO" test --offline --locked -q) || failed="$failed rust-extern"

if [ -n "$failed" ]; then
	echo "run-bindings: FAILED:$failed"
	exit 1
fi
echo "run-bindings: python and rust-extern binding tests passed"
