/*
 * fd_pipes: a connection over pipes, as inetd-style and stdio programs run TLS (two fds per
 * side: tls_connect_fds and tls_accept_fds). The server runs in a second pthread over
 * blocking pipes; the client sends 64 KiB, the server answers with 64 KiB, both streams are
 * checked byte by byte; TLS 1.2 and TLS 1.3. Then (nbtls only: Debian's libtls lets the
 * signal through) the server's read end is closed under a client that writes: its
 * tls_write fails with -1 instead of the process dying of SIGPIPE, and no SIGPIPE is left
 * pending (pipes cannot take MSG_NOSIGNAL: nbtls blocks the signal around its write and
 * discards one it caused). alarm() ends a hung run.
 */
#include "common.h"

#include <pthread.h>
#include <signal.h>

#define LEN (64 * 1024)

struct side {
	struct tls *ctx;
	int rfd, wfd;
	uint32_t wseed, rseed;
	int failed;
	char err[512];
};

/* Writes (`out` set) or reads all of `len` bytes, retrying WANTs; 0, or -1 on failure. */
static int
xfer_all(struct tls *ctx, const unsigned char *out, unsigned char *in, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = out != NULL ? tls_write(ctx, out + done, len - done)
		                        : tls_read(ctx, in + done, len - done);
		if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static void
fill(unsigned char *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (unsigned char)(seed >> 16);
	}
}

/* The server's half: read the request, check it, answer. */
static void *
server_main(void *arg)
{
	struct side *s = arg;
	static unsigned char got[LEN], want[LEN], out[LEN];

	fill(want, LEN, s->rseed);
	fill(out, LEN, s->wseed);
	if (xfer_all(s->ctx, NULL, got, LEN) != 0) {
		snprintf(s->err, sizeof(s->err), "server read: %s", capi_str(tls_error(s->ctx)));
		s->failed = 1;
		return NULL;
	}
	if (memcmp(got, want, LEN) != 0) {
		snprintf(s->err, sizeof(s->err), "server: the request arrived changed");
		s->failed = 1;
		return NULL;
	}
	if (xfer_all(s->ctx, out, NULL, LEN) != 0) {
		snprintf(s->err, sizeof(s->err), "server write: %s", capi_str(tls_error(s->ctx)));
		s->failed = 1;
	}
	return NULL;
}

static void
exchange(uint32_t proto)
{
	struct tls_config *ccfg = client_config(proto, NULL);
	struct tls_config *scfg = server_config("server", proto, NULL);
	static unsigned char out[LEN], got[LEN], want[LEN];
	struct tls *client, *listener, *server = NULL;
	struct side s = { 0 };
	int up[2], down[2]; /* up: client -> server; down: server -> client */
	pthread_t t;
	sigset_t pending;

	REQUIRE(pipe(up) == 0 && pipe(down) == 0);
	client = tls_client();
	listener = tls_server();
	REQUIRE(client != NULL && listener != NULL);
	REQUIRE_RC(client, tls_configure(client, ccfg), 0);
	REQUIRE_RC(listener, tls_configure(listener, scfg), 0);
	REQUIRE_RC(client, tls_connect_fds(client, down[0], up[1], "localhost"), 0);
	REQUIRE_RC(listener, tls_accept_fds(listener, &server, up[0], down[1]), 0);
	REQUIRE(server != NULL);

	s.ctx = server;
	s.rseed = 7;
	s.wseed = 11;
	REQUIRE(pthread_create(&t, NULL, server_main, &s) == 0);
	fill(out, LEN, 7);
	fill(want, LEN, 11);
	CHECK(xfer_all(client, out, NULL, LEN) == 0);
	CHECK(xfer_all(client, NULL, got, LEN) == 0);
	CHECK(memcmp(got, want, LEN) == 0);
	REQUIRE(pthread_join(t, NULL) == 0);
	if (s.failed)
		FAILF("%s", s.err);
	CHECK_STR(tls_conn_version(client), proto == TLS_PROTOCOL_TLSv1_3 ? "TLSv1.3" : "TLSv1.2");

#ifdef CAPI_NBTLS
	/* The server stops reading: the client's next write fails, quietly. */
	close(up[0]);
	up[0] = -1;
	{
		ssize_t n;
		int i;

		for (i = 0, n = 1; i < 64 && n > 0; i++)
			n = tls_write(client, out, LEN);
		CHECK_RC(client, n, -1);
	}
	REQUIRE(sigpending(&pending) == 0);
	CHECK(!sigismember(&pending, SIGPIPE));
#else
	(void)pending;
#endif

	tls_free(server);
	tls_free(listener);
	tls_free(client);
	if (up[0] != -1)
		close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	tls_config_free(scfg);
	tls_config_free(ccfg);
}

int
main(int argc, char **argv)
{
	capi_init(argc, argv);
	/* SIGPIPE at its default: it would end the process if nbtls let one through. */
	signal(SIGPIPE, SIG_DFL);
	alarm(60);
	capi_case = "pipes, TLS 1.3";
	exchange(TLS_PROTOCOL_TLSv1_3);
	capi_case = "pipes, TLS 1.2";
	exchange(TLS_PROTOCOL_TLSv1_2);
	return capi_finish("fd_pipes");
}
