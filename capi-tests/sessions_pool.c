/* capi: nbtls-only */
/*
 * sessions_pool.c: a worker pool — several threads accepting on one listener context — and
 * resumption across its workers, over loopback TCP with blocking sockets.
 *
 * Four workers each accept three connections with tls_accept_socket on the same listener,
 * at the same time. One client config (so one session cache) connects: first eight times
 * one after the other — the first is a full handshake, the seven others resume, and since a
 * worker serves at most three, sessions issued by one worker are resumed by others — then
 * four times at once from four threads, all resuming. TLS 1.3 (tickets) and TLS 1.2
 * (tickets or session IDs). Every reply says which worker served and whether it resumed;
 * the client's tls_conn_session_resumed agrees with the server's.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>

#include "common.h"

#define WORKERS 4
#define QUOTA 3
#define SEQUENTIAL 8
#define TOTAL (WORKERS * QUOTA)

struct pool {
	struct tls *listener;
	int lfd, port;
	struct tls_config *ccfg;
	pthread_mutex_t lock;
	int failures;
};

struct worker {
	struct pool *p;
	int id;
	pthread_t t;
};

static void
pool_fail(struct pool *p, const char *who, const char *what, struct tls *ctx)
{
	pthread_mutex_lock(&p->lock);
	fprintf(stderr, "%s: %s failed: %s\n", who, what, capi_str(ctx != NULL ? tls_error(ctx) : NULL));
	p->failures++;
	pthread_mutex_unlock(&p->lock);
}

static int
want(ssize_t rc)
{
	return rc == TLS_WANT_POLLIN || rc == TLS_WANT_POLLOUT;
}

/* Serves QUOTA connections: reads one byte, answers worker id * 2 + resumed, closes. */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->p;
	int q;

	for (q = 0; q < QUOTA; q++) {
		struct tls *c = NULL;
		unsigned char b;
		ssize_t n;
		int fd = accept(p->lfd, NULL, NULL), rc;

		if (fd == -1) {
			pool_fail(p, "worker", "accept", NULL);
			continue;
		}
		if (tls_accept_socket(p->listener, &c, fd) == -1) {
			pool_fail(p, "worker", "tls_accept_socket", p->listener);
			close(fd);
			continue;
		}
		while (want(rc = tls_handshake(c)))
			;
		while (want(n = tls_read(c, &b, 1)))
			;
		if (rc == -1 || n != 1) {
			pool_fail(p, "worker", "handshake or read", c);
		} else {
			b = (unsigned char)(w->id * 2 + tls_conn_session_resumed(c));
			while (want(n = tls_write(c, &b, 1)))
				;
			if (n != 1)
				pool_fail(p, "worker", "tls_write", c);
			while (want(tls_close(c)))
				;
		}
		tls_free(c);
		close(fd);
	}
	return NULL;
}

/* One client connection; returns the reply byte (worker * 2 + resumed), or -1. */
static int
connect_once(struct pool *p)
{
	struct sockaddr_in sin;
	struct tls *c = tls_client();
	unsigned char b = 'x', buf[16];
	int fd, rc, reply = -1;
	ssize_t n;

	REQUIRE(c != NULL);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)p->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	REQUIRE((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	REQUIRE(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	if (tls_configure(c, p->ccfg) == -1 || tls_connect_socket(c, fd, "localhost") == -1) {
		pool_fail(p, "client", "set-up", c);
		goto out;
	}
	while (want(rc = tls_write(c, &b, 1)))
		;
	while (want(n = tls_read(c, buf, 1)))
		;
	if (rc != 1 || n != 1) {
		pool_fail(p, "client", "exchange", c);
		goto out;
	}
	reply = buf[0];
	if (tls_conn_session_resumed(c) != (reply & 1))
		pool_fail(p, "client", "tls_conn_session_resumed agreeing with the server", c);
	/* Read to close_notify: the tickets of the connection are all in by then. */
	while (want(n = tls_read(c, buf, sizeof(buf))) || n > 0)
		;
	while (want(tls_close(c)))
		;
out:
	tls_free(c);
	close(fd);
	return reply;
}

static void *
client_main(void *arg)
{
	struct pool *p = arg;
	intptr_t r = connect_once(p);

	return (void *)r;
}

static void
pool_run(uint32_t protocols)
{
	struct tls_config *scfg = server_config("server", protocols, NULL);
	struct worker w[WORKERS];
	struct pool p;
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	pthread_t ct[TOTAL - SEQUENTIAL];
	int i, resumed = 0, seen[WORKERS] = { 0 }, resumed_on = 0, one = 1;

	capi_case = proto_name(protocols);
	memset(&p, 0, sizeof(p));
	pthread_mutex_init(&p.lock, NULL);
	p.ccfg = client_config(protocols, NULL);
	REQUIRE((p.listener = tls_server()) != NULL);
	REQUIRE_RC(p.listener, tls_configure(p.listener, scfg), 0);
	REQUIRE((p.lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	setsockopt(p.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	REQUIRE(bind(p.lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	REQUIRE(listen(p.lfd, 64) == 0);
	REQUIRE(getsockname(p.lfd, (struct sockaddr *)&sin, &slen) == 0);
	p.port = ntohs(sin.sin_port);

	for (i = 0; i < WORKERS; i++) {
		w[i].p = &p;
		w[i].id = i;
		REQUIRE(pthread_create(&w[i].t, NULL, worker_main, &w[i]) == 0);
	}
	for (i = 0; i < SEQUENTIAL; i++) {
		int r = connect_once(&p);
		if (r < 0)
			continue;
		if (r & 1) {
			resumed++;
			if (!seen[r >> 1]++)
				resumed_on++;
		}
		if (i == 0)
			CHECK((r & 1) == 0);
	}
	CHECK(resumed == SEQUENTIAL - 1);
	CHECK(resumed_on >= 2); /* sessions resumed by more than one worker */
	for (i = 0; i < TOTAL - SEQUENTIAL; i++)
		REQUIRE(pthread_create(&ct[i], NULL, client_main, &p) == 0);
	for (i = 0; i < TOTAL - SEQUENTIAL; i++) {
		void *r;
		REQUIRE(pthread_join(ct[i], &r) == 0);
		CHECK((intptr_t)r >= 0 && ((intptr_t)r & 1) == 1);
	}
	if (p.failures != 0) {
		FAILF("%d failure(s) in the pool", p.failures);
		exit(capi_finish("sessions_pool")); /* workers may wait in accept() for good */
	}
	for (i = 0; i < WORKERS; i++)
		REQUIRE(pthread_join(w[i].t, NULL) == 0);
	close(p.lfd);
	tls_free(p.listener);
	tls_config_free(p.ccfg);
	tls_config_free(scfg);
	pthread_mutex_destroy(&p.lock);
}

int
main(int argc, char **argv)
{
	capi_init(argc, argv);
	pool_run(TLS_PROTOCOL_TLSv1_3);
	pool_run(TLS_PROTOCOL_TLSv1_2);
	return capi_finish("sessions_pool");
}
