/*
 * tickets_reset: the reset case over TCP loopback. The server's buffers are made small
 * before listen(); the client's send buffer holds the whole request. The server never
 * writes: after both handshakes the client waits until everything the server sent has
 * been acknowledged (SIOCOUTQ on the server socket is 0, so any out-of-turn bytes sit in
 * the client's receive queue: FIONREAD tells how many), writes 60 KiB, tls_close()s and
 * close()s without reading; only then does the server read.
 *
 * Two clients: over the socket transport (nbtls's reset-free close reads and discards
 * records that already arrived), and over callbacks on the same kind of socket (nbtls
 * cannot read without blocking there, so it discards nothing: any client that does not
 * read, as libtls or OpenSSL's).
 * - DEFERRED: nothing reaches the client before it writes; the server receives every byte
 *   and a clean end of stream (close_notify), with either client.
 * - IMMEDIATE, socket client: the tickets arrived and the reset-free close discards them:
 *   every byte and a clean end of stream.
 * - IMMEDIATE, callback client: the unread tickets turn the close into a TCP reset: the
 *   server sees ECONNRESET and fewer bytes than were sent (the hazard).
 * - OPPORTUNISTIC: only that nothing hangs.
 */
/* capi: nbtls-only */
#include "common.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>

#define REQ_LEN (60 * 1024)
#define MAX_WAITS 20000 /* 1 ms polls: a bound against a hang, never a verdict */

static const int policies[] = { TLS_TICKETS_DEFERRED, TLS_TICKETS_OPPORTUNISTIC,
	TLS_TICKETS_IMMEDIATE };
static const char *const policy_names[] = { "DEFERRED", "OPPORTUNISTIC", "IMMEDIATE" };

static ssize_t
sock_read_cb(struct tls *ctx, void *buf, size_t len, void *arg)
{
	ssize_t n = recv(*(int *)arg, buf, len, 0);

	(void)ctx;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return TLS_WANT_POLLIN;
	return n;
}

static ssize_t
sock_write_cb(struct tls *ctx, const void *buf, size_t len, void *arg)
{
	ssize_t n;

	(void)ctx;
	/* ring's AES-GCM output is a memcheck false positive (see valgrind.supp, which
	 * covers nbtls's own fd transport): vouch for the ciphertext before send(2). */
	(void)VALGRIND_MAKE_MEM_DEFINED(buf, len);
	n = send(*(int *)arg, buf, len, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return TLS_WANT_POLLOUT;
	return n;
}

static void
tcp_pair(int fds[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), small = 1, big = 4 << 20;

	REQUIRE(l >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* before listen(): the accepted socket inherits them (the kernel rounds up) */
	REQUIRE(setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) == 0);
	REQUIRE(setsockopt(l, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) == 0);
	REQUIRE(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0);
	REQUIRE(listen(l, 1) == 0);
	REQUIRE(getsockname(l, (struct sockaddr *)&a, &alen) == 0);
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	REQUIRE(fds[0] >= 0);
	/* capped at wmem_max (doubled): comfortably more than 60 KiB of records */
	REQUIRE(setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)) == 0);
	REQUIRE(connect(fds[0], (struct sockaddr *)&a, sizeof(a)) == 0);
	fds[1] = accept(l, NULL, NULL);
	REQUIRE(fds[1] >= 0);
	close(l);
	set_nonblock(fds[0]);
	set_nonblock(fds[1]);
}

static void
wait_fd(int fd, short ev)
{
	struct pollfd pf = { .fd = fd, .events = ev };

	poll(&pf, 1, 1);
}

static void
run_case(int pi, int cbs)
{
	struct tls_config *ccfg = client_config(TLS_PROTOCOL_TLSv1_3, NULL);
	struct tls_config *scfg = server_config("server", TLS_PROTOCOL_TLSv1_3, NULL);
	struct tls *client, *listener, *server;
	int fds[2], outq = -1, unread = -1, waits;
	size_t held, sent = 0, got = 0;
	unsigned char buf[16384];
	struct stream_check rx;
	ssize_t rc = 0;
	int err = 0, code = 0;
	char label[96];

	snprintf(label, sizeof(label), "%s, %s client", policy_names[pi],
	    cbs ? "callback" : "socket");
	capi_case = label;
	CHECK_CFG(scfg, tls_config_set_ticket_policy(scfg, policies[pi]));
	CHECK_CFG(scfg, tls_config_set_num_tickets(scfg, 4));
	tcp_pair(fds);
	client = tls_client();
	listener = tls_server();
	REQUIRE(client != NULL && listener != NULL);
	REQUIRE_RC(client, tls_configure(client, ccfg), 0);
	REQUIRE_RC(listener, tls_configure(listener, scfg), 0);
	if (cbs)
		REQUIRE_RC(client, tls_connect_cbs(client, sock_read_cb, sock_write_cb, &fds[0],
		    "localhost"), 0);
	else
		REQUIRE_RC(client, tls_connect_socket(client, fds[0], "localhost"), 0);
	REQUIRE_RC(listener, tls_accept_socket(listener, &server, fds[1]), 0);
	{
		/* TCP with the smallest receive buffer may wait for a window probe: poll with a
		 * round-counted watchdog (at most 200 empty 20 ms polls in a row). */
		static const struct xstep hs[] = { { XS_HANDSHAKE, 0, 0 }, { XS_END, 0, 0 } };
		struct xside xc, xs;
		int o;

		xside_init(&xc, "client", client, hs, 0, 0);
		xside_init(&xs, "server", server, hs, 0, 0);
		o = xrun_fds(&xc, fds[0], &xs, fds[1], 20, 200, 1000000);
		if (o != XO_DONE)
			FAILF("handshakes: %s; %s %s", xoutcome_name(o), xc.err, xs.err);
		REQUIRE(o == XO_DONE);
	}
	held = tls_pending_deferred(server);

	/* Everything the server sent is acknowledged: out-of-turn bytes, if any, are in the
	 * client's receive queue now. */
	for (waits = 0; waits < MAX_WAITS; waits++) {
		REQUIRE(ioctl(fds[1], SIOCOUTQ, &outq) == 0);
		if (outq == 0)
			break;
		poll(NULL, 0, 1); /* the client's ACK may be delayed: look again */
	}
	REQUIRE(outq == 0);
	REQUIRE(ioctl(fds[0], FIONREAD, &unread) == 0);

	/* The client writes its request and closes without reading. */
	pattern_fill(7, 0, buf, sizeof(buf));
	for (waits = 0; sent < REQ_LEN && waits < MAX_WAITS;) {
		size_t n = REQ_LEN - sent < sizeof(buf) ? REQ_LEN - sent : sizeof(buf);
		pattern_fill(7, sent, buf, n);
		rc = tls_write(client, buf, n);
		if (rc > 0)
			sent += (size_t)rc;
		else if (rc == TLS_WANT_POLLOUT || rc == TLS_WANT_POLLIN)
			wait_fd(fds[0], POLLOUT), waits++;
		else
			break;
	}
	CHECK(sent == REQ_LEN);
	for (waits = 0; waits < MAX_WAITS; waits++) {
		rc = tls_close(client);
		if (rc != TLS_WANT_POLLOUT && rc != TLS_WANT_POLLIN)
			break;
		wait_fd(fds[0], POLLOUT);
	}
	CHECK_RC(client, rc, 0);
	close(fds[0]);

	/* Only now does the server read. */
	stream_check_init(&rx, 7);
	for (waits = 0; waits < MAX_WAITS;) {
		rc = tls_read(server, buf, sizeof(buf));
		if (rc > 0) {
			stream_check_add(&rx, buf, (size_t)rc);
			got += (size_t)rc;
		} else if (rc == TLS_WANT_POLLIN || rc == TLS_WANT_POLLOUT) {
			wait_fd(fds[1], POLLIN);
			waits++;
		} else {
			break;
		}
	}
	if (waits >= MAX_WAITS)
		FAILF("the server's read never ended (%zu bytes so far)", got);
	code = tls_error_code(server);
	err = tls_error_errno(server);
	printf("%-13s %-8s client: held by the server after its handshake %5zu, unread at "
	    "the client %5d; server received %6zu of %d, then %s (%s%s%s)\n", policy_names[pi],
	    cbs ? "callback" : "socket", held, unread, got, REQ_LEN,
	    rc == 0 ? "end of stream" : "-1", capi_code_name(code), err ? ", " : "",
	    err ? strerror(err) : "");

	switch (policies[pi]) {
	case TLS_TICKETS_DEFERRED:
		CHECK(held > 0);
		CHECK(unread == 0);
		break;
	case TLS_TICKETS_IMMEDIATE:
		CHECK(held == 0);
		CHECK(unread > 0);
		break;
	}
	if (policies[pi] == TLS_TICKETS_DEFERRED ||
	    (policies[pi] == TLS_TICKETS_IMMEDIATE && !cbs)) {
		/* every byte, then close_notify */
		CHECK_STREAM(&rx, REQ_LEN);
		CHECK_RC(server, rc, 0);
		CHECK(code != TLS_ERROR_TRUNCATED);
	} else if (policies[pi] == TLS_TICKETS_IMMEDIATE) {
		/* the hazard: a reset destroyed the tail of the request */
		CHECK(rc == -1);
		CHECK(err == ECONNRESET);
		CHECK(got < REQ_LEN);
		CHECK(rx.first_bad == SIZE_MAX);
	} else {
		CHECK(got <= REQ_LEN && rx.first_bad == SIZE_MAX);
	}
	tls_free(server);
	tls_free(listener);
	tls_free(client);
	close(fds[1]);
	tls_config_free(ccfg);
	tls_config_free(scfg);
	capi_case = "";
}

int
main(int argc, char **argv)
{
	capi_init(argc, argv);
	for (int pi = 0; pi < 3; pi++)
		for (int cbs = 0; cbs < 2; cbs++)
			run_case(pi, cbs);
	return capi_finish("tickets_reset");
}
