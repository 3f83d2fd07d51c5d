/*
 * deadlock-demo: the classic TLS 1.3 ticket deadlock, once per nbtls ticket policy.
 *
 * Over TCP loopback with the kernel's smallest socket buffers, a server that issues 16
 * tickets (large ones: each carries a 200-byte ALPN name) runs an HTTP/1.1-style exchange
 * with a client: the server handshakes, reads the whole request, then responds; the
 * client handshakes, writes a 256 KiB request, then reads. Both run in one thread on
 * nonblocking sockets; a no-progress watchdog (counted in poll rounds, never a hang)
 * reports a deadlock. Then the next connection from the same client config shows whether
 * the session resumed. Last, the reset case: the server never writes; the client writes
 * 60 KiB, closes and goes; only then does the server read.
 *
 * Exits 0 when every outcome is the expected one: IMMEDIATE deadlocks, DEFERRED,
 * OPPORTUNISTIC and NONE complete, and under DEFERRED the reset case loses nothing.
 *
 *   deadlock-demo CERTDIR     (CERTDIR holds ca.pem, server.pem, server.key)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tlsapi.h"

#ifdef USE_LIBTLS
int
main(void)
{
	puts("deadlock-demo shows nbtls's ticket policies: build it against nbtls");
	return 0;
}
#else

#define REQUEST (256 * 1024)
#define RESET_REQUEST (60 * 1024)
#define IDLE_ROUNDS 50 /* polls in a row that find nothing ready: a deadlock */
#define IDLE_POLL_MS 20

static const char RESPONSE[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

static const struct {
	int policy;
	const char *name;
	int deadlocks; /* expected */
} policies[] = {
	{ TLS_TICKETS_DEFERRED, "DEFERRED", 0 },
	{ TLS_TICKETS_OPPORTUNISTIC, "OPPORTUNISTIC", 0 },
	{ TLS_TICKETS_IMMEDIATE, "IMMEDIATE", 1 },
	{ TLS_TICKETS_NONE, "NONE", 0 },
};

static const char *certdir;
static char alpn[201];

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "deadlock-demo: %s: %s\n", what, why ? why : strerror(errno));
	exit(2);
}

static const char *
path(const char *name)
{
	static char buf[4][1024];
	static int i;
	char *p = buf[i++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", certdir, name);
	return p;
}

/* A connected pair of nonblocking TCP sockets with the smallest buffers. */
static void
tcp_pair(int fds[2], int big_client_sndbuf)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1, big = 4 << 20;

	if (l < 0)
		die("socket", NULL);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* before listen(): the accepted socket inherits them; the kernel rounds them up */
	setsockopt(l, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
	setsockopt(l, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(l, 1) != 0 ||
	    getsockname(l, (struct sockaddr *)&a, &alen) != 0)
		die("listen", NULL);
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (big_client_sndbuf)
		setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	else {
		setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
		setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
	}
	if (connect(fds[0], (struct sockaddr *)&a, sizeof(a)) != 0)
		die("connect", NULL);
	if ((fds[1] = accept(l, NULL, NULL)) < 0)
		die("accept", NULL);
	close(l);
	for (int i = 0; i < 2; i++) {
		setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
	}
}

/* One side of the exchange: a few phases, one nonblocking call at a time. */
enum phase { HANDSHAKE, WRITE, READ, CLOSE, DONE, FAILED };

struct side {
	const char *name;
	struct tls *ctx;
	int fd;
	enum phase phase;
	const unsigned char *out;
	size_t outlen, sent, inwant, got;
	short want; /* POLLIN/POLLOUT after a WANT */
	char err[256];
};

/* One step; returns 1 when something moved, 0 on WANT. */
static int
step(struct side *s)
{
	static unsigned char buf[16384];
	ssize_t rc = 0;

	s->want = 0;
	switch (s->phase) {
	case HANDSHAKE:
		rc = tls_handshake(s->ctx);
		if (rc == 0) /* the client speaks first, the server answers */
			s->phase = s->name[0] == 'c' && s->outlen > 0 ? WRITE : READ;
		break;
	case WRITE: {
		size_t n = s->outlen - s->sent < sizeof(buf) ? s->outlen - s->sent : sizeof(buf);
		rc = tls_write(s->ctx, s->out + s->sent, n);
		if (rc > 0 && (s->sent += (size_t)rc) == s->outlen)
			s->phase = s->got < s->inwant ? READ : CLOSE;
		break;
	}
	case READ:
		rc = tls_read(s->ctx, buf, sizeof(buf));
		if (rc == 0) {
			snprintf(s->err, sizeof(s->err), "%s: end of stream too early", s->name);
			s->phase = FAILED;
			return 1;
		}
		if (rc > 0 && (s->got += (size_t)rc) >= s->inwant)
			s->phase = s->sent < s->outlen ? WRITE : CLOSE;
		break;
	case CLOSE:
		rc = tls_close(s->ctx);
		if (rc == 0)
			s->phase = DONE;
		break;
	default:
		return 0;
	}
	if (rc == TLS_WANT_POLLIN || rc == TLS_WANT_POLLOUT) {
		s->want = rc == TLS_WANT_POLLIN ? POLLIN : POLLOUT;
		return 0;
	}
	if (rc < 0) {
		snprintf(s->err, sizeof(s->err), "%s: %s", s->name, tls_error(s->ctx));
		s->phase = FAILED;
	}
	return 1;
}

/* Runs both sides until done; returns 0 done, 1 deadlock, -1 failure. */
static int
run(struct side *c, struct side *s)
{
	int idle = 0;

	for (;;) {
		int moved = step(c) | step(s);
		struct pollfd pf[2];
		int n = 0, r;

		if (c->phase == FAILED || s->phase == FAILED)
			return -1;
		if (c->phase == DONE && s->phase == DONE)
			return 0;
		if (moved) {
			idle = 0;
			continue;
		}
		if (c->phase != DONE)
			pf[n++] = (struct pollfd){ .fd = c->fd, .events = c->want };
		if (s->phase != DONE)
			pf[n++] = (struct pollfd){ .fd = s->fd, .events = s->want };
		r = poll(pf, (nfds_t)n, 0);
		if (r == 0)
			r = poll(pf, (nfds_t)n, IDLE_POLL_MS); /* TCP may ack a little later */
		if (r > 0)
			idle = 0;
		else if (++idle >= IDLE_ROUNDS)
			return 1; /* neither side's awaited event came: nobody can move */
	}
}

struct row {
	int outcome, tickets, resumed;
	size_t moved;
	size_t reset_got;
	const char *reset_end;
};

static struct tls *
connect_client(struct tls_config *ccfg, int fd)
{
	struct tls *c = tls_client();

	if (c == NULL || tls_configure(c, ccfg) != 0 || tls_connect_socket(c, fd, "localhost") != 0)
		die("client", c ? tls_error(c) : "tls_client");
	return c;
}

static struct tls *
accept_server(struct tls *listener, int fd)
{
	struct tls *s = NULL;

	if (tls_accept_socket(listener, &s, fd) != 0)
		die("accept", tls_error(listener));
	return s;
}

/* The HTTP/1.1 exchange: returns the outcome, fills bytes moved and tickets. */
static int
exchange(struct tls_config *ccfg, struct tls *listener, size_t reqlen, struct row *r)
{
	static unsigned char req[REQUEST];
	int fds[2], o;
	struct side c = { .name = "client" }, s = { .name = "server" };

	memset(req, 'a', sizeof(req));
	tcp_pair(fds, 0);
	c.ctx = connect_client(ccfg, fds[0]);
	s.ctx = accept_server(listener, fds[1]);
	c.fd = fds[0];
	s.fd = fds[1];
	c.out = req;
	c.outlen = reqlen;
	c.inwant = sizeof(RESPONSE) - 1;
	s.out = (const unsigned char *)RESPONSE;
	s.outlen = sizeof(RESPONSE) - 1;
	s.inwant = reqlen;
	o = run(&c, &s);
	if (o < 0)
		fprintf(stderr, "deadlock-demo: %s%s\n", c.err, s.err);
	r->moved = s.got + c.got;
	r->tickets = tls_conn_tickets_received(c.ctx);
	r->resumed = tls_conn_session_resumed(c.ctx);
	tls_free(c.ctx);
	tls_free(s.ctx);
	close(fds[0]);
	close(fds[1]);
	return o;
}

/* The reset case: the server never writes; the client writes 60 KiB once anything the
 * server sent has arrived, closes and goes; then the server reads. */
static void
reset_case(struct tls_config *ccfg, struct tls *listener, struct row *r)
{
	static unsigned char req[RESET_REQUEST], buf[16384];
	int fds[2], outq = 1, idle = 0;
	struct side c = { .name = "client" }, s = { .name = "server" };
	ssize_t rc;

	memset(req, 'b', sizeof(req));
	tcp_pair(fds, 1);
	c.ctx = connect_client(ccfg, fds[0]);
	s.ctx = accept_server(listener, fds[1]);
	c.fd = fds[0];
	s.fd = fds[1];
	c.outlen = 0; /* handshakes only */
	s.outlen = 0;
	c.phase = s.phase = HANDSHAKE;
	/* both handshakes; then every byte the server sent is acknowledged (in the
	 * client's receive queue) */
	while ((c.phase == HANDSHAKE || s.phase == HANDSHAKE) && idle < IDLE_ROUNDS) {
		if (!(step(&c) | step(&s)))
			idle++, poll(NULL, 0, 1);
	}
	for (int i = 0; i < 5000 && outq != 0; i++)
		if (ioctl(fds[1], SIOCOUTQ, &outq) != 0 || outq != 0)
			poll(NULL, 0, 1);
	for (size_t sent = 0; sent < sizeof(req);) {
		rc = tls_write(c.ctx, req + sent, sizeof(req) - sent);
		if (rc > 0)
			sent += (size_t)rc;
		else if (rc != TLS_WANT_POLLOUT && rc != TLS_WANT_POLLIN)
			break;
		else
			poll(&(struct pollfd){ .fd = fds[0], .events = POLLOUT }, 1, IDLE_POLL_MS);
	}
	for (int i = 0; i < IDLE_ROUNDS; i++) {
		rc = tls_close(c.ctx);
		if (rc != TLS_WANT_POLLOUT && rc != TLS_WANT_POLLIN)
			break;
		poll(&(struct pollfd){ .fd = fds[0], .events = POLLOUT }, 1, IDLE_POLL_MS);
	}
	close(fds[0]);
	r->reset_got = 0;
	r->reset_end = "hung";
	for (idle = 0; idle < IDLE_ROUNDS;) {
		rc = tls_read(s.ctx, buf, sizeof(buf));
		if (rc > 0) {
			r->reset_got += (size_t)rc;
			idle = 0;
		} else if (rc == TLS_WANT_POLLIN || rc == TLS_WANT_POLLOUT) {
			if (poll(&(struct pollfd){ .fd = fds[1], .events = POLLIN }, 1,
			    IDLE_POLL_MS) == 0)
				idle++;
		} else {
			r->reset_end = rc == 0 ? "close_notify" :
			    tls_error_errno(s.ctx) == ECONNRESET ? "reset" : "error";
			break;
		}
	}
	tls_free(c.ctx);
	tls_free(s.ctx);
	close(fds[1]);
}

int
main(int argc, char **argv)
{
	struct row rows[4];
	int ok = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: deadlock-demo CERTDIR\n");
		return 2;
	}
	certdir = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(alpn, 'h', sizeof(alpn) - 1);
	printf("The HTTP/1.1 ticket deadlock over TCP loopback: smallest socket buffers, 16 "
	    "tickets of ~%zu bytes,\na %d KiB request written before the client reads.\n\n",
	    sizeof(alpn) + 230, REQUEST / 1024);
	printf("| policy        | outcome    | bytes read  | tickets received | next connection "
	    "resumed | reset case: server received   |\n");
	printf("|---------------|------------|-------------|------------------|----------------"
	    "---------|-------------------------------|\n");
	for (int i = 0; i < 4; i++) {
		struct tls_config *ccfg = tls_config_new(), *scfg = tls_config_new();
		struct tls *listener = tls_server();
		struct row *r = &rows[i], r2;
		char reset[64];
		int expect = policies[i].deadlocks;

		if (ccfg == NULL || scfg == NULL || listener == NULL)
			die("config", "out of memory");
		if (tls_config_set_ca_file(ccfg, path("ca.pem")) != 0 ||
		    tls_config_set_protocols(ccfg, TLS_PROTOCOL_TLSv1_3) != 0 ||
		    tls_config_set_alpn(ccfg, alpn) != 0)
			die("client config", tls_config_error(ccfg));
		if (tls_config_set_keypair_file(scfg, path("server.pem"), path("server.key")) != 0 ||
		    tls_config_set_protocols(scfg, TLS_PROTOCOL_TLSv1_3) != 0 ||
		    tls_config_set_alpn(scfg, alpn) != 0 ||
		    tls_config_set_ticket_policy(scfg, policies[i].policy) != 0 ||
		    tls_config_set_num_tickets(scfg, 16) != 0)
			die("server config", tls_config_error(scfg));
		if (tls_configure(listener, scfg) != 0)
			die("tls_configure", tls_error(listener));

		r->outcome = exchange(ccfg, listener, REQUEST, r);
		/* the next connection from the same client config, small enough to finish */
		exchange(ccfg, listener, 100, &r2);
		r->resumed = r2.resumed;
		reset_case(ccfg, listener, r);

		snprintf(reset, sizeof(reset), "%zu of %d (%s)", r->reset_got, RESET_REQUEST,
		    r->reset_end);
		printf("| %-13s | %-10s | %11zu | %16d | %-23s | %-29s |\n", policies[i].name,
		    r->outcome == 0 ? "completed" : r->outcome == 1 ? "deadlocked" : "failed",
		    r->moved, r->tickets, r->resumed == 1 ? "yes" : "no", reset);
		if ((r->outcome == 1) != expect || r->outcome < 0)
			ok = 0;
		if (policies[i].policy == TLS_TICKETS_DEFERRED &&
		    (r->reset_got != RESET_REQUEST || strcmp(r->reset_end, "close_notify") != 0))
			ok = 0;
		tls_free(listener);
		tls_config_free(scfg);
		tls_config_free(ccfg);
	}
	printf("\nA deadlock is reported by a watchdog (%d polls in a row with nothing ready), "
	    "never a hang:\nunder IMMEDIATE the server's handshake waits to send tickets the "
	    "client will not read\nuntil it has written its request, which the server will not "
	    "read until its handshake is done.\n", IDLE_ROUNDS);
	if (ok)
		printf("deadlock-demo: every outcome as expected (IMMEDIATE deadlocks; DEFERRED, "
		    "OPPORTUNISTIC and NONE complete)\n");
	else
		printf("deadlock-demo: UNEXPECTED outcome (see the table)\n");
	return ok ? 0 : 1;
}
#endif
