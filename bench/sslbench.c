/*
 * sslbench: the workloads of tlsbench.c written against OpenSSL 3's own API (-lssl -lcrypto):
 * one SSL_CTX per side, SSL_new per connection, both ends in this one thread over a
 * nonblocking AF_UNIX socketpair, CPU time of the process measured.
 *
 * Usage: sslbench WORKLOAD CERTDIR SECONDS
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common.h"

static SSL_CTX *sctx, *cctx;
static SSL_CTX *sni_ctx[50]; /* handshake_full_sni50: one per name, chosen by the callback */
static const char *server_name = "localhost";
/* Per thread: the client's newest ticket (the _2t rows' clients resume their thread's
 * previous session; the new-session callback runs in the thread driving the client). */
static _Thread_local SSL_SESSION *last_session;
static _Thread_local char rbuf[16384];

static const char *ossl_err(void)
{
	static char buf[256];
	ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
	return buf;
}

static int new_session(SSL *ssl, SSL_SESSION *sess)
{
	(void)ssl;
	if (last_session != NULL)
		SSL_SESSION_free(last_session);
	last_session = sess;
	return 1; /* we keep the reference */
}

/* A server SSL_CTX as setup() makes it: TLS 1.3, the keypair, two tickets or none. */
static SSL_CTX *server_ctx(const char *cert, const char *key, int tickets)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
		die("SSL_CTX_new: %s", ossl_err());
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		die("keypair %s: %s", cert, ossl_err());
	/* As tlsbench: no tickets for full handshakes, two (OpenSSL's default) for resumption. */
	SSL_CTX_set_num_tickets(ctx, tickets ? 2 : 0);
	if (!tickets)
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return ctx;
}

static void setup(const char *dir, int rsa, int tickets, const char *suite)
{
	char cert[4096], key[4096], ca[4096];
	snprintf(cert, sizeof cert, "%s/%s", dir, rsa ? "server-rsa.pem" : "server.pem");
	snprintf(key, sizeof key, "%s/%s", dir, rsa ? "server-rsa.key" : "server.key");
	snprintf(ca, sizeof ca, "%s/ca.pem", dir);

	sctx = server_ctx(cert, key, tickets);
	if ((cctx = SSL_CTX_new(TLS_client_method())) == NULL)
		die("SSL_CTX_new: %s", ossl_err());
	SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
	if (SSL_CTX_load_verify_locations(cctx, ca, NULL) != 1)
		die("ca: %s", ossl_err());
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(cctx, new_session);
	if (suite != NULL && (SSL_CTX_set_ciphersuites(sctx, suite) != 1 ||
			      SSL_CTX_set_ciphersuites(cctx, suite) != 1))
		die("ciphersuites %s: %s", suite, ossl_err());
}

struct conn {
	SSL *c, *s;
	int fd[2];
};

static void open_conn(struct conn *k)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, k->fd) == -1)
		die("socketpair: %s", strerror(errno));
	if ((k->c = SSL_new(cctx)) == NULL || (k->s = SSL_new(sctx)) == NULL)
		die("SSL_new: %s", ossl_err());
	SSL_set_fd(k->c, k->fd[0]);
	SSL_set_fd(k->s, k->fd[1]);
	SSL_set_tlsext_host_name(k->c, server_name);
	SSL_set1_host(k->c, server_name);
	if (last_session != NULL)
		SSL_set_session(k->c, last_session);
	SSL_set_connect_state(k->c);
	SSL_set_accept_state(k->s);
}

/* 1: done or would block; dies on a real failure. */
static int want(SSL *ssl, int r, const char *what)
{
	int e = SSL_get_error(ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 1;
	die("%s: error %d: %s", what, e, ossl_err());
	return 0;
}

static void handshake(struct conn *k)
{
	int dc = 0, ds = 0, r;
	for (long spins = 0; !(dc && ds); spins++) {
		if (!dc && (r = SSL_do_handshake(k->c)) == 1)
			dc = 1;
		else if (!dc)
			want(k->c, r, "client handshake");
		if (!ds && (r = SSL_do_handshake(k->s)) == 1)
			ds = 1;
		else if (!ds)
			want(k->s, r, "server handshake");
		if (spins > 100000)
			die("handshake stalled");
	}
}

static size_t drain(SSL *t)
{
	size_t got = 0;
	int r;
	while ((r = SSL_read(t, rbuf, sizeof rbuf)) > 0)
		got += (size_t)r;
	want(t, r, "read");
	return got;
}

static void transfer(SSL *from, SSL *to, const char *buf, size_t len)
{
	size_t off = 0, got = 0;
	for (long spins = 0; got < len; spins++) {
		if (off < len) {
			int r = SSL_write(from, buf + off, (int)(len - off));
			if (r > 0)
				off += (size_t)r;
			else
				want(from, r, "write");
		}
		got += drain(to);
		if (spins > 1000000)
			die("transfer stalled");
	}
}

static void close_conn(struct conn *k)
{
	SSL_shutdown(k->c);
	SSL_shutdown(k->s);
	SSL_free(k->c);
	SSL_free(k->s);
	close(k->fd[0]);
	close(k->fd[1]);
}

static int one_connection(void)
{
	struct conn k;
	open_conn(&k);
	handshake(&k);
	transfer(k.s, k.c, "x", 1);
	int resumed = SSL_session_reused(k.c);
	close_conn(&k);
	return resumed;
}

static void run_handshakes(const char *w, double secs, int want_resumed)
{
	one_connection();
	long n = 0, resumed = 0;
	double t0 = cpu_now();
	while (more(t0, n, secs)) {
		resumed += one_connection();
		n++;
	}
	double rate = (double)n / (cpu_now() - t0);
	if (want_resumed && resumed != n)
		skip(w, "only %ld of %ld connections resumed", resumed, n);
	else if (!want_resumed && resumed != 0)
		skip(w, "%ld of %ld connections resumed unexpectedly", resumed, n);
	else
		result(w, rate, "per_s", 1);
}

/* handshake_full_sni50: the server's SSL_CTX for the client's name, searched as libtls
 * searches its keypairs (in order); the default (sni-01) when none matches. */
static int choose_ctx(SSL *ssl, int *alert, void *arg)
{
	(void)alert, (void)arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	char want[32];
	for (int i = 0; name != NULL && i < 50; i++) {
		snprintf(want, sizeof want, "sni-%02d.example", i + 1);
		if (strcmp(name, want) == 0) {
			SSL_set_SSL_CTX(ssl, sni_ctx[i]);
			break;
		}
	}
	return SSL_TLSEXT_ERR_OK;
}

/* The CA-count and SNI rows, as tlsbench.c's setup_scale: _ca150 gives the client
 * scale/ca150.pem, _mtls makes the server require and verify client.pem (against ca.pem, or
 * ca150.pem with _ca150), _sni50 gives the server 50 keypairs in 50 SSL_CTXs chosen by name. */
static void setup_scale(const char *dir, const char *w)
{
	char ca[4096], cert[4096], key[4096];
	int ca150 = strstr(w, "_ca150") != NULL;
	snprintf(ca, sizeof ca, ca150 ? "%s/scale/ca150.pem" : "%s/ca.pem", dir);
	if (ca150) {
		SSL_CTX_set_cert_store(cctx, X509_STORE_new());
		if (SSL_CTX_load_verify_locations(cctx, ca, NULL) != 1)
			die("client ca: %s", ossl_err());
	}
	if (strstr(w, "_mtls") != NULL) {
		snprintf(cert, sizeof cert, "%s/client.pem", dir);
		snprintf(key, sizeof key, "%s/client.key", dir);
		if (SSL_CTX_use_certificate_chain_file(cctx, cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(cctx, key, SSL_FILETYPE_PEM) != 1)
			die("client keypair: %s", ossl_err());
		SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		if (SSL_CTX_load_verify_locations(sctx, ca, NULL) != 1)
			die("server ca: %s", ossl_err());
	}
	if (strstr(w, "_sni50") != NULL) {
		for (int i = 0; i < 50; i++) {
			snprintf(cert, sizeof cert, "%s/scale/sni-%02d.pem", dir, i + 1);
			snprintf(key, sizeof key, "%s/scale/sni-%02d.key", dir, i + 1);
			sni_ctx[i] = server_ctx(cert, key, 0);
		}
		SSL_CTX_free(sctx); /* the default keypair becomes sni-01 */
		snprintf(cert, sizeof cert, "%s/scale/sni-01.pem", dir);
		snprintf(key, sizeof key, "%s/scale/sni-01.key", dir);
		sctx = server_ctx(cert, key, 0);
		SSL_CTX_set_tlsext_servername_callback(sctx, choose_ctx);
		server_name = "sni-50.example";
	}
}

/* One thread of the wall-clock handshake rows (as tlsbench.c). */
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
	if (last_session != NULL) {
		SSL_SESSION_free(last_session);
		last_session = NULL;
	}
	return NULL;
}

/* handshake_{full,resumed}_{1t_wall,2t}, as tlsbench.c: `threads` threads sharing both
 * SSL_CTXs; connections per wall-clock second, and <w>_cpus. */
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
		skip(w, "only %ld of %ld connections resumed", resumed, n);
	else if (!want_resumed && resumed != 0)
		skip(w, "%ld of %ld connections resumed unexpectedly", resumed, n);
	else {
		result(w, (double)n / dt, "per_s", 1);
		snprintf(cpus, sizeof cpus, "%s_cpus", w);
		result(cpus, dc / dt, "cpus", 1);
	}
}

static void run_bulk(const char *w, const char *suite, size_t chunk, double secs)
{
	struct conn k;
	open_conn(&k);
	handshake(&k);
	const char *got = SSL_get_cipher_name(k.c);
	if (got == NULL || strcmp(got, suite) != 0) {
		skip(w, "negotiated %s, not %s", got ? got : "(null)", suite);
		return;
	}
	static char data[16384];
	memset(data, 0x5a, sizeof data);
	size_t sent = 0, recvd = 0;
	double t0 = 0;
	for (int phase = 0; phase < 2; phase++) {
		if (phase == 1) {
			sent = recvd = 0;
			t0 = cpu_now();
		}
		for (long i = 0;; i++) {
			if (phase == 0 ? sent >= (1 << 20) : ((secs < 0 || i % 64 == 0) && !more(t0, i, secs)))
				break;
			for (;;) { /* without partial writes SSL_write takes the chunk whole */
				int r = SSL_write(k.c, data, (int)chunk);
				if (r > 0)
					break;
				want(k.c, r, "write");
				recvd += drain(k.s);
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
		SSL_free(k[i].s);
	heap(&clients, &b0);
	for (int i = 0; i < MEM_CONNS; i++) {
		SSL_free(k[i].c);
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

/* idle_10k, as tlsbench.c: IDLE_CONNS idle connections, each client's socket closed after
 * its exchange; server heap split off by freeing the server SSLs first; RSS of both ends. */
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
		close(k[i].fd[0]); /* the client SSL never uses it again */
	}
	heap(&full, &a);
	long long rss1 = rss_bytes();
	for (int i = 0; i < n; i++)
		SSL_free(k[i].s);
	heap(&clients, &a);
	for (int i = 0; i < n; i++) {
		SSL_free(k[i].c);
		close(k[i].fd[1]);
	}
	free(k);
	result("idle_10k_heap_per_conn", (double)(full - clients) / n, "bytes", 0);
	result("idle_10k_heap_total", (double)(full - clients), "bytes", 0);
	result("idle_10k_rss_per_conn", (double)(rss1 - rss0) / n, "bytes", 0);
	result("idle_10k_rss_total", (double)(rss1 - rss0), "bytes", 0);
}

/* One 16 KiB record from client to server, read at the server until WANT (as tlsbench.c). */
static void one_record(struct conn *k, const char *data)
{
	size_t got = 0;
	for (;;) { /* without partial writes SSL_write takes the record whole */
		int r = SSL_write(k->c, data, RECORD_LEN);
		if (r > 0)
			break;
		want(k->c, r, "write");
		got += drain(k->s);
	}
	while (got < RECORD_LEN)
		got += drain(k->s);
}

/* bulk_record_16k[_ra] and reads_per_record[_ra], as tlsbench.c; _ra is
 * SSL_CTX_set_read_ahead on both ends. */
static void run_record(const char *w, double secs, int ra)
{
	static char data[RECORD_LEN];
	struct conn k;
	long n;
	if (ra) {
		SSL_CTX_set_read_ahead(sctx, 1);
		SSL_CTX_set_read_ahead(cctx, 1);
	}
	open_conn(&k);
	handshake(&k);
	memset(data, 0x5a, sizeof data);
	for (n = 0; n < 64; n++)
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

static void hs_step(SSL *t, int *done, short *ev, const char *who)
{
	int r;
	if (*done)
		return;
	if ((r = SSL_do_handshake(t)) == 1) {
		*done = 1, *ev = 0;
		return;
	}
	want(t, r, who);
	*ev = SSL_get_error(t, r) == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
}

static void io_all(SSL *t, int fd, char *buf, int len, int writing)
{
	int off = 0;
	while (off < len) {
		int r = writing ? SSL_write(t, buf + off, len - off) : SSL_read(t, buf + off, len - off);
		if (r > 0) {
			off += r;
			continue;
		}
		want(t, r, writing ? "write" : "read");
		wait2(fd, SSL_get_error(t, r) == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, -1, 0);
	}
}

/* latency_tcp_ms, as tlsbench.c: one fresh connection over loopback TCP with Nagle on. */
static double latency_once(int lfd)
{
	static char req[LAT_MSG], resp[LAT_MSG];
	struct conn k;
	int dc = 0, ds = 0;
	short ec = 0, es = 0;
	double t0 = wall_ms();
	tcp_pair(lfd, k.fd);
	if ((k.c = SSL_new(cctx)) == NULL || (k.s = SSL_new(sctx)) == NULL)
		die("SSL_new: %s", ossl_err());
	SSL_set_fd(k.c, k.fd[0]);
	SSL_set_fd(k.s, k.fd[1]);
	SSL_set_tlsext_host_name(k.c, "localhost");
	SSL_set1_host(k.c, "localhost");
	if (last_session != NULL)
		SSL_set_session(k.c, last_session);
	SSL_set_connect_state(k.c);
	SSL_set_accept_state(k.s);
	while (!(dc && ds)) {
		hs_step(k.c, &dc, &ec, "client handshake");
		hs_step(k.s, &ds, &es, "server handshake");
		if (!(dc && ds))
			wait2(k.fd[0], ec, k.fd[1], es);
	}
	io_all(k.c, k.fd[0], req, sizeof req, 1);
	io_all(k.s, k.fd[1], req, sizeof req, 0);
	io_all(k.s, k.fd[1], resp, sizeof resp, 1);
	io_all(k.c, k.fd[0], resp, sizeof resp, 0);
	double dt = wall_ms() - t0;
	close_conn(&k);
	return dt;
}

static void run_latency(const char *w, double secs)
{
	double v[LAT_CONNS];
	int n = secs >= 0 && secs < 0.1 ? 5 : LAT_CONNS, lfd = tcp_listener();
	latency_once(lfd);
	latency_once(lfd);
	for (int i = 0; i < n; i++)
		v[i] = latency_once(lfd);
	result(w, median(v, n), "ms", 0);
	close(lfd);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: sslbench WORKLOAD CERTDIR SECONDS\n");
		return 2;
	}
	const char *w = argv[1], *dir = argv[2], *suite;
	double secs = atof(argv[3]);
	size_t chunk;
	current_workload = w;
	if (strcmp(w, "handshake_full_p256") == 0) {
		setup(dir, 0, 0, NULL);
		run_handshakes(w, secs, 0);
	} else if (strcmp(w, "handshake_full_p256_hybrid") == 0) {
		skip(w, "OpenSSL %s has no ML-KEM (X25519MLKEM768 needs 3.5)", OPENSSL_VERSION_TEXT);
		return 0;
	} else if (strcmp(w, "handshake_full_rsa2048") == 0) {
		setup(dir, 1, 0, NULL);
		run_handshakes(w, secs, 0);
	} else if (strcmp(w, "handshake_resumed") == 0) {
		setup(dir, 0, 1, NULL);
		run_handshakes(w, secs, 1);
	} else if (strcmp(w, "handshake_resumed_aes256") == 0) {
		setup(dir, 0, 1, "TLS_AES_256_GCM_SHA384");
		run_handshakes(w, secs, 1);
	} else if (strncmp(w, "handshake_full_", 15) == 0 &&
		   (strstr(w, "_ca150") || strstr(w, "_mtls") || strstr(w, "_sni50"))) {
		setup(dir, 0, 0, NULL);
		setup_scale(dir, w);
		run_handshakes(w, secs, 0);
	} else if (strcmp(w, "handshake_full_1t_wall") == 0 || strcmp(w, "handshake_full_2t") == 0 ||
		   strcmp(w, "handshake_resumed_1t_wall") == 0 ||
		   strcmp(w, "handshake_resumed_2t") == 0) {
		int tickets = strncmp(w, "handshake_resumed", 17) == 0;
		setup(dir, 0, tickets, NULL);
		run_handshakes_wall(w, secs, tickets, strstr(w, "_2t") != NULL ? 2 : 1);
	} else if (strcmp(w, "idle_10k") == 0) {
		setup(dir, 0, 0, NULL);
		run_idle(w, secs);
	} else if (strcmp(w, "req_resp_us") == 0) {
		setup(dir, 0, 0, NULL);
		run_req_resp(w, secs);
	} else if (strcmp(w, "mem_per_conn") == 0) {
		setup(dir, 0, 0, NULL);
		run_mem();
	} else if (strcmp(w, "bulk_record_16k") == 0 || strcmp(w, "bulk_record_16k_ra") == 0) {
		setup(dir, 0, 0, NULL);
		run_record(w, secs, strcmp(w, "bulk_record_16k_ra") == 0);
	} else if (strcmp(w, "latency_tcp_ms") == 0) {
		setup(dir, 0, 1, NULL);
		run_latency(w, secs);
	} else if (bulk_params(w, &suite, &chunk)) {
		setup(dir, 0, 0, suite);
		run_bulk(w, suite, chunk, secs);
	} else {
		fprintf(stderr, "unknown workload %s\n", w);
		return 2;
	}
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	for (int i = 0; i < 50; i++)
		SSL_CTX_free(sni_ctx[i]);
	return 0;
}
