#!/bin/sh
# Instructions per operation under valgrind's callgrind (user-space instructions, repeatable
# on a noisy machine), for the same work in each harness: each workload runs twice, for N1
# and N2 operations, and (Ir(N2) - Ir(N1)) / (N2 - N1) removes setup and start-up.
# Not part of `make bench` (it takes a few minutes); run after it, which builds everything:
#   sh bench/callgrind.sh                       # nbtls, rustls, openssl, libretls
#   CG_LIBS="nbtls rustls" CG_WORKLOADS="req_resp_us" sh bench/callgrind.sh
# Leaves the N2 profiles in target/bench/callgrind/ for callgrind_annotate --inclusive=yes.
# The CA-count and SNI rows are here because instructions per connection show whether a
# handshake grows with 150 CAs or 50 keypairs better than a noisy rate can. The thread rows
# are not (callgrind runs one thread at a time, and instructions cannot show scaling), nor
# idle_10k (memory, not instructions).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=target/bench/callgrind
CERTS=target/bench/certs
mkdir -p "$OUT"
LIBS=${CG_LIBS:-"nbtls rustls openssl libretls"}
WORKLOADS=${CG_WORKLOADS:-"handshake_full_p256 handshake_full_ca150 handshake_full_sni50 handshake_full_mtls \
handshake_full_mtls_ca150 handshake_resumed bulk_aes128gcm_16k bulk_aes128gcm_1k req_resp_us"}

bin() {
	case $1 in
	nbtls) echo bench/build/tlsbench-nbtls ;;
	libretls) echo bench/build/tlsbench-libretls ;;
	openssl) echo bench/build/sslbench ;;
	rustls) echo target/bench/cargo/release/rustls-native ;;
	esac
}
counts() { # workload -> "N1 N2" operations (connections, writes, round trips)
	case $1 in
	handshake_*) echo "10 60" ;;
	bulk_*_16k) echo "100 600" ;;
	bulk_*) echo "1000 6000" ;;
	*) echo "1000 6000" ;;
	esac
}
ir() { # lib workload n -> total instructions
	f=$OUT/$1.$2.$3.out
	valgrind --tool=callgrind --callgrind-out-file="$f" "$(bin "$1")" "$2" "$CERTS" "-$3" \
		>"$f.log" 2>&1 || true
	grep -m1 '^summary:' "$f" | awk '{print $2}'
}

printf '%-22s %-9s %14s   %s\n' workload library "Ir/op" "(N1, N2)"
for w in $WORKLOADS; do
	set -- $(counts "$w")
	n1=$1 n2=$2
	for lib in $LIBS; do
		a=$(ir "$lib" "$w" "$n1")
		b=$(ir "$lib" "$w" "$n2")
		if grep -q '^SKIP' "$OUT/$lib.$w.$n2.out.log"; then
			printf '%-22s %-9s %14s   %s\n' "$w" "$lib" n/a "$(grep -m1 '^SKIP' "$OUT/$lib.$w.$n2.out.log" | cut -c1-60)"
			continue
		fi
		printf '%-22s %-9s %14.0f   (%s, %s)\n' "$w" "$lib" "$(echo "($b - $a) / ($n2 - $n1)" | bc -l)" "$n1" "$n2"
	done
done
