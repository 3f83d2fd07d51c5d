/*
 * libevent_server: a level-triggered libevent server over tls_accept_cbs, written the way
 * real libtls servers are: one read event per connection (EV_READ | EV_PERSIST), whose
 * callback fires while the fd is readable; tls_handshake() until 0; then tls_read() once
 * per readiness event. The write callback does one write(2) per call.
 *
 * Clients, in a thread of their own:
 * - a client whose Finished and request leave in one send(2) (callbacks that keep what is
 *   written until the request joins it), TLS 1.3;
 * - an ordinary blocking client, TLS 1.3 and TLS 1.2.
 * Each must get its answer within a bound; a server that read the request together with
 * the Finished never sees its fd readable again and the client times out: a failure, not a
 * hang (the event loop also ends after a bound).
 */
/* capi: ldflags -levent */
#include "common.h"

#include <event2/event.h>
#include <pthread.h>

#define REQ "GET /libevent HTTP/1.1\r\nHost: localhost\r\n\r\n"
#define ANSWER "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
#define WAIT_MS 5000 /* a bound on a wait that must succeed at once, never a verdict */
#define CLIENTS 3

struct server;

struct conn {
	struct server *srv;
	struct event *ev;
	struct tls *tls;
	int fd, handshaken;
};

struct server {
	struct event_base *base;
	struct tls *listener;
	int lfd, served, failed;
};

static ssize_t
fd_read_cb(struct tls *ctx, void *buf, size_t len, void *arg)
{
	ssize_t n = read(*(int *)arg, buf, len);

	(void)ctx;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return TLS_WANT_POLLIN;
	return n;
}

static ssize_t
fd_write_cb(struct tls *ctx, const void *buf, size_t len, void *arg)
{
	ssize_t n;

	(void)ctx;
	(void)VALGRIND_MAKE_MEM_DEFINED(buf, len); /* see valgrind.supp */
	n = write(*(int *)arg, buf, len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return TLS_WANT_POLLOUT;
	return n;
}

static void
conn_end(struct server *srv, struct conn *c, int ok)
{
	if (ok)
		srv->served++;
	else
		srv->failed++;
	event_free(c->ev);
	tls_free(c->tls);
	close(c->fd);
	free(c);
	if (srv->served + srv->failed == CLIENTS)
		event_base_loopbreak(srv->base);
}

/* Fires while the connection's fd is readable (level-triggered). */
static void
on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct server *srv = c->srv;
	char buf[1024];
	ssize_t n;

	(void)fd;
	(void)what;
	if (!c->handshaken) {
		int rc = tls_handshake(c->tls);
		if (rc == 0)
			c->handshaken = 1; /* the request: at the next readiness event */
		else if (rc == -1) {
			fprintf(stderr, "server handshake: %s\n", tls_error(c->tls));
			conn_end(srv, c, 0);
		}
		return;
	}
	n = tls_read(c->tls, buf, sizeof(buf));
	if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT)
		return;
	if (n <= 0) {
		fprintf(stderr, "server tls_read = %zd: %s\n", n, capi_str(tls_error(c->tls)));
		conn_end(srv, c, 0);
		return;
	}
	if ((size_t)n != strlen(REQ) || memcmp(buf, REQ, (size_t)n) != 0) {
		fprintf(stderr, "server: unexpected request of %zd bytes\n", n);
		conn_end(srv, c, 0);
		return;
	}
	/* the answer fits the socket buffer: a blocking-free write */
	n = tls_write(c->tls, ANSWER, strlen(ANSWER));
	if (n != (ssize_t)strlen(ANSWER))
		fprintf(stderr, "server tls_write = %zd: %s\n", n, capi_str(tls_error(c->tls)));
	conn_end(srv, c, n == (ssize_t)strlen(ANSWER) && tls_close(c->tls) == 0);
}

static void
on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct server *srv = arg;
	struct conn *c = calloc(1, sizeof(*c));

	(void)what;
	REQUIRE(c != NULL);
	c->srv = srv;
	c->fd = accept(lfd, NULL, NULL);
	REQUIRE(c->fd >= 0);
	set_nonblock(c->fd);
	REQUIRE_RC(srv->listener, tls_accept_cbs(srv->listener, &c->tls, fd_read_cb,
	    fd_write_cb, &c->fd), 0);
	c->ev = event_new(srv->base, c->fd, EV_READ | EV_PERSIST, on_readable, c);
	REQUIRE(c->ev != NULL && event_add(c->ev, NULL) == 0);
}

/* ------------------------------------------------------------- clients */

static int port;

static int
connect_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	REQUIRE(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	REQUIRE(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	return fd;
}

/* Reads the answer with a bound; returns whether it came. */
static int
read_answer(struct tls *ctx, int fd, const char *who)
{
	char buf[256];
	size_t got = 0;

	while (got < strlen(ANSWER)) {
		ssize_t n = tls_read(ctx, buf + got, sizeof(buf) - got);
		if (n > 0)
			got += (size_t)n;
		else if (n == TLS_WANT_POLLIN && readable_within(fd, WAIT_MS))
			continue;
		else {
			FAILF("%s: no answer (tls_read = %s: %s): the server never saw its "
			    "request", who, capi_rc_name(n), capi_str(tls_error(ctx)));
			return 0;
		}
	}
	CHECK(memcmp(buf, ANSWER, strlen(ANSWER)) == 0);
	return 1;
}

/* The Finished and the request in one send(2). */
static void
coalescing_client(void)
{
	struct tls_config *cfg = client_config(TLS_PROTOCOL_TLSv1_3, NULL);
	unsigned char outbox[65536];
	struct cbsock cs;
	struct tls *ctx = tls_client();
	int rc;

	memset(&cs, 0, sizeof(cs));
	cs.fd = connect_port();
	set_nonblock(cs.fd);
	cs.outbox = outbox;
	cs.outcap = sizeof(outbox);
	REQUIRE(ctx != NULL);
	REQUIRE_RC(ctx, tls_configure(ctx, cfg), 0);
	REQUIRE_RC(ctx, tls_connect_cbs(ctx, cbsock_read, cbsock_write, &cs, "localhost"), 0);
	while ((rc = tls_handshake(ctx)) == TLS_WANT_POLLIN || rc == TLS_WANT_POLLOUT) {
		cbsock_send_outbox(&cs);
		if (!readable_within(cs.fd, WAIT_MS)) {
			FAILF("coalescing client: handshake stalled");
			break;
		}
	}
	CHECK_RC(ctx, rc, 0);
	if (rc == 0) {
		CHECK_RC(ctx, tls_write(ctx, REQ, strlen(REQ)), (ssize_t)strlen(REQ));
		cbsock_send_outbox(&cs);
		cs.outbox = NULL;
		read_answer(ctx, cs.fd, "coalescing client");
	}
	tls_free(ctx);
	close(cs.fd);
	tls_config_free(cfg);
}

static void
blocking_client(uint32_t proto)
{
	struct tls_config *cfg = client_config(proto, NULL);
	struct tls *ctx = tls_client();
	int fd = connect_port();
	/* a bound: a read that waits longer returns WANT (EAGAIN), never hangs */
	struct timeval tv = { .tv_sec = WAIT_MS / 1000 };

	REQUIRE(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
	REQUIRE(ctx != NULL);
	REQUIRE_RC(ctx, tls_configure(ctx, cfg), 0);
	REQUIRE_RC(ctx, tls_connect_socket(ctx, fd, "localhost"), 0);
	CHECK_RC(ctx, tls_handshake(ctx), 0);
	CHECK_RC(ctx, tls_write(ctx, REQ, strlen(REQ)), (ssize_t)strlen(REQ));
	read_answer(ctx, fd, proto == TLS_PROTOCOL_TLSv1_3 ? "blocking client TLSv1.3"
							 : "blocking client TLSv1.2");
	tls_free(ctx);
	close(fd);
	tls_config_free(cfg);
}

static void *
clients(void *arg)
{
	(void)arg;
	coalescing_client();
	blocking_client(TLS_PROTOCOL_TLSv1_3);
	blocking_client(TLS_PROTOCOL_TLSv1_2);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct tls_config *scfg;
	struct server srv = { 0 };
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	struct timeval bound = { .tv_sec = 3 * WAIT_MS / 1000 };
	struct event *lev;
	pthread_t t;

	capi_init(argc, argv);
	scfg = server_config("server", 0, NULL);
	srv.base = event_base_new();
	srv.listener = tls_server();
	REQUIRE(srv.base != NULL && srv.listener != NULL);
	REQUIRE_RC(srv.listener, tls_configure(srv.listener, scfg), 0);
	srv.lfd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	REQUIRE(bind(srv.lfd, (struct sockaddr *)&a, sizeof(a)) == 0);
	REQUIRE(listen(srv.lfd, 8) == 0);
	REQUIRE(getsockname(srv.lfd, (struct sockaddr *)&a, &alen) == 0);
	port = ntohs(a.sin_port);
	lev = event_new(srv.base, srv.lfd, EV_READ | EV_PERSIST, on_accept, &srv);
	REQUIRE(lev != NULL && event_add(lev, NULL) == 0);

	REQUIRE(pthread_create(&t, NULL, clients, NULL) == 0);
	/* ends when every connection is done, or after the bound (a failure below) */
	event_base_loopexit(srv.base, &bound);
	event_base_dispatch(srv.base);
	REQUIRE(pthread_join(t, NULL) == 0);
	if (srv.served != CLIENTS)
		FAILF("the server answered %d of %d clients (%d failed)", srv.served, CLIENTS,
		    srv.failed);
	event_free(lev);
	event_base_free(srv.base);
	close(srv.lfd);
	tls_free(srv.listener);
	tls_config_free(scfg);
	return capi_finish("libevent_server");
}
