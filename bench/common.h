/*
 * Shared by the C harnesses: CPU clock, the memcount.so counters, result lines.
 * A harness prints `RESULT <workload> <value> <unit> <higher_is_better>` per figure, or
 * `SKIP <workload> <why>` when its library cannot do the workload; bench/report.py reads them.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MEM_CONNS 100 /* connections held open by the memory workload */
#define REQ_LEN 64    /* request/response sizes of req_resp_us and the memory workload */
#define RESP_LEN 512

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Whether a measurement goes on after `n` operations begun at CPU time `t0`: for `secs` of
 * CPU time when secs >= 0 (at least 4 operations), for exactly -secs operations when it is
 * negative (bench/callgrind.sh counts instructions for a fixed amount of work). */
static int more(double t0, long n, double secs)
{
	if (secs < 0)
		return n < (long)-secs;
	return n < 4 || cpu_now() - t0 < secs;
}

/* Live heap bytes and allocation calls from memcount.so; 0 when it is not preloaded. */
static int heap(long long *live, long long *allocs)
{
	long long (*l)(void) = (long long (*)(void))dlsym(RTLD_DEFAULT, "bench_heap_live");
	long long (*a)(void) = (long long (*)(void))dlsym(RTLD_DEFAULT, "bench_heap_allocs");
	if (l == NULL || a == NULL)
		return 0;
	*live = l();
	*allocs = a();
	return 1;
}

static void result(const char *w, double v, const char *unit, int hib)
{
	printf("RESULT %s %.3f %s %d\n", w, v, unit, hib);
	fflush(stdout);
}

static void skip(const char *w, const char *fmt, ...)
{
	va_list ap;
	printf("SKIP %s ", w);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* A failure that ends this run: the workload gets no entry. */
static const char *current_workload = "?";
static void die(const char *fmt, ...)
{
	va_list ap;
	printf("SKIP %s failed: ", current_workload);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

/* Bulk workloads: which TLS 1.3 suite and write size a workload name asks for. */
static int bulk_params(const char *w, const char **iana, size_t *chunk)
{
	if (strncmp(w, "bulk_", 5) != 0)
		return 0;
	if (strstr(w, "aes128gcm"))
		*iana = "TLS_AES_128_GCM_SHA256";
	else if (strstr(w, "aes256gcm"))
		*iana = "TLS_AES_256_GCM_SHA384";
	else if (strstr(w, "chacha20"))
		*iana = "TLS_CHACHA20_POLY1305_SHA256";
	else
		return 0;
	*chunk = strstr(w, "_1k") ? 1024 : 16384;
	return 1;
}
#endif
