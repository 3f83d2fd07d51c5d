/*
 * tickets_sockets: the HTTP/1.1 deadlock over real kernel sockets. The server issues 16
 * tickets made large by a long ALPN name (a ticket carries the ALPN protocol), so they
 * exceed what the smallest socket buffers hold; the client handshakes, writes a 256 KiB
 * request without reading, then reads a 2-byte answer; the server handshakes, reads the
 * whole request, answers, waits for the client's close_notify and closes.
 *
 * 1. AF_UNIX socketpair, SO_SNDBUF/SO_RCVBUF minimal, nonblocking, one poll loop: a
 *    deadlock is a round in which both sides said WANT and poll() with timeout 0 finds
 *    neither side's awaited event ready. IMMEDIATE deadlocks; DEFERRED, OPPORTUNISTIC and
 *    NONE complete with every byte.
 * 2. The same with blocking fds, one thread per side: a deadlock is both threads blocked
 *    in a write system call (/proc/self/task/TID/syscall) and neither scheduled between two
 *    samples (its context-switch counts unchanged): then shutdown(2) on both sockets ends
 *    it, so nothing hangs and a slow run cannot fake one. IMMEDIATE deadlocks; DEFERRED
 *    completes.
 * 3. TCP loopback, buffers made small before listen()/connect(), nonblocking, one poll
 *    loop with a bounded no-progress watchdog (a deadlock is 50 polls in a row that find
 *    nothing ready, counted in rounds). IMMEDIATE deadlocks; DEFERRED completes.
 */
/* capi: nbtls-only */
#include "common.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#define REQ_LEN (256 * 1024)
#define MAX_ROUNDS (20L * 1000 * 1000)

static const int policies[] = { TLS_TICKETS_DEFERRED, TLS_TICKETS_OPPORTUNISTIC,
	TLS_TICKETS_IMMEDIATE, TLS_TICKETS_NONE };
static const char *const policy_names[] = { "DEFERRED", "OPPORTUNISTIC", "IMMEDIATE", "NONE" };

static char alpn[201];
static struct tls_config *ccfg, *scfg[4];
static struct tls *listener[4];

static const struct xstep client_steps[] = { { XS_HANDSHAKE, 0, 0 }, { XS_WRITE, REQ_LEN, 0 },
	{ XS_READ, 0, 2 }, { XS_CLOSE, 0, 0 }, { XS_END, 0, 0 } };
static const struct xstep server_steps[] = { { XS_HANDSHAKE, 0, 0 }, { XS_READ, 0, REQ_LEN },
	{ XS_WRITE, 2, 0 }, { XS_READ_EOF, 0, 0 }, { XS_CLOSE, 0, 0 }, { XS_END, 0, 0 } };

static void
small_buffers(int fd)
{
	int one = 1;

	/* The kernel rounds these up to its minimum. */
	REQUIRE(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one)) == 0);
	REQUIRE(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one)) == 0);
}

/* Connects a client and an accepted server over fds cfd/sfd. */
static void
open_pair(int pi, int cfd, int sfd, struct tls **c, struct tls **s)
{
	*c = tls_client();
	REQUIRE(*c != NULL);
	REQUIRE_RC(*c, tls_configure(*c, ccfg), 0);
	REQUIRE_RC(*c, tls_connect_socket(*c, cfd, "localhost"), 0);
	REQUIRE_RC(listener[pi], tls_accept_socket(listener[pi], s, sfd), 0);
}

static int
expected(int pi)
{
	return policies[pi] == TLS_TICKETS_IMMEDIATE ? XO_DEADLOCK : XO_DONE;
}

/* Checks the outcome of one run; a completed run must have moved every byte. */
static void
verdict(const char *what, int pi, int outcome, struct xside *c, struct xside *s)
{
	printf("%-26s %-13s %-10s (expected %s) client %ld calls, server %ld calls, "
	    "tickets received %d\n", what, policy_names[pi], xoutcome_name(outcome),
	    xoutcome_name(expected(pi)), c->calls, s->calls, tls_conn_tickets_received(c->ctx));
	if (outcome != expected(pi))
		FAILF("%s %s: %s, expected %s; %s %s", what, policy_names[pi],
		    xoutcome_name(outcome), xoutcome_name(expected(pi)), c->err, s->err);
	if (outcome == XO_DONE) {
		CHECK_STREAM(&s->rx, REQ_LEN);
		CHECK_STREAM(&c->rx, 2);
		CHECK(tls_conn_tickets_received(c->ctx) ==
		    (policies[pi] == TLS_TICKETS_NONE ? 0 : 16));
	}
	if (outcome == XO_DEADLOCK && (c->at != 1 || s->at != 0))
		FAILF("%s %s: deadlocked at client step %d, server step %d; expected the client "
		    "writing its request and the server in its handshake", what,
		    policy_names[pi], c->at, s->at);
}

/* ---------------------------------------------------- 1. nonblocking pair */

static void
unix_poll_loop(int pi)
{
	int sv[2];
	struct tls *c, *s;
	struct xside xc, xs;
	int o;

	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	for (int i = 0; i < 2; i++) {
		small_buffers(sv[i]);
		set_nonblock(sv[i]);
	}
	open_pair(pi, sv[0], sv[1], &c, &s);
	xside_init(&xc, "client", c, client_steps, 1, 2);
	xside_init(&xs, "server", s, server_steps, 2, 1);
	o = xrun_fds(&xc, sv[0], &xs, sv[1], 0, 0, MAX_ROUNDS);
	verdict("AF_UNIX nonblocking", pi, o, &xc, &xs);
	tls_free(c);
	tls_free(s);
	close(sv[0]);
	close(sv[1]);
}

/* ------------------------------------------------- 2. blocking, two threads */

static void
unix_threads(int pi)
{
	int sv[2], o;
	struct tls *c, *s;
	struct xside xc, xs;
	struct xthread tc, ts;

	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	small_buffers(sv[0]);
	small_buffers(sv[1]);
	open_pair(pi, sv[0], sv[1], &c, &s);
	xside_init(&xc, "client", c, client_steps, 1, 2);
	xside_init(&xs, "server", s, server_steps, 2, 1);
	o = xrun_threads(&xc, sv[0], &xs, sv[1], &tc, &ts);
	if (o == XO_DEADLOCK) {
		/* Judge where they stood when blocked, not after shutdown(2) woke them (an
		 * IMMEDIATE handshake counts EPIPE as tickets sent, as OpenSSL does). */
		xc.at = tc.at_deadlock;
		xs.at = ts.at_deadlock;
		printf("  both threads were blocked in a write at once (then shut down)\n");
	}
	verdict("AF_UNIX blocking threads", pi, o, &xc, &xs);
	tls_free(c);
	tls_free(s);
	close(sv[0]);
	close(sv[1]);
}

/* ------------------------------------------------------------ 3. TCP */

static void
tcp_pair(int fds[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	REQUIRE(l >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	small_buffers(l); /* before listen(): the accepted socket inherits them */
	REQUIRE(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0);
	REQUIRE(listen(l, 1) == 0);
	REQUIRE(getsockname(l, (struct sockaddr *)&a, &alen) == 0);
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	REQUIRE(fds[0] >= 0);
	small_buffers(fds[0]);
	REQUIRE(connect(fds[0], (struct sockaddr *)&a, sizeof(a)) == 0);
	fds[1] = accept(l, NULL, NULL);
	REQUIRE(fds[1] >= 0);
	close(l);
	for (int i = 0; i < 2; i++) {
		setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		set_nonblock(fds[i]);
	}
}

static void
tcp_poll_loop(int pi)
{
	int fds[2];
	struct tls *c, *s;
	struct xside xc, xs;
	int o;

	tcp_pair(fds);
	open_pair(pi, fds[0], fds[1], &c, &s);
	xside_init(&xc, "client", c, client_steps, 1, 2);
	xside_init(&xs, "server", s, server_steps, 2, 1);
	o = xrun_fds(&xc, fds[0], &xs, fds[1], 10, 50, MAX_ROUNDS);
	verdict("TCP nonblocking watchdog", pi, o, &xc, &xs);
	tls_free(c);
	tls_free(s);
	close(fds[0]);
	close(fds[1]);
}

int
main(int argc, char **argv)
{
	capi_init(argc, argv);
	memset(alpn, 'h', sizeof(alpn) - 1);
	ccfg = client_config(TLS_PROTOCOL_TLSv1_3, alpn);
	for (int pi = 0; pi < 4; pi++) {
		scfg[pi] = server_config("server", TLS_PROTOCOL_TLSv1_3, alpn);
		CHECK_CFG(scfg[pi], tls_config_set_ticket_policy(scfg[pi], policies[pi]));
		CHECK_CFG(scfg[pi], tls_config_set_num_tickets(scfg[pi], 16));
		listener[pi] = tls_server();
		REQUIRE(listener[pi] != NULL);
		REQUIRE_RC(listener[pi], tls_configure(listener[pi], scfg[pi]), 0);
	}
	for (int pi = 0; pi < 4; pi++)
		unix_poll_loop(pi);
	for (int pi = 0; pi < 4; pi++)
		if (policies[pi] == TLS_TICKETS_IMMEDIATE || policies[pi] == TLS_TICKETS_DEFERRED)
			unix_threads(pi);
	for (int pi = 0; pi < 4; pi++)
		if (policies[pi] == TLS_TICKETS_IMMEDIATE || policies[pi] == TLS_TICKETS_DEFERRED)
			tcp_poll_loop(pi);
	for (int pi = 0; pi < 4; pi++) {
		tls_free(listener[pi]);
		tls_config_free(scfg[pi]);
	}
	tls_config_free(ccfg);
	return capi_finish("tickets_sockets");
}
