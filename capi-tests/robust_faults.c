/*
 * robust_faults.c: transport faults over real sockets (TCP on 127.0.0.1, AF_UNIX pairs).
 *
 * Each case makes a fault happen at a known point and asserts the exact outcome:
 * - the peer resets (SO_LINGER 0 close) mid-handshake, on either side, and mid-transfer,
 *   for a reader and for a writer: -1, TLS_ERROR_IO, tls_error_errno ECONNRESET (EPIPE for
 *   a write the kernel reports that way); no SIGPIPE reaches the program;
 * - tls_close towards a peer that has reset or half-closed: 0 (a gone peer is ignored);
 * - the peer half-closes (shutdown SHUT_WR) without close_notify after sending data: the
 *   data arrives, then tls_read 0 with TLS_ERROR_TRUNCATED, the other direction still works,
 *   tls_close -1 TRUNCATED; with tls_config_set_strict_eof tls_read is -1 TRUNCATED;
 * - the peer ends without close_notify mid-handshake: -1, TLS_ERROR_CLOSED;
 * - the peer closes its socket without close_notify after data: TRUNCATED; with close_notify
 *   the same reads end cleanly (so the TRUNCATED check can fail);
 * - a peer that never reads: a nonblocking writer gets TLS_WANT_POLLOUT (never hangs), the
 *   socket is really full, tls_events asks for POLLOUT, tls_close says WANT_POLLOUT too; once
 *   the peer reads, every byte arrives exactly once and the close completes;
 * - a peer sending its ClientHello one byte per event-loop turn does not stall another
 *   connection served by the same loop.
 * Waiting is poll(2) on data already sent (bounded by a 10 s safety timeout), never a sleep.
 */
/* capi: nbtls-only */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>

/* Closes fd so that the peer gets a TCP reset. */
static void
reset_close(int fd)
{
	struct linger lg = { 1, 0 };

	REQUIRE(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0);
	REQUIRE(close(fd) == 0);
}

static struct tls_config *ccfg, *scfg, *scfg_strict;

struct duo {
	int fds[2];
	struct tls *client, *listener, *server;
};

/* A client and an accepted server context on a TCP pair (or an AF_UNIX pair), no I/O yet. */
static void
duo_open(struct duo *d, int unix_pair, struct tls_config *server_cfg)
{
	memset(d, 0, sizeof(*d));
	if (unix_pair)
		make_socketpair(d->fds, 1, 8192);
	else
		tcp_loopback_pair(d->fds, 0, 0);
	d->client = tls_client();
	d->listener = tls_server();
	REQUIRE(d->client != NULL && d->listener != NULL);
	REQUIRE_RC(d->client, tls_configure(d->client, ccfg), 0);
	REQUIRE_RC(d->listener, tls_configure(d->listener, server_cfg), 0);
	REQUIRE_RC(d->client, tls_connect_socket(d->client, d->fds[0], "localhost"), 0);
	REQUIRE_RC(d->listener, tls_accept_socket(d->listener, &d->server, d->fds[1]), 0);
}

/* Frees the contexts and closes the fds still open (-1 marks one closed by the case). */
static void
duo_close(struct duo *d)
{
	tls_free(d->client);
	tls_free(d->server);
	tls_free(d->listener);
	for (int i = 0; i < 2; i++)
		if (d->fds[i] >= 0)
			close(d->fds[i]);
}

static void
check_io_errno(struct tls *ctx, const char *who, int e1, int e2)
{
	int e = tls_error_errno(ctx);

	CHECK_CODE(ctx, TLS_ERROR_IO);
	if (e != e1 && e != e2)
		FAILF("%s: tls_error_errno = %d (%s), expected %s%s%s", who, e, strerror(e),
		    strerror(e1), e2 ? " or " : "", e2 ? strerror(e2) : "");
}

/* ------------------------------------------------------------------ resets */

static void
reset_mid_handshake_client_sees(void)
{
	struct duo d;

	capi_case = "reset mid-handshake, client";
	duo_open(&d, 0, scfg);
	CHECK_RC(d.client, tls_handshake(d.client), TLS_WANT_POLLIN); /* ClientHello sent */
	wait_for(d.fds[1], POLLIN);
	CHECK(slurp(d.fds[1]) > 0);
	reset_close(d.fds[1]);
	d.fds[1] = -1;
	wait_for(d.fds[0], POLLIN);
	CHECK_RC(d.client, tls_handshake(d.client), -1);
	check_io_errno(d.client, "client", ECONNRESET, 0);
	/* The failure is sticky. */
	CHECK_RC(d.client, tls_handshake(d.client), -1);
	duo_close(&d);
}

static void
reset_mid_handshake_server_sees(void)
{
	struct duo d;

	capi_case = "reset mid-handshake, server";
	duo_open(&d, 0, scfg);
	CHECK_RC(d.client, tls_handshake(d.client), TLS_WANT_POLLIN);
	wait_for(d.fds[1], POLLIN);
	/* The server reads the ClientHello, sends its flight and waits for the Finished. */
	CHECK_RC(d.server, tls_handshake(d.server), TLS_WANT_POLLIN);
	tls_free(d.client);
	d.client = NULL;
	reset_close(d.fds[0]);
	d.fds[0] = -1;
	wait_for(d.fds[1], POLLIN);
	CHECK_RC(d.server, tls_handshake(d.server), -1);
	check_io_errno(d.server, "server", ECONNRESET, 0);
	duo_close(&d);
}

static void
reset_mid_transfer_reader(uint32_t proto)
{
	struct duo d;
	unsigned char buf[4096];
	struct stream_check rx;
	size_t got = 0;

	capi_case = proto == TLS_PROTOCOL_TLSv1_2 ? "reset mid-transfer, reader, TLSv1.2" :
	    "reset mid-transfer, reader, TLSv1.3";
	REQUIRE(tls_config_set_protocols(ccfg, proto) == 0);
	duo_open(&d, 0, scfg);
	REQUIRE(fd_handshakes(d.client, d.server) == 0);
	CHECK_STR(tls_conn_version(d.client), proto_name(proto));
	pattern_fill(7, 0, buf, 3000);
	CHECK_RC(d.client, tls_write(d.client, buf, 3000), 3000);
	stream_check_init(&rx, 7);
	while (got < 3000) {
		ssize_t n = tls_read(d.server, buf, sizeof(buf));
		if (n == TLS_WANT_POLLIN) {
			wait_for(d.fds[1], POLLIN);
			continue;
		}
		REQUIRE(n > 0);
		stream_check_add(&rx, buf, (size_t)n);
		got += (size_t)n;
	}
	CHECK_STREAM(&rx, 3000);
	tls_free(d.client);
	d.client = NULL;
	reset_close(d.fds[0]);
	d.fds[0] = -1;
	wait_for(d.fds[1], POLLIN);
	CHECK_RC(d.server, tls_read(d.server, buf, sizeof(buf)), -1);
	check_io_errno(d.server, "server", ECONNRESET, 0);
	CHECK(tls_error(d.server) != NULL);
	duo_close(&d);
}

static void
reset_mid_transfer_writer(void)
{
	struct duo d;
	static unsigned char big[65536];
	int rc = 0, reset_done = 0;

	capi_case = "reset mid-transfer, writer";
	duo_open(&d, 0, scfg);
	REQUIRE(fd_handshakes(d.client, d.server) == 0);
	pattern_fill(9, 0, big, sizeof(big));
	/* The client never reads; the server writes until the socket is full, then the client
	 * resets and the server's next write fails. */
	for (int i = 0; i < 10000; i++) {
		rc = (int)tls_write(d.server, big, sizeof(big));
		if (rc == TLS_WANT_POLLOUT && !reset_done) {
			tls_free(d.client);
			d.client = NULL;
			reset_close(d.fds[0]);
			d.fds[0] = -1;
			reset_done = 1;
			wait_for(d.fds[1], POLLOUT);
			continue;
		}
		if (rc == -1)
			break;
		REQUIRE(rc > 0 || rc == TLS_WANT_POLLOUT);
	}
	CHECK(reset_done);
	CHECK_RC(d.server, rc, -1);
	check_io_errno(d.server, "server", ECONNRESET, EPIPE);
	/* Failed: every later call fails with the same error, close included. */
	CHECK_RC(d.server, tls_write(d.server, big, 10), -1);
	CHECK_RC(d.server, tls_close(d.server), -1);
	check_io_errno(d.server, "server after close", ECONNRESET, EPIPE);
	duo_close(&d);
}

/* tls_close towards a peer that has reset: the gone peer is ignored, 0. */
static void
close_after_peer_reset(int server_closes)
{
	struct duo d;
	struct tls *closer;
	int *gone;

	capi_case = server_closes ? "server closes after reset" : "client closes after reset";
	duo_open(&d, 0, scfg);
	REQUIRE(fd_handshakes(d.client, d.server) == 0);
	closer = server_closes ? d.server : d.client;
	gone = server_closes ? &d.fds[0] : &d.fds[1];
	reset_close(*gone);
	*gone = -1;
	wait_for(server_closes ? d.fds[1] : d.fds[0], POLLIN);
	CHECK_RC(closer, tls_close(closer), 0);
	CHECK_RC(closer, tls_close(closer), 0);
	duo_close(&d);
}

/* --------------------------------------------------------- EOF, half-close */

static void
half_close_after_request(int strict)
{
	struct duo d;
	unsigned char buf[4096];
	struct stream_check rx, back;
	ssize_t n;

	capi_case = strict ? "half-close, strict EOF" : "half-close";
	duo_open(&d, 1, strict ? scfg_strict : scfg);
	REQUIRE(fd_handshakes(d.client, d.server) == 0);
	pattern_fill(11, 0, buf, 1000);
	CHECK_RC(d.client, tls_write(d.client, buf, 1000), 1000);
	REQUIRE(shutdown(d.fds[0], SHUT_WR) == 0); /* no close_notify */
	stream_check_init(&rx, 11);
	for (int i = 0; i < 1000; i++) {
		n = tls_read(d.server, buf, sizeof(buf));
		if (n == TLS_WANT_POLLIN) {
			wait_for(d.fds[1], POLLIN);
			continue;
		}
		if (n <= 0)
			break;
		stream_check_add(&rx, buf, (size_t)n);
	}
	CHECK_STREAM(&rx, 1000);
	if (strict) {
		CHECK_RC(d.server, n, -1);
	} else {
		CHECK_RC(d.server, n, 0);
	}
	CHECK_CODE(d.server, TLS_ERROR_TRUNCATED);
	if (!strict) {
		/* The other direction still works. */
		pattern_fill(12, 0, buf, 500);
		CHECK_RC(d.server, tls_write(d.server, buf, 500), 500);
		stream_check_init(&back, 12);
		while (back.got < 500) {
			n = tls_read(d.client, buf, sizeof(buf));
			if (n == TLS_WANT_POLLIN) {
				wait_for(d.fds[0], POLLIN);
				continue;
			}
			if (n <= 0) {
				FAILF("client tls_read = %s: %s", capi_rc_name(n),
				    capi_str(tls_error(d.client)));
				break;
			}
			stream_check_add(&back, buf, (size_t)n);
		}
		CHECK_STREAM(&back, 500);
		CHECK_RC(d.server, tls_close(d.server), -1);
		CHECK_CODE(d.server, TLS_ERROR_TRUNCATED);
		/* The client's close_notify meets a shut-down socket: EPIPE is ignored. */
		CHECK_RC(d.client, tls_close(d.client), 0);
	}
	duo_close(&d);
}

static void
eof_mid_handshake(void)
{
	struct duo d;
	int rc = 0;

	capi_case = "EOF mid-handshake";
	duo_open(&d, 1, scfg);
	CHECK_RC(d.client, tls_handshake(d.client), TLS_WANT_POLLIN);
	REQUIRE(shutdown(d.fds[0], SHUT_WR) == 0);
	for (int i = 0; i < 100; i++) {
		rc = tls_handshake(d.server);
		if (rc != TLS_WANT_POLLIN)
			break;
		wait_for(d.fds[1], POLLIN);
	}
	CHECK_RC(d.server, rc, -1);
	CHECK_CODE(d.server, TLS_ERROR_CLOSED);
	duo_close(&d);
}

/* The server sends 3000 bytes, then closes with or without close_notify. */
static void
end_of_stream(int clean, uint32_t proto)
{
	struct duo d;
	unsigned char buf[4096];
	struct stream_check rx;
	ssize_t n = 0;

	capi_case = clean ? "close_notify then close" : "close without close_notify";
	REQUIRE(tls_config_set_protocols(ccfg, proto) == 0);
	duo_open(&d, 1, scfg);
	REQUIRE(fd_handshakes(d.client, d.server) == 0);
	CHECK_STR(tls_conn_version(d.client), proto_name(proto));
	pattern_fill(13, 0, buf, 3000);
	CHECK_RC(d.server, tls_write(d.server, buf, 3000), 3000);
	if (clean)
		CHECK_RC(d.server, tls_close(d.server), 0);
	close(d.fds[1]);
	d.fds[1] = -1;
	stream_check_init(&rx, 13);
	for (int i = 0; i < 1000; i++) {
		n = tls_read(d.client, buf, sizeof(buf));
		if (n == TLS_WANT_POLLIN) {
			wait_for(d.fds[0], POLLIN);
			continue;
		}
		if (n <= 0)
			break;
		stream_check_add(&rx, buf, (size_t)n);
	}
	CHECK_STREAM(&rx, 3000);
	CHECK_RC(d.client, n, 0);
	if (clean) {
		CHECK(tls_error_code(d.client) != TLS_ERROR_TRUNCATED);
		CHECK_RC(d.client, tls_close(d.client), 0);
	} else {
		CHECK_CODE(d.client, TLS_ERROR_TRUNCATED);
		CHECK_RC(d.client, tls_close(d.client), -1);
		CHECK_CODE(d.client, TLS_ERROR_TRUNCATED);
	}
	duo_close(&d);
	REQUIRE(tls_config_set_protocols(ccfg, TLS_PROTOCOLS_DEFAULT) == 0);
}

/* ------------------------------------------------------ a peer never reads */

static void
peer_never_reads(void)
{
	struct duo d;
	enum { TOTAL = 1 << 20 };
	static unsigned char data[TOTAL], buf[16384];
	size_t sent = 0;
	int wants = 0, rc = -1;
	struct stream_check rx;
	struct pollfd pf;

	capi_case = "peer never reads";
	duo_open(&d, 1, scfg);
	REQUIRE(fd_handshakes(d.client, d.server) == 0);
	pattern_fill(17, 0, data, TOTAL);
	/* Phase 1: the server does not read. Every call returns; the first WANT comes soon. */
	for (int i = 0; i < 1000 && sent < TOTAL; i++) {
		ssize_t n = tls_write(d.client, data + sent, TOTAL - sent);
		if (n == TLS_WANT_POLLOUT) {
			wants = 1;
			break;
		}
		REQUIRE(n > 0);
		sent += (size_t)n;
	}
	CHECK(wants);
	CHECK(sent < TOTAL);
	pf = (struct pollfd){ .fd = d.fds[0], .events = POLLOUT };
	CHECK(poll(&pf, 1, 0) == 0); /* the socket is really full */
	CHECK((tls_events(d.client) & POLLOUT) != 0);
	CHECK(tls_pending_write(d.client) > 0);
	CHECK_RC(d.client, tls_close(d.client), TLS_WANT_POLLOUT);
	/* Closing: no more writes. */
	CHECK_RC(d.client, tls_write(d.client, data + sent, TOTAL - sent), -1);
	CHECK_CODE(d.client, TLS_ERROR_WRONG_STATE);
	/* Phase 2: the server reads; the close completes, after the queued bytes. */
	stream_check_init(&rx, 17);
	for (long i = 0; i < 1000000 && rc != 0; i++) {
		ssize_t n;
		rc = tls_close(d.client);
		if (rc != 0 && rc != TLS_WANT_POLLOUT)
			REQUIRE_RC(d.client, rc, 0);
		n = tls_read(d.server, buf, sizeof(buf));
		if (n > 0)
			stream_check_add(&rx, buf, (size_t)n);
		else
			REQUIRE(n == TLS_WANT_POLLIN);
	}
	CHECK_RC(d.client, rc, 0);
	for (int i = 0; i < 1000; i++) {
		ssize_t n = tls_read(d.server, buf, sizeof(buf));
		if (n == TLS_WANT_POLLIN) {
			wait_for(d.fds[1], POLLIN);
			continue;
		}
		if (n <= 0) {
			CHECK_RC(d.server, n, 0);
			break;
		}
		stream_check_add(&rx, buf, (size_t)n);
	}
	/* Everything reported written arrived, plus the part of the record the blocked write
	 * had already taken; in order, nothing twice. */
	CHECK(rx.got >= sent && rx.got < TOTAL);
	CHECK(rx.first_bad == SIZE_MAX);
	CHECK(tls_error_code(d.server) != TLS_ERROR_TRUNCATED);
	duo_close(&d);
}

static void
peer_reads_late(void)
{
	struct duo d;
	enum { TOTAL = 1 << 20 };
	static unsigned char data[TOTAL], buf[16384];
	size_t sent = 0;
	int wants = 0, closed = 0;
	struct stream_check rx;
	ssize_t n;

	capi_case = "peer reads late";
	duo_open(&d, 1, scfg);
	REQUIRE(fd_handshakes(d.client, d.server) == 0);
	pattern_fill(19, 0, data, TOTAL);
	for (int i = 0; i < 1000 && sent < TOTAL; i++) {
		n = tls_write(d.client, data + sent, TOTAL - sent);
		if (n == TLS_WANT_POLLOUT) {
			wants = 1;
			break;
		}
		REQUIRE(n > 0);
		sent += (size_t)n;
	}
	CHECK(wants);
	stream_check_init(&rx, 19);
	/* One loop: the client retries its write then closes, the server reads to the end. */
	for (long i = 0; i < 1000000 && !(closed && rx.got == TOTAL); i++) {
		if (sent < TOTAL) {
			n = tls_write(d.client, data + sent, TOTAL - sent);
			if (n > 0)
				sent += (size_t)n;
			else if (n != TLS_WANT_POLLOUT)
				REQUIRE_RC(d.client, n, 1);
		} else if (!closed) {
			int rc = tls_close(d.client);
			if (rc == 0)
				closed = 1;
			else if (rc != TLS_WANT_POLLOUT)
				REQUIRE_RC(d.client, rc, 0);
		}
		n = tls_read(d.server, buf, sizeof(buf));
		if (n > 0)
			stream_check_add(&rx, buf, (size_t)n);
		else if (n == 0)
			break;
		else if (n != TLS_WANT_POLLIN)
			REQUIRE_RC(d.server, n, TLS_WANT_POLLIN);
	}
	CHECK(closed);
	CHECK_STREAM(&rx, TOTAL);
	n = tls_read(d.server, buf, sizeof(buf));
	for (int i = 0; i < 100 && n == TLS_WANT_POLLIN; i++) {
		wait_for(d.fds[1], POLLIN);
		n = tls_read(d.server, buf, sizeof(buf));
	}
	CHECK_RC(d.server, n, 0); /* close_notify */
	CHECK(tls_error_code(d.server) != TLS_ERROR_TRUNCATED);
	duo_close(&d);
}

/* ------------------------------------- a slow handshake in an event loop */

static void
slow_peer_does_not_stall_others(void)
{
	struct duo slow, fast;
	unsigned char hello[4096], buf[256];
	size_t hello_len, fed = 0;
	int fast_hs = 0, slow_rc = 0, echoed = 0;
	long turns = 0;

	capi_case = "slow peer in an event loop";
	/* The slow peer's ClientHello, from a real client whose socket we then take over. */
	duo_open(&slow, 1, scfg);
	CHECK_RC(slow.client, tls_handshake(slow.client), TLS_WANT_POLLIN);
	wait_for(slow.fds[1], POLLIN);
	{
		/* Move the ClientHello out of the server's socket; it is sent back 1 byte/turn. */
		ssize_t n = recv(slow.fds[1], hello, sizeof(hello), 0);
		REQUIRE(n > 0);
		hello_len = (size_t)n;
	}
	duo_open(&fast, 1, scfg);
	/* The loop: each turn the slow peer's byte goes in on the raw socket pair's other
	 * direction (written into the server's socket through the client's end) and both
	 * server contexts are driven once, with the fast pair's client. */
	while (fed < hello_len && turns < 100000) {
		int rc;

		turns++;
		REQUIRE(send(slow.fds[0], hello + fed, 1, MSG_NOSIGNAL) == 1);
		fed++;
		slow_rc = tls_handshake(slow.server);
		if (fed < hello_len)
			CHECK_RC(slow.server, slow_rc, TLS_WANT_POLLIN);
		if (!fast_hs) {
			rc = tls_handshake(fast.client);
			REQUIRE(rc == 0 || rc == TLS_WANT_POLLIN || rc == TLS_WANT_POLLOUT);
			rc = tls_handshake(fast.server);
			REQUIRE(rc == 0 || rc == TLS_WANT_POLLIN || rc == TLS_WANT_POLLOUT);
			if (tls_handshake(fast.client) == 0 && tls_handshake(fast.server) == 0)
				fast_hs = 1;
		} else if (!echoed) {
			ssize_t n;
			CHECK_RC(fast.client, tls_write(fast.client, "ping", 4), 4);
			n = tls_read(fast.server, buf, sizeof(buf));
			if (n == 4)
				echoed = 1;
		}
		if (echoed)
			break;
	}
	CHECK(fast_hs && echoed);
	if (fed >= hello_len)
		FAILF("the fast connection needed the slow peer's whole ClientHello (%zu bytes)",
		    hello_len);
	/* The slow peer still works when its bytes come. The real client's socket was used to
	 * send them, so the server answers it. */
	while (fed < hello_len) {
		REQUIRE(send(slow.fds[0], hello + fed, 1, MSG_NOSIGNAL) == 1);
		fed++;
		slow_rc = tls_handshake(slow.server);
		if (fed < hello_len)
			CHECK_RC(slow.server, slow_rc, TLS_WANT_POLLIN);
	}
	CHECK_RC(slow.server, slow_rc, TLS_WANT_POLLIN); /* flight sent, awaits the Finished */
	REQUIRE(fd_handshakes(slow.client, slow.server) == 0);
	duo_close(&fast);
	duo_close(&slow);
}

int
main(int argc, char **argv)
{
	capi_init(argc, argv);
	signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill the test: nbtls must not raise one */
	ccfg = client_config(0, NULL);
	scfg = server_config("server", 0, NULL);
	scfg_strict = server_config("server", 0, NULL);
	tls_config_set_strict_eof(scfg_strict);

	reset_mid_handshake_client_sees();
	reset_mid_handshake_server_sees();
	reset_mid_transfer_reader(TLS_PROTOCOL_TLSv1_2);
	REQUIRE(tls_config_set_protocols(ccfg, TLS_PROTOCOLS_DEFAULT) == 0);
	reset_mid_transfer_reader(TLS_PROTOCOL_TLSv1_3);
	REQUIRE(tls_config_set_protocols(ccfg, TLS_PROTOCOLS_DEFAULT) == 0);
	reset_mid_transfer_writer();
	close_after_peer_reset(0);
	close_after_peer_reset(1);
	half_close_after_request(0);
	half_close_after_request(1);
	eof_mid_handshake();
	end_of_stream(0, TLS_PROTOCOL_TLSv1_2);
	end_of_stream(0, TLS_PROTOCOL_TLSv1_3);
	end_of_stream(1, TLS_PROTOCOL_TLSv1_2);
	end_of_stream(1, TLS_PROTOCOL_TLSv1_3);
	peer_never_reads();
	peer_reads_late();
	slow_peer_does_not_stall_others();

	tls_config_free(ccfg);
	tls_config_free(scfg);
	tls_config_free(scfg_strict);
	return capi_finish("robust_faults");
}
