/*
 * eof: the end of a stream, over callbacks on in-memory rings and over a nonblocking
 * socketpair, for TLS 1.2 and TLS 1.3. After the handshake the server writes "hello"; then
 *   close_notify  the server's tls_close() returns 0; the client reads "hello", then
 *                 tls_read() returns 0 and tls_close() returns 0; (nbtls) the code after
 *                 that 0 is not TRUNCATED and a second tls_close() on either side is 0;
 *   bare EOF      the server's transport ends with no close_notify (the fd is closed, or
 *                 the ring reports EOF); the client reads "hello", then tls_read() is 0,
 *                 (nbtls) tls_error_code() is TLS_ERROR_TRUNCATED, and tls_close() is -1;
 *   strict EOF    (nbtls) the client's config has tls_config_set_strict_eof(): the bare
 *                 EOF makes tls_read() return -1 with TLS_ERROR_TRUNCATED.
 */
#include "common.h"

#include <signal.h>

#define MSG "hello"
#define MSG_LEN 5
#define MAX_SPINS 10000

enum transport { T_RING, T_FD };
enum ecase { E_CLOSE_NOTIFY, E_BARE, E_STRICT };
static const char *transport_name[] = { "ring", "fd" };
static const char *ecase_name[] = { "close_notify", "bare EOF", "strict EOF" };

struct link {
	enum transport t;
	struct conn_pair cp; /* T_RING */
	struct tls *client, *listener, *server;
	int sv[2];           /* T_FD */
};

static void
link_open(struct link *l, enum transport t, struct tls_config *ccfg, struct tls_config *scfg)
{
	memset(l, 0, sizeof(*l));
	l->t = t;
	l->sv[0] = l->sv[1] = -1;
	if (t == T_RING) {
		conn_pair_open(&l->cp, 4096, ccfg, scfg, "localhost");
		l->client = l->cp.client;
		l->server = l->cp.server;
		return;
	}
	make_socketpair(l->sv, 1, 0);
	l->client = tls_client();
	l->listener = tls_server();
	REQUIRE(l->client != NULL && l->listener != NULL);
	REQUIRE_RC(l->client, tls_configure(l->client, ccfg), 0);
	REQUIRE_RC(l->listener, tls_configure(l->listener, scfg), 0);
	REQUIRE_RC(l->client, tls_connect_socket(l->client, l->sv[0], "localhost"), 0);
	REQUIRE_RC(l->listener, tls_accept_socket(l->listener, &l->server, l->sv[1]), 0);
}

/* The server's transport goes away without a close_notify. */
static void
link_hard_close(struct link *l)
{
	if (l->t == T_RING) {
		l->cp.pipe.s2c.eof = 1;
		l->cp.pipe.c2s.reader_gone = 1;
	} else {
		close(l->sv[1]);
		l->sv[1] = -1;
	}
}

static void
link_free(struct link *l)
{
	if (l->t == T_RING) {
		conn_pair_close(&l->cp);
		return;
	}
	tls_free(l->server);
	tls_free(l->listener);
	tls_free(l->client);
	close(l->sv[0]);
	if (l->sv[1] >= 0)
		close(l->sv[1]);
}

static int
handshakes(struct link *l)
{
	if (l->t == T_RING) {
		int co, so;
		drive_handshakes(&l->cp, &co, &so);
		if (co != HS_OK || so != HS_OK) {
			FAILF("handshake: client %s (%s), server %s (%s)", hs_outcome_name(co),
			    capi_str(tls_error(l->client)), hs_outcome_name(so),
			    capi_str(tls_error(l->server)));
			return -1;
		}
		return 0;
	}
	return fd_handshakes(l->client, l->server);
}

/* Calls `call` until it returns something other than a WANT code. */
#define SPIN(rcvar, call)                                                      \
	do {                                                                   \
		int capi_n_ = 0;                                               \
		do                                                             \
			rcvar = (call);                                        \
		while ((rcvar == TLS_WANT_POLLIN || rcvar == TLS_WANT_POLLOUT) && \
		    ++capi_n_ < MAX_SPINS);                                    \
	} while (0)

static void
run_case(uint32_t proto, enum transport t, enum ecase ec)
{
	static char casename[96];
	struct tls_config *ccfg = client_config(proto, NULL);
	struct tls_config *scfg = server_config("server", proto, NULL);
	struct link l;
	unsigned char buf[64];
	ssize_t rc;
	int before = capi_failures;

	snprintf(casename, sizeof(casename), "%s %s %s", proto_name(proto), transport_name[t],
	    ecase_name[ec]);
	capi_case = casename;
#ifdef CAPI_NBTLS
	if (ec == E_STRICT)
		tls_config_set_strict_eof(ccfg);
#endif
	link_open(&l, t, ccfg, scfg);
	if (handshakes(&l) < 0)
		goto out;

	SPIN(rc, tls_write(l.server, MSG, MSG_LEN));
	if (rc != MSG_LEN) {
		FAILF("server tls_write = %s; tls_error: %s", capi_rc_name(rc),
		    capi_str(tls_error(l.server)));
		goto out;
	}
	if (ec == E_CLOSE_NOTIFY) {
		SPIN(rc, tls_close(l.server));
		CHECK_RC(l.server, rc, 0);
	} else {
		link_hard_close(&l);
	}

	SPIN(rc, tls_read(l.client, buf, sizeof(buf)));
	if (rc != MSG_LEN || memcmp(buf, MSG, MSG_LEN) != 0) {
		FAILF("client tls_read = %s, expected the %d bytes of \"%s\"; tls_error: %s",
		    capi_rc_name(rc), MSG_LEN, MSG, capi_str(tls_error(l.client)));
		goto out;
	}
	SPIN(rc, tls_read(l.client, buf, sizeof(buf)));
	switch (ec) {
	case E_CLOSE_NOTIFY:
		CHECK_RC(l.client, rc, 0);
#ifdef CAPI_NBTLS
		CHECK(tls_error_code(l.client) != TLS_ERROR_TRUNCATED);
#endif
		SPIN(rc, tls_close(l.client));
		CHECK_RC(l.client, rc, 0);
#ifdef CAPI_NBTLS
		CHECK_RC(l.client, tls_close(l.client), 0);
		CHECK_RC(l.server, tls_close(l.server), 0);
#endif
		break;
	case E_BARE:
#ifdef CAPI_NBTLS
		CHECK_RC(l.client, rc, 0);
		CHECK_CODE(l.client, TLS_ERROR_TRUNCATED);
		SPIN(rc, tls_close(l.client));
		CHECK_RC(l.client, rc, -1);
		CHECK(tls_error(l.client) != NULL);
		printf("    bare EOF: tls_close error: %s\n", capi_str(tls_error(l.client)));
#else
		/*
		 * OpenBSD's libtls returns 0 here and -1 from tls_close; Debian's libtls on
		 * OpenSSL 3 reports "unexpected eof while reading" (-1): only shown.
		 */
		printf("    bare EOF (not checked on libtls): tls_read = %s (%s)", capi_rc_name(rc),
		    capi_str(tls_error(l.client)));
		SPIN(rc, tls_close(l.client));
		printf(", tls_close = %s\n", capi_rc_name(rc));
#endif
		break;
	case E_STRICT:
		CHECK_RC(l.client, rc, -1);
#ifdef CAPI_NBTLS
		CHECK_CODE(l.client, TLS_ERROR_TRUNCATED);
#endif
		CHECK(tls_error(l.client) != NULL);
		break;
	}
out:
	printf("  %-8s %-4s %-12s %s\n", proto_name(proto), transport_name[t], ecase_name[ec],
	    capi_failures == before ? "ok" : "FAIL");
	link_free(&l);
	tls_config_free(ccfg);
	tls_config_free(scfg);
	capi_case = "";
}

int
main(int argc, char **argv)
{
	static const uint32_t protos[] = { TLS_PROTOCOL_TLSv1_2, TLS_PROTOCOL_TLSv1_3 };

	capi_init(argc, argv);
#ifdef CAPI_LIBTLS
	signal(SIGPIPE, SIG_IGN); /* nbtls promises that no SIGPIPE reaches the program */
#endif
	for (int p = 0; p < 2; p++)
		for (int t = T_RING; t <= T_FD; t++) {
			run_case(protos[p], t, E_CLOSE_NOTIFY);
			run_case(protos[p], t, E_BARE);
#ifdef CAPI_NBTLS
			run_case(protos[p], t, E_STRICT);
#endif
		}
	return capi_finish("eof");
}
