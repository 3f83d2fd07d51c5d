/* capi: nbtls-only */
/*
 * robust_callers: caller mistakes the nullability table cannot express.
 *   - transport callbacks that return nonsense (more than the buffer, a negative value that
 *     is neither -1 nor a WANT code, -1 with errno 0), in the handshake and after it, on
 *     either side and in either direction: the call is -1 with TLS_ERROR_IO and a message
 *     naming the value, the connection stays failed (the callback is not called again),
 *     the other side sees an ordinary failure or EOF, and tls_free frees everything (the
 *     suite runs under valgrind and ASan too);
 *   - calls on a context of the wrong kind: accepting on a client, connecting on a server
 *     or on an accepted connection, accepting on an unconfigured server: -1 with
 *     TLS_ERROR_WRONG_STATE and a message, *cctx left NULL, the context still usable for
 *     what it is.
 */
#include "common.h"

#include <limits.h>

/* Callbacks that behave like ep_read_cb/ep_write_cb until call number `at`, which returns
 * `bogus` (with errno set to `err`) instead of moving bytes. */
struct liar {
	struct endpoint *ep;
	int reading;		/* lie in the read callback (else in the write callback) */
	unsigned long at, calls, after;	/* calls after the lie */
	ssize_t bogus;
	int err;
	int lied;
};

/* Whether this call is the lie; then *rv is what the callback returns. */
static int
lie_now(struct liar *l, int reading, size_t len, ssize_t *rv)
{
	if (l->reading != reading)
		return 0;
	if (l->lied)
		l->after++;
	if (++l->calls != l->at)
		return 0;
	l->lied = 1;
	errno = l->err;
	*rv = l->bogus == -999 ? (ssize_t)len + 1 : l->bogus;
	return 1;
}

static ssize_t
liar_read(struct tls *ctx, void *buf, size_t len, void *arg)
{
	struct liar *l = arg;
	ssize_t rv;

	return lie_now(l, 1, len, &rv) ? rv : ep_read_cb(ctx, buf, len, l->ep);
}

static ssize_t
liar_write(struct tls *ctx, const void *buf, size_t len, void *arg)
{
	struct liar *l = arg;
	ssize_t rv;

	return lie_now(l, 0, len, &rv) ? rv : ep_write_cb(ctx, buf, len, l->ep);
}

/* The values a callback must never return; -999 stands for "len + 1". */
static const struct {
	const char *name;
	ssize_t value;
	int err;
	const char *msg;	/* in tls_error() */
} lies[] = {
	{ "len + 1", -999, 0, "callback returned" },
	{ "SSIZE_MAX", SSIZE_MAX, 0, "callback returned" },
	{ "-4", -4, 0, "callback returned -4" },
	{ "-1000", -1000, 0, "callback returned -1000" },
	{ "SSIZE_MIN", -SSIZE_MAX - 1, 0, "callback returned" },
	{ "-1 with errno 0", -1, 0, "callback failed" },
	{ "-1 with EIO", -1, EIO, "Input/output error" },
};

/*
 * The client's (or server's) callbacks lie on their `at`-th read or write. Drives the
 * handshake and then a short exchange; the liar's side must fail exactly as documented.
 */
static void
lying_callback(int lie, int server_lies, int reading, unsigned long at)
{
	struct pipe2 p;
	struct liar l;
	struct tls *client, *listener, *server = NULL, *liar_ctx, *other;
	struct tls_config *ccfg = client_config(0, NULL);
	struct tls_config *scfg = server_config("server", 0, NULL);
	char name[160];
	unsigned char buf[256];
	int rounds, failed_rc = 0, other_failed = 0;

	snprintf(name, sizeof(name), "%s %s callback returns %s on call %lu",
	    server_lies ? "server" : "client", reading ? "read" : "write", lies[lie].name, at);
	capi_case = name;
	pipe2_init(&p, 1 << 16);
	memset(&l, 0, sizeof(l));
	l.ep = server_lies ? &p.srv : &p.cli;
	l.reading = reading;
	l.at = at;
	l.bogus = lies[lie].value;
	l.err = lies[lie].err;

	client = tls_client();
	listener = tls_server();
	REQUIRE(client != NULL && listener != NULL);
	REQUIRE_RC(client, tls_configure(client, ccfg), 0);
	REQUIRE_RC(listener, tls_configure(listener, scfg), 0);
	if (server_lies) {
		REQUIRE_RC(client, tls_connect_cbs(client, ep_read_cb, ep_write_cb, &p.cli,
		    "localhost"), 0);
		REQUIRE_RC(listener, tls_accept_cbs(listener, &server, liar_read, liar_write, &l),
		    0);
	} else {
		REQUIRE_RC(client, tls_connect_cbs(client, liar_read, liar_write, &l,
		    "localhost"), 0);
		REQUIRE_RC(listener, tls_accept_cbs(listener, &server, ep_read_cb, ep_write_cb,
		    &p.srv), 0);
	}
	liar_ctx = server_lies ? server : client;
	other = server_lies ? client : server;

	/* Handshake, then each side writes and reads a little, until the liar has failed. */
	int hs_done[2] = { 0, 0 };
	for (rounds = 0; rounds < 200 && failed_rc == 0; rounds++) {
		struct tls *sides[2] = { client, server };
		int i;
		for (i = 0; i < 2; i++) {
			struct tls *t = sides[i];
			ssize_t rc;
			if (t == other && other_failed)
				continue;
			/* A second tls_handshake after a 0 is -1 (libtls): ask once. */
			rc = hs_done[i] ? 0 : tls_handshake(t);
			if (rc == 0) {
				hs_done[i] = 1;
				rc = tls_write(t, "ping", 4);
				if (rc >= 0 || rc == TLS_WANT_POLLIN || rc == TLS_WANT_POLLOUT)
					rc = tls_read(t, buf, sizeof(buf));
			}
			if (rc == -1) {
				if (t == liar_ctx)
					failed_rc = 1;
				else
					other_failed = 1;
			}
		}
	}
	if (!l.lied) {
		FAILF("the callback was never called %lu times", at);
		goto out;
	}
	if (!failed_rc) {
		FAILF("the lying side never returned -1");
		goto out;
	}
	CHECK_CODE(liar_ctx, TLS_ERROR_IO);
	if (tls_error(liar_ctx) == NULL || strstr(tls_error(liar_ctx), lies[lie].msg) == NULL)
		FAILF("tls_error = \"%s\", expected it to contain \"%s\"",
		    capi_str(tls_error(liar_ctx)), lies[lie].msg);
	/* It stays failed, and the callbacks are not called again. */
	{
		unsigned long after = l.after;
		CHECK_RC(liar_ctx, tls_read(liar_ctx, buf, sizeof(buf)), -1);
		CHECK_RC(liar_ctx, tls_write(liar_ctx, "x", 1), -1);
		CHECK_RC(liar_ctx, tls_handshake(liar_ctx), -1);
		if (l.after != after)
			FAILF("a callback was called %lu more time(s) after the failure",
			    l.after - after);
	}
out:
	tls_free(server);
	tls_free(listener);
	tls_free(client);
	tls_config_free(ccfg);
	tls_config_free(scfg);
	pipe2_free(&p);
}

/* ---------------------------------------------------- the wrong kind of context */

static void
wrong_kind(void)
{
	struct tls_config *ccfg = client_config(0, NULL);
	struct tls_config *scfg = server_config("server", 0, NULL);
	struct tls *client = tls_client(), *server = tls_server(), *unconf = tls_server();
	struct tls *cctx;
	struct pipe2 p;
	int sv[2];

	REQUIRE(client != NULL && server != NULL && unconf != NULL);
	REQUIRE_RC(client, tls_configure(client, ccfg), 0);
	REQUIRE_RC(server, tls_configure(server, scfg), 0);
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pipe2_init(&p, 4096);

#define NO_ACCEPT(ctx, call)                                                   \
	do {                                                                   \
		capi_case = #call;                                             \
		cctx = NULL;                                                   \
		CHECK_RC(ctx, call, -1);                                       \
		CHECK(cctx == NULL);                                           \
		CHECK_CODE(ctx, TLS_ERROR_WRONG_STATE);                        \
		CHECK(tls_error(ctx) != NULL);                                 \
		tls_free(cctx);                                                \
	} while (0)

	NO_ACCEPT(client, tls_accept_socket(client, &cctx, sv[1]));
	NO_ACCEPT(client, tls_accept_fds(client, &cctx, sv[1], sv[1]));
	NO_ACCEPT(client, tls_accept_cbs(client, &cctx, ep_read_cb, ep_write_cb, &p.srv));
	NO_ACCEPT(client, tls_accept_mem(client, &cctx));
	NO_ACCEPT(unconf, tls_accept_socket(unconf, &cctx, sv[1]));
	NO_ACCEPT(unconf, tls_accept_mem(unconf, &cctx));

#define NO_CONNECT(ctx, call)                                                  \
	do {                                                                   \
		capi_case = #call;                                             \
		CHECK_RC(ctx, call, -1);                                       \
		CHECK_CODE(ctx, TLS_ERROR_WRONG_STATE);                        \
		CHECK(tls_error(ctx) != NULL);                                 \
	} while (0)

	NO_CONNECT(server, tls_connect_socket(server, sv[0], "localhost"));
	NO_CONNECT(server, tls_connect_fds(server, sv[0], sv[0], "localhost"));
	NO_CONNECT(server, tls_connect_cbs(server, ep_read_cb, ep_write_cb, &p.cli,
	    "localhost"));
	NO_CONNECT(server, tls_connect_mem(server, "localhost"));

	/* An accepted connection is neither a listener nor a client. */
	capi_case = "accepted connection";
	cctx = NULL;
	REQUIRE_RC(server, tls_accept_mem(server, &cctx), 0);
	{
		struct tls *conn = cctx, *inner = NULL;
		CHECK_RC(conn, tls_accept_mem(conn, &inner), -1);
		CHECK(inner == NULL);
		CHECK_CODE(conn, TLS_ERROR_WRONG_STATE);
		NO_CONNECT(conn, tls_connect_mem(conn, "localhost"));
		tls_free(conn);
	}

	/* After all that, each context still does what it is for. */
	capi_case = "still usable";
	{
		struct conn_pair cp;
		int cout, sout;
		conn_pair_open(&cp, 1 << 16, ccfg, scfg, "localhost");
		drive_handshakes(&cp, &cout, &sout);
		CHECK(cout == HS_OK && sout == HS_OK);
		conn_pair_close(&cp);
		cctx = NULL;
		CHECK_RC(server, tls_accept_mem(server, &cctx), 0);
		tls_free(cctx);
		CHECK_RC(client, tls_connect_mem(client, "localhost"), 0);
	}

	close(sv[0]);
	close(sv[1]);
	pipe2_free(&p);
	tls_free(client);
	tls_free(server);
	tls_free(unconf);
	tls_config_free(ccfg);
	tls_config_free(scfg);
}

int
main(int argc, char **argv)
{
	size_t lie;
	int server_lies, reading;

	capi_init(argc, argv);
	for (lie = 0; lie < sizeof(lies) / sizeof(lies[0]); lie++)
		for (server_lies = 0; server_lies < 2; server_lies++)
			for (reading = 0; reading < 2; reading++) {
				/* the first call (handshake) and a later one (data) */
				lying_callback((int)lie, server_lies, reading, 1);
				lying_callback((int)lie, server_lies, reading, 4);
			}
	wrong_kind();
	return capi_finish("robust_callers");
}
