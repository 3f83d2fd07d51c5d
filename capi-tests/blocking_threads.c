/*
 * blocking_threads: an ordinary blocking program. A blocking AF_UNIX socketpair; the
 * server runs in a second pthread (its context is accepted there). The client sends a
 * 256 KiB request, the server reads all of it and answers with 256 KiB, then both close;
 * both streams are checked byte by byte. TLS 1.2 and TLS 1.3.
 *
 * On blocking fds nbtls never returns a WANT code (tickets and other records without
 * application data make tls_read read on): asserted for nbtls. libtls is known to return
 * WANT after TLS 1.3 tickets on blocking sockets, so under LIBTLS=1 the WANTs are only
 * counted (and the call retried). alarm() ends a hung run (a deadlock) with a signal.
 */
#include "common.h"

#include <pthread.h>
#include <signal.h>

#define REQ_LEN (256 * 1024)
#define RESP_LEN (256 * 1024)
#define MAX_WANTS 100000 /* consecutive WANTs on a blocking fd: a spin, not progress */

struct peer {
	const char *name;
	struct tls *listener; /* server: accepts from it */
	struct tls *ctx;
	int fd;
	uint32_t wseed, rseed;
	size_t wlen, rlen;
	int read_first;
	long wants;
	int failed;
	struct stream_check rx;
	char err[512];
};

static void
peer_err(struct peer *p, const char *call, ssize_t rc)
{
	if (p->err[0] == '\0')
		snprintf(p->err, sizeof(p->err), "%s %s = %s; tls_error: %s", p->name, call,
		    capi_rc_name(rc), capi_str(tls_error(p->ctx)));
	p->failed = 1;
}

/* Retries a call while it returns WANT (counting); returns its final result. */
#define RETRY_WANT(p, rcvar, call)                                             \
	do {                                                                   \
		long capi_spins_ = 0;                                          \
		for (;;) {                                                     \
			rcvar = (call);                                        \
			if (rcvar != TLS_WANT_POLLIN && rcvar != TLS_WANT_POLLOUT) \
				break;                                         \
			(p)->wants++;                                          \
			if (++capi_spins_ > MAX_WANTS)                         \
				break;                                         \
		}                                                              \
	} while (0)

static int
do_write(struct peer *p)
{
	static unsigned char buf[2][32768]; /* one per peer: [0] client, [1] server */
	unsigned char *b = buf[p->listener != NULL];
	size_t off = 0;

	while (off < p->wlen) {
		size_t n = p->wlen - off < 32768 ? p->wlen - off : 32768;
		ssize_t rc;

		pattern_fill(p->wseed, off, b, n);
		RETRY_WANT(p, rc, tls_write(p->ctx, b, n));
		if (rc <= 0 || (size_t)rc > n) {
			peer_err(p, "tls_write", rc);
			return -1;
		}
		off += (size_t)rc;
	}
	return 0;
}

static int
do_read(struct peer *p, size_t len)
{
	unsigned char buf[20000];

	while (p->rx.got < len) {
		size_t n = len - p->rx.got < sizeof(buf) ? len - p->rx.got : sizeof(buf);
		ssize_t rc;

		RETRY_WANT(p, rc, tls_read(p->ctx, buf, n));
		if (rc <= 0 || (size_t)rc > n) {
			peer_err(p, "tls_read", rc);
			return -1;
		}
		stream_check_add(&p->rx, buf, (size_t)rc);
	}
	return 0;
}

static void *
run_peer(void *arg)
{
	struct peer *p = arg;
	ssize_t rc;

	if (p->listener != NULL) {
		if (tls_accept_socket(p->listener, &p->ctx, p->fd) != 0) {
			snprintf(p->err, sizeof(p->err), "tls_accept_socket: %s",
			    capi_str(tls_error(p->listener)));
			p->failed = 1;
			return NULL;
		}
	}
	RETRY_WANT(p, rc, tls_handshake(p->ctx));
	if (rc != 0) {
		peer_err(p, "tls_handshake", rc);
		return NULL;
	}
	if (p->read_first) {
		if (do_read(p, p->rlen) < 0 || do_write(p) < 0)
			return NULL;
	} else {
		if (do_write(p) < 0 || do_read(p, p->rlen) < 0)
			return NULL;
	}
	if (!p->read_first) {
		/* The client waits for the server's close_notify: the end of stream. */
		unsigned char b[64];
		RETRY_WANT(p, rc, tls_read(p->ctx, b, sizeof(b)));
		if (rc != 0) {
			peer_err(p, "tls_read at the end of stream", rc);
			return NULL;
		}
	}
	RETRY_WANT(p, rc, tls_close(p->ctx));
	if (rc != 0)
		peer_err(p, "tls_close", rc);
	return NULL;
}

static void
run_case(uint32_t proto)
{
	struct tls_config *ccfg = client_config(proto, NULL);
	struct tls_config *scfg = server_config("server", proto, NULL);
	struct peer cli, srv;
	pthread_t th;
	int sv[2];
	int before = capi_failures;

	capi_case = proto_name(proto);
	make_socketpair(sv, 0, 0);
	memset(&cli, 0, sizeof(cli));
	memset(&srv, 0, sizeof(srv));
	cli.name = "client";
	cli.ctx = tls_client();
	cli.fd = sv[0];
	cli.wseed = 0x7e57;
	cli.wlen = REQ_LEN;
	cli.rlen = RESP_LEN;
	stream_check_init(&cli.rx, 0x5eed);
	srv.name = "server";
	srv.listener = tls_server();
	srv.fd = sv[1];
	srv.wseed = 0x5eed;
	srv.wlen = RESP_LEN;
	srv.rlen = REQ_LEN;
	srv.read_first = 1;
	stream_check_init(&srv.rx, 0x7e57);
	REQUIRE(cli.ctx != NULL && srv.listener != NULL);
	REQUIRE_RC(cli.ctx, tls_configure(cli.ctx, ccfg), 0);
	REQUIRE_RC(srv.listener, tls_configure(srv.listener, scfg), 0);
	REQUIRE_RC(cli.ctx, tls_connect_socket(cli.ctx, sv[0], "localhost"), 0);

	REQUIRE(pthread_create(&th, NULL, run_peer, &srv) == 0);
	run_peer(&cli);
	if (cli.failed)
		/* Unblock the server: it may wait for bytes that will never come. */
		shutdown(sv[0], SHUT_RDWR);
	REQUIRE(pthread_join(th, NULL) == 0);

	if (cli.failed)
		FAILF("%s", cli.err);
	if (srv.failed)
		FAILF("%s", srv.err);
	if (!cli.failed && !srv.failed) {
		CHECK_STREAM(&srv.rx, REQ_LEN);
		CHECK_STREAM(&cli.rx, RESP_LEN);
	}
#ifdef CAPI_NBTLS
	if (cli.wants != 0 || srv.wants != 0)
		FAILF("WANT codes on blocking sockets: client %ld, server %ld, expected none",
		    cli.wants, srv.wants);
#endif
	printf("  %s: %s; WANT codes on blocking fds: client %ld, server %ld\n",
	    proto_name(proto), capi_failures == before ? "ok" : "FAIL", cli.wants, srv.wants);
	tls_free(srv.ctx);
	tls_free(srv.listener);
	tls_free(cli.ctx);
	close(sv[0]);
	close(sv[1]);
	tls_config_free(ccfg);
	tls_config_free(scfg);
	capi_case = "";
}

int
main(int argc, char **argv)
{
	capi_init(argc, argv);
#ifdef CAPI_LIBTLS
	signal(SIGPIPE, SIG_IGN); /* nbtls promises that no SIGPIPE reaches the program */
#endif
	alarm(240); /* a deadlock ends the test with SIGALRM instead of hanging the suite */
	run_case(TLS_PROTOCOL_TLSv1_2);
	run_case(TLS_PROTOCOL_TLSv1_3);
	return capi_finish("blocking_threads");
}
