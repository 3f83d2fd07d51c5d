/*
 * load-client: opens many concurrent TLS connections to an echo server, checks every
 * echoed byte, and holds them all open at once.
 *
 *   load-client [-C cafile] [-n servername] [-c connections] [-b bytes] [-P parallel]
 *               [-t timeout-s] [-w] host port
 *
 * Opens -c connections (default 2000) to host:port (a numeric IPv4 address), at most -P
 * (default 128) connecting or handshaking at a time, all driven by one level-triggered
 * epoll loop whose interest for each connection comes from its last WANT codes.  Each
 * connection sends -b bytes (default 1024) of a pattern unique to it while reading the
 * echo back, compares every byte, and then stays open.  When all are open and verified
 * it prints
 *
 *   holding N connections, M echoed bytes verified
 *
 * on stdout (flushed); with -w it then waits for a line (or EOF) on stdin, so a test can
 * measure the server at its peak.  Then it closes every connection with tls_close and
 * prints "closed N connections".  The server name (SNI and verification) is -n, default
 * "localhost"; -C is the CA file.  -t bounds the whole run (default 60 s).
 *
 * Exit status 0 only when every connection completed its echo intact.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "load-client"
#include "tlsapi.h"
#include "util.h"

#define CHUNK 16384

enum state { ST_IDLE, ST_CONNECTING, ST_HANDSHAKE, ST_ECHO, ST_HELD, ST_FAILED };

struct conn {
	int id, fd;
	struct tls *tls;
	enum state st;
	uint32_t wr_events, rd_events;	/* what the last write / read WANT asked for */
	uint32_t registered;		/* events currently in the epoll set */
	size_t sent, received;
};

static struct tls_config *cfg;
static const char *servername = "localhost";
static struct sockaddr_in addr;
static size_t nbytes = 1024;
static int epfd;
static long active, held, failures;
static unsigned long long verified;

static void
usage(void)
{
	fprintf(stderr, "usage: " PROG " [-C cafile] [-n servername] [-c connections] [-b bytes]"
	    " [-P parallel]\n                   [-t timeout-s] [-w] host port\n");
	exit(1);
}

/* Byte i of connection id's payload. */
static unsigned char
pattern(int id, size_t i)
{
	return (unsigned char)(id * 131u + i * 7u + (i >> 8) * 13u);
}

/* The epoll events a WANT code asks for, or 0 when rv is not one. */
static uint32_t
want_epoll(ssize_t rv)
{
	return rv == TLS_WANT_POLLIN ? EPOLLIN : rv == TLS_WANT_POLLOUT ? EPOLLOUT : 0;
}

static void
set_events(struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (events == c->registered)
		return;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		die("epoll_ctl", strerror(errno));
	c->registered = events;
}

static void
conn_fail(struct conn *c, const char *what, const char *msg)
{
	fprintf(stderr, PROG ": conn %d: %s: %s\n", c->id, what, msg != NULL ? msg : "failed");
	c->st = ST_FAILED;
	failures++;
	active--;
	set_events(c, 0);
}

static void
start(struct conn *c)
{
	struct epoll_event ev;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		die("socket", strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) == -1 && errno != EINPROGRESS)
		die("connect", strerror(errno));
	c->st = ST_CONNECTING;
	ev.events = c->registered = EPOLLOUT;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) == -1)
		die("epoll_ctl", strerror(errno));
	active++;
}

static void
step(struct conn *c)
{
	unsigned char buf[CHUNK];
	ssize_t n;
	int rv;

	switch (c->st) {
	case ST_CONNECTING: {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
			conn_fail(c, "connect", strerror(err != 0 ? err : errno));
			return;
		}
		if ((c->tls = tls_client()) == NULL || tls_configure(c->tls, cfg) == -1 ||
		    tls_connect_socket(c->tls, c->fd, servername) == -1)
			die("tls client", tls_error(c->tls));
		c->st = ST_HANDSHAKE;
	}
	/* FALLTHROUGH */
	case ST_HANDSHAKE:
		rv = tls_handshake(c->tls);
		if (want_epoll(rv) != 0) {
			set_events(c, want_epoll(rv));
			return;
		}
		if (rv == -1) {
			conn_fail(c, "handshake", tls_error(c->tls));
			return;
		}
		c->st = ST_ECHO;
		c->wr_events = c->rd_events = 0;
	/* FALLTHROUGH */
	case ST_ECHO:
		/* Write and read in turn, so a large payload cannot deadlock on full buffers. */
		while (c->sent < nbytes) {
			size_t len = nbytes - c->sent < CHUNK ? nbytes - c->sent : CHUNK, i;
			for (i = 0; i < len; i++)
				buf[i] = pattern(c->id, c->sent + i);
			n = tls_write(c->tls, buf, len);	/* after WANT: the same bytes again */
			if ((c->wr_events = want_epoll(n)) != 0)
				break;
			if (n == -1) {
				conn_fail(c, "tls_write", tls_error(c->tls));
				return;
			}
			c->sent += (size_t)n;
		}
		if (c->sent == nbytes)
			c->wr_events = 0;
		for (;;) {
			size_t i;
			n = tls_read(c->tls, buf, sizeof(buf));
			if ((c->rd_events = want_epoll(n)) != 0)
				break;
			if (n == -1) {
				conn_fail(c, "tls_read", tls_error(c->tls));
				return;
			}
			if (n == 0) {
				conn_fail(c, "tls_read", "the server ended the stream early");
				return;
			}
			if (c->received + (size_t)n > nbytes) {
				conn_fail(c, "echo", "more bytes came back than were sent");
				return;
			}
			for (i = 0; i < (size_t)n; i++)
				if (buf[i] != pattern(c->id, c->received + i)) {
					char msg[96];
					snprintf(msg, sizeof(msg), "byte %zu differs", c->received + i);
					conn_fail(c, "echo", msg);
					return;
				}
			c->received += (size_t)n;
			verified += (size_t)n;
			if (c->received == nbytes)
				break;
		}
		if (c->received == nbytes) {
			c->st = ST_HELD;
			active--;
			held++;
			set_events(c, 0);
			return;
		}
		set_events(c, c->wr_events | c->rd_events);
		return;
	default:
		return;
	}
}

/* Closes one connection, waiting (briefly) if tls_close asks to. */
static void
finish(struct conn *c)
{
	int rv, tries = 0;

	if (c->tls != NULL) {
		while (is_want(rv = tls_close(c->tls))) {
			struct pollfd p = { .fd = c->fd, .events = want_events(rv) };
			if (++tries > 10 || poll(&p, 1, 100) <= 0)
				break;
		}
		tls_free(c->tls);
	}
	if (c->fd != -1)
		close(c->fd);
}

int
main(int argc, char *argv[])
{
	const char *cafile = NULL;
	long nconns = 2000, parallel = 128, timeout_s = 60, next = 0, i;
	int waitline = 0, ch;
	struct conn *conns;
	long long t0, deadline, t_held;

	while ((ch = getopt(argc, argv, "C:n:c:b:P:t:wh")) != -1) {
		switch (ch) {
		case 'C': cafile = optarg; break;
		case 'n': servername = optarg; break;
		case 'c': nconns = strtol(optarg, NULL, 10); break;
		case 'b': nbytes = (size_t)strtoul(optarg, NULL, 10); break;
		case 'P': parallel = strtol(optarg, NULL, 10); break;
		case 't': timeout_s = strtol(optarg, NULL, 10); break;
		case 'w': waitline = 1; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 || nconns <= 0 || parallel <= 0 || timeout_s <= 0 || nbytes == 0)
		usage();
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(argv[1]));
	if (inet_pton(AF_INET, argv[0], &addr.sin_addr) != 1)
		die(argv[0], "not a numeric IPv4 address");

	if (nconns + 16 > raise_nofile())
		die("RLIMIT_NOFILE", "too low for that many connections");

	cfg = config_new();
	config_client(cfg, cafile, NULL, 0, 0);
	if ((conns = calloc((size_t)nconns, sizeof(*conns))) == NULL)
		die("calloc", strerror(errno));
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1", strerror(errno));

	t0 = now_ms();
	deadline = t0 + timeout_s * 1000;
	while (held + failures < nconns) {
		struct epoll_event evs[256];
		int n, k;

		while (next < nconns && active < parallel) {
			conns[next].id = (int)next;
			conns[next].fd = -1;
			start(&conns[next]);
			next++;
		}
		if (now_ms() >= deadline) {
			fprintf(stderr, PROG ": timed out: %ld held, %ld in progress, %ld failed\n",
			    held, active, failures);
			return 1;
		}
		n = epoll_wait(epfd, evs, 256, 1000);
		if (n == -1 && errno != EINTR)
			die("epoll_wait", strerror(errno));
		for (k = 0; k < n; k++)
			step(evs[k].data.ptr);
	}
	t_held = now_ms();
	printf("holding %ld connections, %llu echoed bytes verified, %ld failed (%.1f s)\n",
	    held, verified, failures, (double)(t_held - t0) / 1000.0);
	fflush(stdout);
	if (waitline) {
		char line[64];
		if (fgets(line, sizeof(line), stdin) == NULL && ferror(stdin))
			die("stdin", strerror(errno));
	}
	for (i = 0; i < nconns; i++)
		finish(&conns[i]);
	printf("closed %ld connections\n", nconns);
	fflush(stdout);
	free(conns);
	close(epfd);
	tls_config_free(cfg);
	return failures == 0 && held == nconns ? 0 : 1;
}
