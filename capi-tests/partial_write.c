/*
 * partial_write: a tls_write() that hits WANT_POLLOUT part-way, and its retry.
 *
 * The client writes L-byte chunks over a nonblocking socketpair with a small send buffer
 * while the server does not read, until a tls_write returns TLS_WANT_POLLOUT: that call's
 * record is encrypted and partly sent. Then, per case:
 *   retry      the server reads what arrived; the client retries with the SAME buffer and
 *              length: the count finally returned is L (it covers the first attempt).
 *   fewer      (nbtls) a retry with 1 byte, fewer than were taken, is -1 with
 *              TLS_ERROR_INVALID_ARGUMENT; then the retry with the same buffer succeeds.
 *   flush      (nbtls) tls_write(ctx, NULL, 0) and tls_flush() return WANT_POLLOUT while
 *              the socket is full, tls_events() asks for POLLOUT, tls_pending_write() is
 *              non-zero; once the server reads they return 0 and nothing is pending; the
 *              retry with the same buffer then reports L without sending the bytes again.
 * Every case then writes the rest of TOTAL bytes and closes; the server must receive every
 * byte exactly once, in order, then the end of stream (0). TLS 1.2 and TLS 1.3.
 */
#include "common.h"

#define L 1000
#define TOTAL 200000
#define SEED 0xabcdu

enum wcase { C_RETRY, C_FEWER, C_FLUSH };
static const char *wcase_name[] = { "retry", "fewer", "flush" };

static int peer_eof; /* the server's tls_read returned 0 */

/* The server reads until WANT_POLLIN or the end of stream; returns the bytes read or -1. */
static long
peer_drain(struct tls *server, struct stream_check *rx)
{
	unsigned char buf[16384];
	long total = 0;

	for (;;) {
		ssize_t rc = tls_read(server, buf, sizeof(buf));
		if (rc > 0) {
			stream_check_add(rx, buf, (size_t)rc);
			total += rc;
		} else if (rc == TLS_WANT_POLLIN) {
			return total;
		} else if (rc == 0 && peer_eof == 0) {
			peer_eof = 1;
			return total;
		} else {
			FAILF("server tls_read = %s after %zu bytes; tls_error: %s",
			    capi_rc_name(rc), rx->got, capi_str(tls_error(server)));
			return -1;
		}
	}
}

static void
run_case(uint32_t proto, enum wcase wc)
{
	static char casename[64];
	struct tls_config *ccfg = client_config(proto, NULL);
	struct tls_config *scfg = server_config("server", proto, NULL);
	struct tls *client = tls_client(), *listener = tls_server(), *server = NULL;
	struct stream_check rx;
	unsigned char buf[L];
	size_t off = 0;
	ssize_t rc = 0;
	int sv[2], fills = 0, retries = 0;
	int before = capi_failures;

	snprintf(casename, sizeof(casename), "%s %s", proto_name(proto), wcase_name[wc]);
	capi_case = casename;
	REQUIRE(client != NULL && listener != NULL);
	make_socketpair(sv, 1, 4096);
	REQUIRE_RC(client, tls_configure(client, ccfg), 0);
	REQUIRE_RC(listener, tls_configure(listener, scfg), 0);
	REQUIRE_RC(client, tls_connect_socket(client, sv[0], "localhost"), 0);
	REQUIRE_RC(listener, tls_accept_socket(listener, &server, sv[1]), 0);
	stream_check_init(&rx, SEED);
	peer_eof = 0;
	if (fd_handshakes(client, server) < 0)
		goto out;

	/* Fill the socket until a write would block. */
	for (fills = 0; fills < 10000; fills++) {
		pattern_fill(SEED, off, buf, L);
		rc = tls_write(client, buf, L);
		if (rc == L)
			off += L;
		else
			break;
	}
	if (rc != TLS_WANT_POLLOUT) {
		FAILF("filling the socket: tls_write(%d) = %s after %d writes, expected "
		    "WANT_POLLOUT; tls_error: %s", L, capi_rc_name(rc), fills,
		    capi_str(tls_error(client)));
		goto out;
	}
#ifdef CAPI_NBTLS
	if (tls_pending_write(client) == 0)
		FAILF("tls_pending_write = 0 after a write returned WANT_POLLOUT");
	if (!(tls_events(client) & POLLOUT))
		FAILF("tls_events = %#x after a write returned WANT_POLLOUT, expected POLLOUT",
		    (unsigned)tls_events(client));
	if (wc == C_FEWER) {
		CHECK_RC(client, tls_write(client, buf, 1), -1);
		CHECK_CODE(client, TLS_ERROR_INVALID_ARGUMENT);
		CHECK(tls_error(client) != NULL);
	}
	if (wc == C_FLUSH) {
		size_t pending = tls_pending_write(client);
		CHECK_RC(client, tls_write(client, NULL, 0), TLS_WANT_POLLOUT);
		CHECK_RC(client, tls_flush(client), TLS_WANT_POLLOUT);
		CHECK(tls_pending_write(client) == pending);
		for (retries = 0; retries < 1000; retries++) {
			if (peer_drain(server, &rx) < 0)
				goto out;
			rc = tls_write(client, NULL, 0);
			if (rc != TLS_WANT_POLLOUT)
				break;
		}
		CHECK_RC(client, rc, 0);
		CHECK_RC(client, tls_flush(client), 0);
		CHECK(tls_pending_write(client) == 0);
		CHECK(!(tls_events(client) & POLLOUT));
		if (peer_drain(server, &rx) < 0)
			goto out;
		/* All of the pending record has arrived: the first attempt's bytes. */
		if (rx.got != off + L)
			FAILF("after the flush the server has %zu bytes, expected %zu", rx.got,
			    off + L);
	}
#else
	(void)wcase_name;
#endif

	/* Retry with the same buffer until it is reported written. */
	for (retries = 0; retries < 1000; retries++) {
		if (peer_drain(server, &rx) < 0)
			goto out;
		rc = tls_write(client, buf, L);
		if (rc != TLS_WANT_POLLOUT)
			break;
	}
	if (rc != L) {
		FAILF("retry of the blocked tls_write(%d) = %s after %d retries, expected %d; "
		    "tls_error: %s", L, capi_rc_name(rc), retries, L, capi_str(tls_error(client)));
		goto out;
	}
	off += L;

	/* The rest, with the server reading whenever the client would block. */
	while (off < TOTAL) {
		size_t n = TOTAL - off < L ? TOTAL - off : L;
		pattern_fill(SEED, off, buf, n);
		rc = tls_write(client, buf, n);
		if (rc > 0 && (size_t)rc <= n) {
			off += (size_t)rc;
		} else if (rc == TLS_WANT_POLLOUT) {
			if (peer_drain(server, &rx) < 0)
				goto out;
		} else {
			FAILF("tls_write(%zu) = %s at %zu; tls_error: %s", n, capi_rc_name(rc),
			    off, capi_str(tls_error(client)));
			goto out;
		}
	}
	for (retries = 0; retries < 1000; retries++) {
		if (peer_drain(server, &rx) < 0)
			goto out;
		rc = tls_close(client);
		if (rc != TLS_WANT_POLLOUT && rc != TLS_WANT_POLLIN)
			break;
	}
	CHECK_RC(client, rc, 0);
	/* Everything, then the end of stream, and nothing more. */
	for (retries = 0; retries < 1000 && !peer_eof; retries++)
		if (peer_drain(server, &rx) < 0)
			goto out;
	if (!peer_eof)
		FAILF("the server never read the end of stream");
	CHECK_STREAM(&rx, TOTAL);
out:
	printf("  %-8s %-6s %s (filled after %d writes)\n", proto_name(proto), wcase_name[wc],
	    capi_failures == before ? "ok" : "FAIL", fills);
	tls_free(server);
	tls_free(listener);
	tls_free(client);
	close(sv[0]);
	close(sv[1]);
	tls_config_free(ccfg);
	tls_config_free(scfg);
	capi_case = "";
}

int
main(int argc, char **argv)
{
	static const uint32_t protos[] = { TLS_PROTOCOL_TLSv1_2, TLS_PROTOCOL_TLSv1_3 };

	capi_init(argc, argv);
	for (size_t p = 0; p < 2; p++) {
		run_case(protos[p], C_RETRY);
#ifdef CAPI_NBTLS
		run_case(protos[p], C_FEWER);
		run_case(protos[p], C_FLUSH);
#endif
	}
	return capi_finish("partial_write");
}
