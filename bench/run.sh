#!/bin/sh
# nbtls benchmark suite: builds nbtls and every harness, runs each workload for each library
# interleaved (nbtls, libretls, openssl, rustls, limit, then the next workload; then the next
# round), prints one table and writes bench/results/latest.json and latest.svg.
# Figures are CPU time of the process with both ends in one thread, except latency_tcp_ms:
# wall-clock milliseconds of a fresh loopback TCP connection (Nagle on) with one 50-byte
# request and reply, the median of 30 (a delayed-ACK stall shows as ~40 ms); and the thread
# rows (*_2t, *_1t_wall): connections per wall-clock second of one or two threads sharing
# one config and listener, SECS of wall-clock time each. A *_2t row in BENCH_WORKLOADS runs
# its *_1t_wall row just before it for the same library, so the ratio compares runs
# taken moments apart; idle_10k (10,000 connections held open) runs in the first round only.
# Benchmarks are not tests: it asserts no figure and exits 0 when it ran.
#
#   sh bench/run.sh                      # the full suite: 5 rounds, 0.3 s CPU per measurement
#   BENCH_ROUNDS=3 BENCH_SECS=0.5 sh bench/run.sh
#   BENCH_QUICK=1 sh bench/run.sh        # 1 round of 0.02 s: checks that everything still runs
#                                        # (results go to target/bench/quick/, not bench/results/)
#   BENCH_LIBS="nbtls rustls" BENCH_WORKLOADS="req_resp_us" sh bench/run.sh
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
MAKE=${MAKE:-make}
CARGO=${CARGO:-cargo}
PYTHON=${PYTHON:-python3}
if [ -n "${BENCH_QUICK:-}" ]; then
	ROUNDS=${BENCH_ROUNDS:-1} SECS=${BENCH_SECS:-0.02} RESULTS=${BENCH_RESULTS:-target/bench/quick}
else
	ROUNDS=${BENCH_ROUNDS:-5} SECS=${BENCH_SECS:-0.3} RESULTS=${BENCH_RESULTS:-bench/results}
fi
LIBS=${BENCH_LIBS:-"nbtls libretls openssl rustls limit"}
WORKLOADS=${BENCH_WORKLOADS:-"handshake_full_p256 handshake_full_ca150 handshake_full_sni50 \
handshake_full_mtls handshake_full_mtls_ca150 handshake_full_p256_hybrid handshake_full_rsa2048 handshake_resumed \
handshake_resumed_aes256 \
bulk_aes128gcm_16k bulk_aes256gcm_16k bulk_chacha20_16k \
bulk_aes128gcm_1k bulk_aes256gcm_1k bulk_chacha20_1k bulk_record_16k bulk_record_16k_ra \
req_resp_us latency_tcp_ms mem_per_conn handshake_full_2t handshake_resumed_2t idle_10k"}
OUT=target/bench
CERTS=$OUT/certs
RAW=$OUT/raw.txt

echo "== building (nbtls release, C harnesses, native rustls and limit)"
$MAKE --no-print-directory lib >/dev/null
$MAKE --no-print-directory -C bench >/dev/null
$CARGO build --release --locked --quiet --manifest-path bench/rustls-native/Cargo.toml \
	--target-dir "$OUT/cargo"
sh tests/gen-certs.sh "$CERTS"
sh bench/gen-scale-certs.sh "$CERTS"

bin() {
	case $1 in
	nbtls) echo bench/build/tlsbench-nbtls ;;
	libretls) echo bench/build/tlsbench-libretls ;;
	openssl) echo bench/build/sslbench ;;
	rustls) echo "$OUT/cargo/release/rustls-native" ;;
	limit) echo "$OUT/cargo/release/limit" ;;
	esac
}

echo "== $ROUNDS round(s), $SECS s of CPU (wall clock for the thread rows) per measurement; libraries: $LIBS"
: >"$RAW"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	printf 'round %s:' "$r"
	for w in $WORKLOADS; do
		[ "$w" = idle_10k ] && [ "$r" -gt 1 ] && continue # memory: one round says it all
		printf ' %s' "$w"
		for lib in $LIBS; do
			# A two-thread row runs right after its one-thread row (wall clock: the load of
			# the machine must be the same for both).
			case $w in *_2t) runs="${w%_2t}_1t_wall $w" ;; *) runs=$w ;; esac
			for one in $runs; do
				pre=
				# Heap bytes come from the counting allocator shim, loaded only for these
				# workloads; reads per record from the read-counting shim, for bulk_record_*.
				case $one in mem_per_conn | idle_10k) pre="LD_PRELOAD=$ROOT/bench/build/memcount.so" ;; esac
				case $one in bulk_record_*) pre="LD_PRELOAD=$ROOT/bench/build/iocount.so" ;; esac
				env $pre "$(bin "$lib")" "$one" "$CERTS" "$SECS" 2>&1 </dev/null |
					sed "s/^/$lib $r /" >>"$RAW" || true
			done
		done
	done
	echo
	r=$((r + 1))
done

mkdir -p "$RESULTS"
$PYTHON bench/report.py "$RAW" "$RESULTS/latest.json" "$RESULTS/latest.svg"
