/*
 * tlsbench: the benchmark workloads written once against the libtls API. Built twice, against
 * nbtls (-Iinclude -lnbtls) and against Debian's libtls (libretls on OpenSSL, -ltls). Both ends
 * of every connection live in this one thread over a nonblocking AF_UNIX socketpair; figures
 * are per CPU-second of the process (CLOCK_PROCESS_CPUTIME_ID), so both ends are counted.
 *
 * Usage: tlsbench WORKLOAD CERTDIR SECONDS
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <tls.h>

#include "common.h"

static struct tls_config *scfg, *ccfg;
static struct tls *listener;
static const char *server_name = "localhost"; /* what clients connect to (SNI, verification) */
static _Thread_local char rbuf[16384];        /* per thread: the _2t rows read in two */
static char cipher_note[512];
static char curves_note[512];

/* curves: the key exchange groups, pinned so that the rows compare like with like (nbtls's
 * default puts the hybrid X25519MLKEM768 first); NULL leaves the library's default. */
static void setup(const char *dir, int rsa, int tickets, const char *suite, const char *curves)
{
	char cert[4096], key[4096], ca[4096];
	snprintf(cert, sizeof cert, "%s/%s", dir, rsa ? "server-rsa.pem" : "server.pem");
	snprintf(key, sizeof key, "%s/%s", dir, rsa ? "server-rsa.key" : "server.key");
	snprintf(ca, sizeof ca, "%s/ca.pem", dir);

	if ((scfg = tls_config_new()) == NULL || (ccfg = tls_config_new()) == NULL)
		die("tls_config_new");
	if (tls_config_set_protocols(scfg, TLS_PROTOCOL_TLSv1_3) == -1 ||
	    tls_config_set_protocols(ccfg, TLS_PROTOCOL_TLSv1_3) == -1)
		die("TLS 1.3 only: %s", tls_config_error(scfg));
	if (tls_config_set_keypair_file(scfg, cert, key) == -1)
		die("keypair: %s", tls_config_error(scfg));
	/* No tickets for full handshakes (libtls's default lifetime 0), two per connection for
	 * the resumed workload (nbtls's default). */
	if (tls_config_set_session_lifetime(scfg, tickets ? 7200 : 0) == -1)
		die("session lifetime: %s", tls_config_error(scfg));
	if (tls_config_set_ca_file(ccfg, ca) == -1)
		die("ca: %s", tls_config_error(ccfg));
	/* A library that cannot select the suite runs with its default; run_bulk then reports
	 * only the workload of the suite it negotiated. */
	if (suite != NULL && (tls_config_set_ciphers(scfg, suite) == -1 ||
			      tls_config_set_ciphers(ccfg, suite) == -1))
		snprintf(cipher_note, sizeof cipher_note, " (tls_config_set_ciphers(\"%s\"): %s)", suite,
			 tls_config_error(scfg) ? tls_config_error(scfg) : tls_config_error(ccfg));
	if (curves != NULL && (tls_config_set_ecdhecurves(scfg, curves) == -1 ||
			       tls_config_set_ecdhecurves(ccfg, curves) == -1))
		snprintf(curves_note, sizeof curves_note, "tls_config_set_ecdhecurves(\"%s\"): %s",
			 curves, tls_config_error(scfg) ? tls_config_error(scfg) : tls_config_error(ccfg));
	if ((listener = tls_server()) == NULL || tls_configure(listener, scfg) == -1)
		die("server configure: %s", tls_error(listener));
}

struct conn {
	struct tls *c, *s;
	int fd[2];
};

/* A connection as a real client makes one: tls_client, tls_configure, connect; the server
 * accepts from its configured listener. */
static void open_conn(struct conn *k)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, k->fd) == -1)
		die("socketpair: %s", strerror(errno));
	if ((k->c = tls_client()) == NULL || tls_configure(k->c, ccfg) == -1)
		die("client configure: %s", tls_error(k->c));
	if (tls_connect_socket(k->c, k->fd[0], server_name) == -1)
		die("connect: %s", tls_error(k->c));
	if (tls_accept_socket(listener, &k->s, k->fd[1]) == -1)
		die("accept: %s", tls_error(listener));
}

static void handshake(struct conn *k)
{
	int dc = 0, ds = 0, r;
	for (long spins = 0; !(dc && ds); spins++) {
		if (!dc && (r = tls_handshake(k->c)) == 0)
			dc = 1;
		else if (!dc && r == -1)
			die("client handshake: %s", tls_error(k->c));
		if (!ds && (r = tls_handshake(k->s)) == 0)
			ds = 1;
		else if (!ds && r == -1)
			die("server handshake: %s", tls_error(k->s));
		if (spins > 100000)
			die("handshake stalled");
	}
}

/* Reads what `t` has without blocking; returns the plaintext bytes read. */
static size_t drain(struct tls *t)
{
	size_t got = 0;
	ssize_t r;
	while ((r = tls_read(t, rbuf, sizeof rbuf)) > 0)
		got += (size_t)r;
	if (r == 0)
		die("unexpected end of stream");
	if (r == -1)
		die("read: %s", tls_error(t));
	return got;
}

/* Sends `len` bytes from `from`, reading them at `to`, as two event-loop peers would. */
static void transfer(struct tls *from, struct tls *to, const char *buf, size_t len)
{
	size_t off = 0, got = 0;
	for (long spins = 0; got < len; spins++) {
		if (off < len) {
			ssize_t r = tls_write(from, buf + off, len - off);
			if (r > 0)
				off += (size_t)r;
			else if (r == -1)
				die("write: %s", tls_error(from));
		}
		got += drain(to);
		if (spins > 1000000)
			die("transfer stalled");
	}
}

static void close_conn(struct conn *k)
{
	for (int i = 0; i < 100 && tls_close(k->c) < -1; i++)
		;
	for (int i = 0; i < 100 && tls_close(k->s) < -1; i++)
		;
	tls_free(k->c);
	tls_free(k->s);
	close(k->fd[0]);
	close(k->fd[1]);
}

static void req_resp(struct conn *k);

/* One connection as the handshake workloads count it: handshake, one byte from server to
 * client (so the client reads any tickets), close. Returns whether it resumed. */
static int one_connection(void)
{
	struct conn k;
	open_conn(&k);
	handshake(&k);
	transfer(k.s, k.c, "x", 1);
	int resumed = tls_conn_session_resumed(k.c);
	close_conn(&k);
	return resumed;
}

static void run_handshakes(const char *w, double secs, int want_resumed)
{
	if (curves_note[0] != '\0') {
		skip(w, "%s", curves_note);
		return;
	}
	one_connection(); /* warm-up, and the first ticket */
	long n = 0, resumed = 0;
	double t0 = cpu_now();
	while (more(t0, n, secs)) {
		resumed += one_connection();
		n++;
	}
	double rate = (double)n / (cpu_now() - t0);
	if (want_resumed && resumed != n)
		skip(w, "only %ld of %ld connections resumed (no TLS 1.3 resumption: full handshakes "
			"at %.0f/s)", resumed, n, rate);
	else if (!want_resumed && resumed != 0)
		skip(w, "%ld of %ld connections resumed unexpectedly", resumed, n);
	else
		result(w, rate, "per_s", 1);
}

/* The CA-count and SNI rows' configurations, over setup()'s (bench/gen-scale-certs.sh makes
 * the files). _ca150: the client verifies the server against scale/ca150.pem (149 unrelated
 * CAs, then the real one) instead of ca.pem. _mtls: the server requires a client certificate
 * (client.pem) and verifies it against ca.pem, or against ca150.pem with _ca150. _sni50: the
 * server has 50 keypairs (sni-01..50.example, the first set, 49 added) and the client asks
 * for the last one added. */
static void setup_scale(const char *dir, const char *w)
{
	char ca[4096], cert[4096], key[4096];
	int ca150 = strstr(w, "_ca150") != NULL;
	snprintf(ca, sizeof ca, ca150 ? "%s/scale/ca150.pem" : "%s/ca.pem", dir);
	if (ca150 && tls_config_set_ca_file(ccfg, ca) == -1)
		die("client ca: %s", tls_config_error(ccfg));
	if (strstr(w, "_mtls") != NULL) {
		snprintf(cert, sizeof cert, "%s/client.pem", dir);
		snprintf(key, sizeof key, "%s/client.key", dir);
		if (tls_config_set_keypair_file(ccfg, cert, key) == -1)
			die("client keypair: %s", tls_config_error(ccfg));
		tls_config_verify_client(scfg);
		if (tls_config_set_ca_file(scfg, ca) == -1)
			die("server ca: %s", tls_config_error(scfg));
	}
	if (strstr(w, "_sni50") != NULL) {
		for (int i = 1; i <= 50; i++) {
			snprintf(cert, sizeof cert, "%s/scale/sni-%02d.pem", dir, i);
			snprintf(key, sizeof key, "%s/scale/sni-%02d.key", dir, i);
			if ((i == 1 ? tls_config_set_keypair_file(scfg, cert, key)
				    : tls_config_add_keypair_file(scfg, cert, key)) == -1)
				die("keypair %d: %s", i, tls_config_error(scfg));
		}
		server_name = "sni-50.example";
	}
	if (tls_configure(listener, scfg) == -1)
		die("server configure: %s", tls_error(listener));
}

/* One thread of the wall-clock handshake rows. */
struct worker {
	pthread_t id;
	double secs;
	long n, resumed;
};
static pthread_barrier_t start_line;

static void *hs_worker(void *arg)
{
	struct worker *wk = arg;
	one_connection(); /* warm-up, and this thread's first ticket */
	pthread_barrier_wait(&start_line);
	double t0 = wall_s();
	while (more_wall(t0, wk->n, wk->secs)) {
		wk->resumed += one_connection();
		wk->n++;
	}
	return NULL;
}

/* handshake_{full,resumed}_{1t_wall,2t}: `threads` threads, each making connections as
 * run_handshakes does, all sharing scfg, ccfg and the one listener; connections per
 * wall-clock second of the whole run (CLOCK_MONOTONIC: CPU time cannot show scaling).
 * <w>_cpus is the process's CPU seconds per wall second meanwhile: 2 when both threads
 * ran all the time, less when they waited (for a lock, or for a busy machine's cores). */
static void run_handshakes_wall(const char *w, double secs, int want_resumed, int threads)
{
	struct worker wk[2];
	char cpus[128];
	long n = 0, resumed = 0;
	memset(wk, 0, sizeof wk);
	pthread_barrier_init(&start_line, NULL, (unsigned)threads + 1);
	for (int i = 0; i < threads; i++) {
		wk[i].secs = secs;
		if ((errno = pthread_create(&wk[i].id, NULL, hs_worker, &wk[i])) != 0)
			die("pthread_create: %s", strerror(errno));
	}
	pthread_barrier_wait(&start_line);
	double t0 = wall_s(), c0 = cpu_now();
	for (int i = 0; i < threads; i++) {
		pthread_join(wk[i].id, NULL);
		n += wk[i].n;
		resumed += wk[i].resumed;
	}
	double dt = wall_s() - t0, dc = cpu_now() - c0;
	pthread_barrier_destroy(&start_line);
	if (want_resumed && resumed != n)
		skip(w, "only %ld of %ld connections resumed (no TLS 1.3 resumption: full handshakes "
			"at %.0f/s)", resumed, n, (double)n / dt);
	else if (!want_resumed && resumed != 0)
		skip(w, "%ld of %ld connections resumed unexpectedly", resumed, n);
	else {
		result(w, (double)n / dt, "per_s", 1);
		snprintf(cpus, sizeof cpus, "%s_cpus", w);
		result(cpus, dc / dt, "cpus", 1);
	}
}

/* idle_10k: heap and RSS for IDLE_CONNS established, idle connections (handshake and one
 * request/response done), both ends in this process. Each client's socket is closed once its
 * exchange is done (its context stays, idle, and is freed at the end): the server end of every
 * connection stays open, so the process holds IDLE_CONNS fds (a hard limit of 20,000 cannot
 * hold both ends' 20,000 with stdio), and RLIMIT_NOFILE is raised to what that needs. Heap is
 * counted by memcount.so, server contexts split off by freeing them first, as run_mem does;
 * RSS is VmRSS growth for both ends (freed heap is not returned to the system, so it cannot
 * be split). A quick run (secs < 0.1) holds IDLE_CONNS_QUICK connections instead. */
static void run_idle(const char *w, double secs)
{
	long long base, full, clients, a;
	int n = secs >= 0 && secs < 0.1 ? IDLE_CONNS_QUICK : IDLE_CONNS;
	if (!heap(&base, &a)) {
		skip(w, "run under LD_PRELOAD=bench/build/memcount.so");
		return;
	}
	const char *why = raise_nofile((rlim_t)(n + 64));
	if (why != NULL) {
		skip(w, "%s", why);
		return;
	}
	struct conn *k = calloc((size_t)n, sizeof *k);
	if (k == NULL)
		die("calloc");
	struct conn warm;
	open_conn(&warm);
	handshake(&warm);
	req_resp(&warm);
	close_conn(&warm);

	long long rss0 = rss_bytes();
	heap(&base, &a);
	for (int i = 0; i < n; i++) {
		open_conn(&k[i]);
		handshake(&k[i]);
		req_resp(&k[i]);
		close(k[i].fd[0]); /* the client context never uses it again; see above */
	}
	heap(&full, &a);
	long long rss1 = rss_bytes();
	for (int i = 0; i < n; i++)
		tls_free(k[i].s);
	heap(&clients, &a);
	for (int i = 0; i < n; i++) {
		tls_free(k[i].c);
		close(k[i].fd[1]);
	}
	free(k);
	result("idle_10k_heap_per_conn", (double)(full - clients) / n, "bytes", 0);
	result("idle_10k_heap_total", (double)(full - clients), "bytes", 0);
	result("idle_10k_rss_per_conn", (double)(rss1 - rss0) / n, "bytes", 0);
	result("idle_10k_rss_total", (double)(rss1 - rss0), "bytes", 0);
}

/* Rows that compare with native rustls, which reads 4 KiB at a time, turn nbtls's
 * read-ahead on so both read alike (nbtls's default reads one record per read). */
static void read_ahead_like_rustls(void)
{
#ifdef TLS_TICKETS_DEFERRED /* nbtls.h */
	if (tls_config_set_read_ahead(scfg, 1) == -1 || tls_config_set_read_ahead(ccfg, 1) == -1 ||
	    tls_configure(listener, scfg) == -1)
		die("read-ahead: %s", tls_config_error(scfg));
#endif
}

static void run_bulk(const char *w, const char *suite, size_t chunk, double secs)
{
	struct conn k;
	read_ahead_like_rustls();
	open_conn(&k);
	handshake(&k);
	const char *got = tls_conn_cipher(k.c);
	if (got == NULL || strcmp(got, suite) != 0) {
		skip(w, "negotiated %s, not %s%s", got ? got : "(null)", suite, cipher_note);
		return;
	}
	static char data[16384];
	memset(data, 0x5a, sizeof data);
	size_t sent = 0, recvd = 0;
	double t0 = 0;
	for (int phase = 0; phase < 2; phase++) {
		/* phase 0: 1 MiB warm-up; phase 1: measured */
		if (phase == 1) {
			sent = recvd = 0;
			t0 = cpu_now();
		}
		for (long i = 0;; i++) {
			if (phase == 0 ? sent >= (1 << 20) : ((secs < 0 || i % 64 == 0) && !more(t0, i, secs)))
				break;
			size_t off = 0;
			while (off < chunk) {
				ssize_t r = tls_write(k.c, data + off, chunk - off);
				if (r > 0)
					off += (size_t)r;
				else if (r == -1)
					die("write: %s", tls_error(k.c));
				else
					recvd += drain(k.s); /* the socket is full: the reader runs */
			}
			sent += chunk;
		}
		while (recvd < sent)
			recvd += drain(k.s);
	}
	double dt = cpu_now() - t0;
	result(w, (double)sent / dt / 1e6, "MB_s", 1);
	close_conn(&k);
}

static void req_resp(struct conn *k)
{
	static char req[REQ_LEN], resp[RESP_LEN];
	transfer(k->c, k->s, req, sizeof req);
	transfer(k->s, k->c, resp, sizeof resp);
}

static void run_req_resp(const char *w, double secs)
{
	struct conn k;
	read_ahead_like_rustls();
	open_conn(&k);
	handshake(&k);
	for (int i = 0; i < 100; i++)
		req_resp(&k);
	long n = 0;
	double t0 = cpu_now();
	while (more(t0, n, secs)) {
		req_resp(&k);
		n++;
	}
	result(w, (cpu_now() - t0) / (double)n * 1e6, "us", 0);
	close_conn(&k);
}

static void run_mem(void)
{
	static struct conn k[MEM_CONNS];
	long long base, full, clients, a0, a1, b0, b1;
	if (!heap(&base, &a0)) {
		skip("mem_per_conn", "run under LD_PRELOAD=bench/build/memcount.so");
		return;
	}
	struct conn w;
	open_conn(&w);
	handshake(&w);
	req_resp(&w);
	close_conn(&w);

	heap(&base, &a0);
	for (int i = 0; i < MEM_CONNS; i++) {
		open_conn(&k[i]);
		handshake(&k[i]);
		req_resp(&k[i]);
	}
	heap(&full, &a1);
	for (int i = 0; i < MEM_CONNS; i++)
		tls_free(k[i].s);
	heap(&clients, &b0);
	for (int i = 0; i < MEM_CONNS; i++) {
		tls_free(k[i].c);
		close(k[i].fd[0]);
		close(k[i].fd[1]);
	}
	result("mem_per_conn", (double)(full - clients) / MEM_CONNS, "bytes", 0);
	result("mem_per_conn_client", (double)(clients - base) / MEM_CONNS, "bytes", 0);
	result("allocs_per_conn", (double)(a1 - a0) / MEM_CONNS, "count", 0);

	open_conn(&w);
	handshake(&w);
	for (int i = 0; i < 10; i++)
		req_resp(&w);
	heap(&b0, &a0);
	for (int i = 0; i < 1000; i++)
		req_resp(&w);
	heap(&b1, &a1);
	result("allocs_per_req", (double)(a1 - a0) / 1000.0, "count", 0);
	close_conn(&w);
}

/* One 16 KiB record from client to server, read at the server until WANT. */
static void one_record(struct conn *k, const char *data)
{
	size_t off = 0, got = 0;
	while (off < RECORD_LEN) {
		ssize_t r = tls_write(k->c, data + off, RECORD_LEN - off);
		if (r > 0)
			off += (size_t)r;
		else if (r == -1)
			die("write: %s", tls_error(k->c));
		else
			got += drain(k->s);
	}
	while (got < RECORD_LEN)
		got += drain(k->s);
}

/* bulk_record_16k: one record written, then read until WANT, as a program that always
 * reads until TLS_WANT_POLLIN does. With iocount.so preloaded it also counts the read
 * system calls per record, the EAGAIN that ends each drain included (reads_per_record).
 * The _ra variants turn on read-ahead where the library has it (nbtls's
 * tls_config_set_read_ahead; Debian's libtls has none). */
static void run_record(const char *w, double secs, int ra)
{
	static char data[RECORD_LEN];
	struct conn k;
	long n;
	if (ra) {
#ifdef TLS_TICKETS_DEFERRED /* nbtls.h */
		if (tls_config_set_read_ahead(scfg, 1) == -1 || tls_config_set_read_ahead(ccfg, 1) == -1 ||
		    tls_configure(listener, scfg) == -1)
			die("read-ahead: %s", tls_config_error(scfg));
#else
		skip(w, "libtls has no read-ahead setting");
		skip("reads_per_record_ra", "libtls has no read-ahead setting");
		return;
#endif
	}
	open_conn(&k);
	handshake(&k);
	memset(data, 0x5a, sizeof data);
	for (n = 0; n < 64; n++) /* warm-up */
		one_record(&k, data);
	long long r0 = io_reads();
	double t0 = cpu_now();
	for (n = 0;; n++) {
		if (n % 64 == 0 && !more(t0, n, secs))
			break;
		one_record(&k, data);
	}
	double dt = cpu_now() - t0;
	long long r1 = io_reads();
	result(w, (double)n * RECORD_LEN / dt / 1e6, "MB_s", 1);
	if (r0 >= 0)
		result(ra ? "reads_per_record_ra" : "reads_per_record", (double)(r1 - r0) / (double)n,
		       "count", 0);
	close_conn(&k);
}

static void hs_step(struct tls *t, int *done, short *ev, const char *who)
{
	int r;
	if (*done)
		return;
	if ((r = tls_handshake(t)) == 0)
		*done = 1, *ev = 0;
	else if (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT)
		*ev = r == TLS_WANT_POLLIN ? POLLIN : POLLOUT;
	else
		die("%s handshake: %s", who, tls_error(t));
}

/* Writes or reads exactly len bytes, waiting on fd as the WANT codes say. */
static void io_all(struct tls *t, int fd, char *buf, size_t len, int writing)
{
	size_t off = 0;
	while (off < len) {
		ssize_t r = writing ? tls_write(t, buf + off, len - off) : tls_read(t, buf + off, len - off);
		if (r > 0)
			off += (size_t)r;
		else if (r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT)
			wait2(fd, r == TLS_WANT_POLLIN ? POLLIN : POLLOUT, -1, 0);
		else
			die("%s: %s", writing ? "write" : "read", r == 0 ? "end of stream" : tls_error(t));
	}
}

/* One fresh connection over loopback TCP, Nagle on: handshake, a 50-byte request, a 50-byte
 * reply; wall-clock milliseconds from connect() to the reply read. */
static double latency_once(int lfd)
{
	static char req[LAT_MSG], resp[LAT_MSG];
	struct tls *c, *s;
	int fd[2], dc = 0, ds = 0;
	short ec = 0, es = 0;
	double t0 = wall_ms();
	tcp_pair(lfd, fd);
	if ((c = tls_client()) == NULL || tls_configure(c, ccfg) == -1)
		die("client configure: %s", tls_error(c));
	if (tls_connect_socket(c, fd[0], "localhost") == -1)
		die("connect: %s", tls_error(c));
	if (tls_accept_socket(listener, &s, fd[1]) == -1)
		die("accept: %s", tls_error(listener));
	while (!(dc && ds)) {
		hs_step(c, &dc, &ec, "client");
		hs_step(s, &ds, &es, "server");
		if (!(dc && ds))
			wait2(fd[0], ec, fd[1], es);
	}
	io_all(c, fd[0], req, sizeof req, 1);
	io_all(s, fd[1], req, sizeof req, 0);
	io_all(s, fd[1], resp, sizeof resp, 1);
	io_all(c, fd[0], resp, sizeof resp, 0);
	double dt = wall_ms() - t0;
	tls_close(c); /* one nonblocking attempt each: the figure is taken */
	tls_close(s);
	tls_free(c);
	tls_free(s);
	close(fd[0]);
	close(fd[1]);
	return dt;
}

/* latency_tcp_ms: the median of LAT_CONNS fresh connections (5 for a quick run), both ends
 * in this thread, TLS 1.3, the library's default tickets (clients resume where they can). */
static void run_latency(const char *w, double secs)
{
	double v[LAT_CONNS];
	int n = secs >= 0 && secs < 0.1 ? 5 : LAT_CONNS, lfd = tcp_listener();
	latency_once(lfd); /* warm-up, and the first ticket */
	latency_once(lfd);
	for (int i = 0; i < n; i++)
		v[i] = latency_once(lfd);
	result(w, median(v, n), "ms", 0);
	close(lfd);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: tlsbench WORKLOAD CERTDIR SECONDS\n");
		return 2;
	}
	const char *w = argv[1], *dir = argv[2], *suite;
	double secs = atof(argv[3]);
	size_t chunk;
	current_workload = w;
	if (strcmp(w, "handshake_full_p256") == 0) {
		setup(dir, 0, 0, NULL, "X25519");
		run_handshakes(w, secs, 0);
	} else if (strcmp(w, "handshake_full_p256_hybrid") == 0) {
		setup(dir, 0, 0, NULL, "X25519MLKEM768");
		run_handshakes(w, secs, 0);
	} else if (strcmp(w, "handshake_full_rsa2048") == 0) {
		setup(dir, 1, 0, NULL, "X25519");
		run_handshakes(w, secs, 0);
	} else if (strcmp(w, "handshake_resumed") == 0) {
		setup(dir, 0, 1, NULL, "X25519");
		run_handshakes(w, secs, 1);
	} else if (strcmp(w, "handshake_resumed_aes256") == 0) {
		/* The same with every library on OpenSSL's and rustls's default suite. */
		setup(dir, 0, 1, "TLS_AES_256_GCM_SHA384", "X25519");
		run_handshakes(w, secs, 1);
	} else if (strncmp(w, "handshake_full_", 15) == 0 &&
		   (strstr(w, "_ca150") || strstr(w, "_mtls") || strstr(w, "_sni50"))) {
		setup(dir, 0, 0, NULL, "X25519");
		setup_scale(dir, w);
		run_handshakes(w, secs, 0);
	} else if (strcmp(w, "handshake_full_1t_wall") == 0 || strcmp(w, "handshake_full_2t") == 0 ||
		   strcmp(w, "handshake_resumed_1t_wall") == 0 ||
		   strcmp(w, "handshake_resumed_2t") == 0) {
		int tickets = strncmp(w, "handshake_resumed", 17) == 0;
		setup(dir, 0, tickets, NULL, "X25519");
		run_handshakes_wall(w, secs, tickets, strstr(w, "_2t") != NULL ? 2 : 1);
	} else if (strcmp(w, "idle_10k") == 0) {
		setup(dir, 0, 0, NULL, "X25519");
		run_idle(w, secs);
	} else if (strcmp(w, "req_resp_us") == 0) {
		setup(dir, 0, 0, NULL, "X25519");
		run_req_resp(w, secs);
	} else if (strcmp(w, "mem_per_conn") == 0) {
		setup(dir, 0, 0, NULL, "X25519");
		run_mem();
	} else if (strcmp(w, "bulk_record_16k") == 0 || strcmp(w, "bulk_record_16k_ra") == 0) {
		setup(dir, 0, 0, NULL, "X25519");
		run_record(w, secs, strcmp(w, "bulk_record_16k_ra") == 0);
	} else if (strcmp(w, "latency_tcp_ms") == 0) {
		setup(dir, 0, 1, NULL, "X25519");
		run_latency(w, secs);
	} else if (bulk_params(w, &suite, &chunk)) {
		setup(dir, 0, 0, suite, "X25519");
		run_bulk(w, suite, chunk, secs);
	} else {
		fprintf(stderr, "unknown workload %s\n", w);
		return 2;
	}
	tls_free(listener);
	tls_config_free(scfg);
	tls_config_free(ccfg);
	return 0;
}
