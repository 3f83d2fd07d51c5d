# Included by the top Makefile: `make bench` runs the benchmark suite (bench/run.sh; a few
# minutes on 2 cores). BENCH_QUICK=1 makes it a one-round smoke run.
bench:
	sh bench/run.sh
