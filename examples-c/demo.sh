#!/bin/sh
# demo.sh: what `make demo` runs.  First deadlock-demo: the TLS 1.3 ticket
# deadlock once per ticket policy (IMMEDIATE deadlocks, the default does not).
# Then it starts poll-server on a free loopback port,
# waits until it says "listening on PORT" (no sleeping, no port polling), runs
# blocking-client against it over TLS 1.3 and TLS 1.2, and shows what happened.
#
#   NBTLS_CERTS   certificate directory (default: target/certs; created with
#                 tests/gen-certs.sh when missing)
#   LIBTLS=1      use the programs built against Debian's libtls (build-libtls/)
#   EXAMPLES_BUILD  directory holding the programs (overrides the above)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
certs=${NBTLS_CERTS:-$root/target/certs}
if [ "${LIBTLS:-0}" = 1 ]; then
	bin=${EXAMPLES_BUILD:-$here/build-libtls}
else
	bin=${EXAMPLES_BUILD:-$here/build}
fi

for p in deadlock-demo poll-server blocking-client; do
	if [ ! -x "$bin/$p" ]; then
		echo "demo: $bin/$p is missing: run 'make examples' (or 'make -C examples-c LIBTLS=1')" >&2
		exit 1
	fi
done
[ -f "$certs/.done" ] || sh "$root/tests/gen-certs.sh" "$certs" >/dev/null

if [ "${LIBTLS:-0}" != 1 ]; then
	echo "== deadlock-demo: one HTTP/1.1 exchange per ticket policy"
	# It reports a deadlock by a watchdog and exits; timeout(1) is only a last resort.
	guard=
	if command -v timeout >/dev/null 2>&1; then guard="timeout 60"; fi
	if ! $guard "$bin/deadlock-demo" "$certs"; then
		echo "== demo: FAILED (deadlock-demo)" >&2
		exit 1
	fi
	echo
fi

tmp=$(mktemp -d)
server_pid=
cleanup() {
	exec 3<&- 2>/dev/null || true
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The server's stdout goes into a FIFO that we keep open on fd 3: the first
# line is the readiness signal, and holding the FIFO open means the server
# never writes into a closed pipe.
mkfifo "$tmp/ready"
"$bin/poll-server" -c "$certs/server.pem" -k "$certs/server.key" -a http/1.1 -n 2 0 \
	>"$tmp/ready" 2>"$tmp/server.log" &
server_pid=$!
exec 3<"$tmp/ready"

line=
if ! IFS= read -r line <&3; then
	echo "demo: poll-server exited before it was ready:" >&2
	cat "$tmp/server.log" >&2
	exit 1
fi
case $line in
"listening on "*) port=${line#listening on } ;;
*) echo "demo: unexpected output from poll-server: $line" >&2; exit 1 ;;
esac
echo "== poll-server listening on 127.0.0.1:$port (certificates from $certs)"

# Guard against a hang: coreutils timeout(1) when available.
to=
if command -v timeout >/dev/null 2>&1; then to="timeout 20"; fi

status=0
for v in 1.3 1.2; do
	echo "== blocking-client -p $v -a http/1.1 -C ca.pem localhost $port /"
	if $to "$bin/blocking-client" -C "$certs/ca.pem" -a http/1.1 -p "$v" localhost "$port" / \
		>"$tmp/body" 2>"$tmp/client.err"; then
		echo "   client: $(cat "$tmp/client.err")"
		echo "   body:   $(cat "$tmp/body")"
	else
		echo "   client FAILED:" >&2
		sed 's/^/   /' "$tmp/client.err" >&2
		status=1
	fi
done

# -n 2: the server exits by itself after the two connections (unless a client
# never got through, in which case it is stopped).
[ "$status" = 0 ] || kill "$server_pid" 2>/dev/null || true
if ! wait "$server_pid"; then
	status=1
fi
server_pid=
echo "== poll-server log"
sed 's/^/   /' "$tmp/server.log"
if [ "$status" = 0 ]; then
	echo "== demo: OK"
else
	echo "== demo: FAILED" >&2
fi
exit "$status"
