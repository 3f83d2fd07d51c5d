/*
 * Shared by the C harnesses: CPU clock, the memcount.so counters, result lines.
 * A harness prints `RESULT <workload> <value> <unit> <higher_is_better>` per figure, or
 * `SKIP <workload> <why>` when its library cannot do the workload; bench/report.py reads them.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MEM_CONNS 100 /* connections held open by the memory workload */
#define REQ_LEN 64    /* request/response sizes of req_resp_us and the memory workload */
#define RESP_LEN 512
#define RECORD_LEN 16384 /* bulk_record_*: one full TLS record per write */
#define LAT_CONNS 30     /* latency_tcp_ms: connections per run (the median is reported) */
#define LAT_MSG 50       /* latency_tcp_ms: request and reply sizes */
#define IDLE_CONNS 10000 /* idle_10k: connections held open (2 fds each) */
#define IDLE_CONNS_QUICK 200 /* idle_10k in a quick run (BENCH_QUICK) */

static double clock_s(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_now(void)
{
	return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

/* Wall-clock seconds (CLOCK_MONOTONIC), for the rows that show scaling over threads. */
static double wall_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* Whether a measurement on `clock` goes on after `n` operations begun at `t0`: for `secs` of
 * that clock when secs >= 0 (at least 4 operations), for exactly -secs operations when it is
 * negative (bench/callgrind.sh counts instructions for a fixed amount of work). */
static int more_on(clockid_t clock, double t0, long n, double secs)
{
	if (secs < 0)
		return n < (long)-secs;
	return n < 4 || clock_s(clock) - t0 < secs;
}

/* more_on() in CPU time of the process, the clock of most rows. */
static int more(double t0, long n, double secs)
{
	return more_on(CLOCK_PROCESS_CPUTIME_ID, t0, n, secs);
}

/* more_on() in wall-clock time. */
static int more_wall(double t0, long n, double secs)
{
	return more_on(CLOCK_MONOTONIC, t0, n, secs);
}

/* The process's resident set (VmRSS of /proc/self/status) in bytes; -1 when unreadable. */
static long long rss_bytes(void)
{
	char line[256];
	long long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

/* Raises RLIMIT_NOFILE to at least `need` descriptors: the soft limit, within the hard one,
 * or both when the process may raise the hard limit. Returns NULL, or why it could not. */
static const char *raise_nofile(rlim_t need)
{
	static char why[160];
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return "getrlimit(RLIMIT_NOFILE) failed";
	if (rl.rlim_cur >= need)
		return NULL;
	struct rlimit up = { need, rl.rlim_max > need ? rl.rlim_max : need };
	if (setrlimit(RLIMIT_NOFILE, &up) == 0)
		return NULL;
	snprintf(why, sizeof why, "needs %llu file descriptors; RLIMIT_NOFILE hard limit is %llu "
		 "and raising it failed (%s)", (unsigned long long)need,
		 (unsigned long long)rl.rlim_max, strerror(errno));
	return why;
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

/* Read system calls so far, from iocount.so; -1 when it is not preloaded. */
static long long io_reads(void)
{
	long long (*f)(void) = (long long (*)(void))dlsym(RTLD_DEFAULT, "bench_io_reads");
	return f != NULL ? f() : -1;
}

/* Wall-clock milliseconds (latency is waiting, not CPU). */
static double wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
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

/* A blocking TCP listener on 127.0.0.1 with an ephemeral port (latency_tcp_ms). */
static int tcp_listener(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 || listen(fd, 16) == -1)
		die("listener: %s", strerror(errno));
	return fd;
}

/* A loopback TCP connection with default options (Nagle on): fd[0] the client's, fd[1]
 * the server's, both nonblocking. */
static void tcp_pair(int lfd, int fd[2])
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	if (getsockname(lfd, (struct sockaddr *)&sin, &len) == -1 ||
	    (fd[0] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		die("socket: %s", strerror(errno));
	if (connect(fd[0], (struct sockaddr *)&sin, len) == -1 && errno != EINPROGRESS)
		die("connect: %s", strerror(errno));
	if ((fd[1] = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1)
		die("accept: %s", strerror(errno));
}

/* Waits until one of the two fds is ready for what its side asked (0: nothing). */
static void wait2(int fd0, short ev0, int fd1, short ev1)
{
	struct pollfd p[2] = { { fd0, ev0, 0 }, { fd1, ev1, 0 } };
	int n;
	while ((n = poll(p, 2, 5000)) == -1 && errno == EINTR)
		;
	if (n <= 0)
		die("poll: %s", n == 0 ? "nothing happened for 5 s" : strerror(errno));
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
