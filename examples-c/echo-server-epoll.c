/*
 * echo-server-epoll: an edge-triggered epoll(7) TLS echo server for many thousands of
 * concurrent connections.
 *
 *   echo-server-epoll -c cert -k key [-a alpn-list] [-p 1.2|1.3]
 *                     [-t deferred|opportunistic|immediate|none] [-m max-connections]
 *                     [-s session-cache-size] [-q] port
 *
 * -s sets the number of TLS 1.2 sessions the server remembers for resumption by session
 * id (tls_config_set_session_cache_size; default 1024, 0 for none).
 *
 * Listens on 127.0.0.1:port (port 0 picks a free one), prints "nofile limit N" and
 * "listening on PORT" on stdout, flushed, and echoes every byte each client sends until
 * the client ends the stream, then closes with close_notify.  Runs until SIGINT/SIGTERM,
 * then prints "served N connections, peak M open, F failed" and exits (1 if any failed).
 *
 * On SIGUSR1 it prints a line of accounting, flushed:
 *
 *   stats: accepted A, open O, closed C, failed F, peak P, live allocations L
 *
 * (A = O + C; F of the C closed ones failed).  "live allocations" is the number of heap
 * blocks the process holds, when a counter that exports soak_live_allocations() is
 * preloaded (tests/soak/alloc-count.so, used by `make soak`), and "n/a" otherwise.
 * Signals are blocked except inside epoll_pwait, so none is lost between a check and
 * the wait.
 *
 * Edge-triggered rules, which this program follows and a C10K server must copy:
 *  - each fd is registered once, for EPOLLIN|EPOLLOUT|EPOLLET: an event only says
 *    "something changed", so every wakeup runs the connection until nbtls says WANT;
 *  - only a WANT code (the socket said EAGAIN) may send a connection back to epoll_wait:
 *    nothing else guarantees another edge;
 *  - plaintext nbtls already decrypted (tls_pending_read() > 0) raises no edge at all.  A
 *    connection that stops reading for its own reasons (here: a fairness budget of
 *    BUDGET bytes per wakeup, so one fast client cannot starve thousands) goes on a ready
 *    list and is run again before the next epoll_wait, which then does not block.
 *
 * RLIMIT_NOFILE is raised to its hard limit at start; -m caps the open connections (the
 * default follows the limit).  Memory per connection: one nbtls context plus a 4 KiB echo
 * buffer.
 */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "echo-server-epoll"
#include "tlsapi.h"
#include "util.h"

#ifdef USE_LIBTLS
int
main(void)
{
	puts(PROG " relies on nbtls's tls_pending_read(): build it against nbtls");
	return 0;
}
#else

#define ECHO_BUF 4096
#define BUDGET (64 * 1024)	/* plaintext echoed per connection per wakeup */
#define MAX_EVENTS 256

enum state { ST_HANDSHAKE, ST_READ, ST_WRITE, ST_CLOSE, ST_DONE };

struct conn {
	int fd;
	struct tls *tls;
	enum state st;
	int on_ready;		/* queued on the ready list */
	struct conn *next_ready;
	size_t len, off;
	char buf[ECHO_BUF];
};

static volatile sig_atomic_t stop, report;
static int quiet;
static long accepted, open_conns, peak_conns, closed, failed, pending_requeues;
static long long (*live_allocations)(void);	/* a preloaded heap counter, if any */
static struct conn *ready_head, *ready_tail;

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		report = 1;
	else
		stop = 1;
}

static void
print_stats(void)
{
	printf("stats: accepted %ld, open %ld, closed %ld, failed %ld, peak %ld, "
	    "live allocations ", accepted, open_conns, closed, failed, peak_conns);
	if (live_allocations != NULL)
		printf("%lld\n", live_allocations());
	else
		printf("n/a\n");
	fflush(stdout);
}

static void
usage(void)
{
	fprintf(stderr, "usage: " PROG " -c cert -k key [-a alpn-list] [-p 1.2|1.3]\n"
	    "       [-t deferred|opportunistic|immediate|none] [-m max-connections]\n"
	    "       [-s session-cache-size] [-q] port\n");
	exit(1);
}

static void
make_ready(struct conn *c)
{
	if (c->on_ready)
		return;
	c->on_ready = 1;
	c->next_ready = NULL;
	if (ready_tail != NULL)
		ready_tail->next_ready = c;
	else
		ready_head = c;
	ready_tail = c;
}

static void
conn_fail(struct conn *c, const char *what)
{
	if (!quiet)
		fprintf(stderr, PROG ": fd %d: %s failed: %s\n", c->fd, what,
		    tls_error(c->tls) != NULL ? tls_error(c->tls) : "unknown error");
	failed++;
	c->st = ST_DONE;
}

/*
 * Runs a connection until nbtls says WANT (then the fd's next edge brings it back) or it
 * spent its budget (then it goes on the ready list).
 */
static void
step(struct conn *c)
{
	size_t spent = 0;
	ssize_t n;
	int rv;

	for (;;) {
		switch (c->st) {
		case ST_HANDSHAKE:
			rv = tls_handshake(c->tls);
			if (is_want(rv))
				return;
			if (rv == -1) {
				conn_fail(c, "handshake");
				return;
			}
			c->st = ST_READ;
			break;

		case ST_READ:
			if (spent >= BUDGET) {
				/*
				 * Stopping before a WANT: plaintext nbtls already decrypted
				 * (tls_pending_read() > 0) raises no new edge, and neither do
				 * bytes still in the kernel.  Run again before epoll_wait sleeps.
				 */
				if (tls_pending_read(c->tls) > 0)
					pending_requeues++;
				make_ready(c);
				return;
			}
			n = tls_read(c->tls, c->buf, sizeof(c->buf));
			if (is_want(n))
				return;	/* the socket said EAGAIN: an edge will come */
			if (n == -1) {
				conn_fail(c, "tls_read");
				return;
			}
			if (n == 0) {	/* the client ended the stream */
				c->st = ST_CLOSE;
				break;
			}
			c->len = (size_t)n;
			c->off = 0;
			spent += (size_t)n;
			c->st = ST_WRITE;
			break;

		case ST_WRITE:
			n = tls_write(c->tls, c->buf + c->off, c->len - c->off);
			if (is_want(n))
				return;	/* EPOLLOUT's edge brings us back; same bytes again */
			if (n == -1) {
				conn_fail(c, "tls_write");
				return;
			}
			c->off += (size_t)n;
			/*
			 * Once the chunk is out, back to tls_read at once, never to epoll_wait:
			 * nbtls may hold more decrypted plaintext (tls_pending_read() > 0) from
			 * the records it already read, and that raises no edge.
			 */
			if (c->off == c->len)
				c->st = ST_READ;
			break;

		case ST_CLOSE:
			rv = tls_close(c->tls);
			if (is_want(rv))
				return;
			/* -1 here is a client that already went away: not worth reporting. */
			c->st = ST_DONE;
			return;

		case ST_DONE:
			return;
		}
	}
}

static void
conn_free(struct conn *c)
{
	tls_free(c->tls);
	close(c->fd);	/* also removes it from the epoll set */
	free(c);
	open_conns--;
	closed++;
}

int
main(int argc, char *argv[])
{
	const char *cert = NULL, *key = NULL, *alpn = NULL, *policy = NULL;
	uint32_t protocols = 0;
	struct tls_config *cfg;
	struct tls *server;
	struct epoll_event ev, events[MAX_EVENTS];
	struct sigaction sa;
	sigset_t blocked, waitmask;
	long max_conns = 0, cache_size = -1, nofile;
	int lfd, epfd, ch, i, n;

	while ((ch = getopt(argc, argv, "c:k:a:p:t:m:s:qh")) != -1) {
		switch (ch) {
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'a': alpn = optarg; break;
		case 't': policy = optarg; break;
		case 'q': quiet = 1; break;
		case 'm':
			max_conns = strtol(optarg, NULL, 10);
			if (max_conns <= 0)
				usage();
			break;
		case 's':
			if ((cache_size = parse_count(optarg)) == -1)
				usage();
			break;
		case 'p':
			if ((protocols = parse_protocol(optarg)) == 0)
				usage();
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1 || cert == NULL || key == NULL)
		usage();

	nofile = raise_nofile();
	if (max_conns == 0 || max_conns > nofile - 16)
		max_conns = nofile - 16;	/* stdio, the listener, epoll, cert files */
	printf("nofile limit %ld\n", nofile);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);	/* nbtls uses MSG_NOSIGNAL; belt and braces */
	/* Delivered only inside epoll_pwait: a flag set just before the wait still wakes it. */
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGINT);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGUSR1);
	sigprocmask(SIG_BLOCK, &blocked, &waitmask);
	*(void **)&live_allocations = dlsym(RTLD_DEFAULT, "soak_live_allocations");

	cfg = config_new();
	config_server(cfg, cert, key, alpn, protocols);
	if (policy != NULL && config_ticket_policy(cfg, policy) == -1)
		usage();
	if (cache_size >= 0 && tls_config_set_session_cache_size(cfg, (size_t)cache_size) == -1)
		die("session cache", tls_config_error(cfg));
	if ((server = tls_server()) == NULL)
		die("tls_server", "failed");
	if (tls_configure(server, cfg) == -1)
		die("tls_configure", tls_error(server));

	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1", strerror(errno));
	if ((lfd = listen_loopback(argv[0], 4096)) == -1)
		usage();
	ev.events = EPOLLIN;	/* level-triggered: accept() until EAGAIN anyway */
	ev.data.ptr = NULL;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) == -1)
		die("epoll_ctl", strerror(errno));

	while (!stop) {
		/* Never sleep while a connection is runnable without an edge. */
		n = epoll_pwait(epfd, events, MAX_EVENTS, ready_head != NULL ? 0 : -1, &waitmask);
		if (report) {
			report = 0;
			print_stats();
		}
		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_pwait", strerror(errno));
		}
		for (i = 0; i < n; i++) {
			struct conn *c = events[i].data.ptr;

			if (c == NULL) {	/* the listener */
				while (open_conns < max_conns) {
					struct tls *cctx = NULL;
					int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					if (fd == -1) {
						if (errno != EAGAIN && errno != EWOULDBLOCK &&
						    errno != EINTR && errno != ECONNABORTED && !quiet)
							fprintf(stderr, PROG ": accept: %s\n", strerror(errno));
						break;
					}
					accepted++;
					if (tls_accept_socket(server, &cctx, fd) == -1 ||
					    (c = calloc(1, sizeof(*c))) == NULL) {
						fprintf(stderr, PROG ": accept: %s\n", tls_error(server));
						tls_free(cctx);
						close(fd);
						failed++;
						closed++;
						continue;
					}
					c->fd = fd;
					c->tls = cctx;
					c->st = ST_HANDSHAKE;
					ev.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
					ev.data.ptr = c;
					if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
						die("epoll_ctl", strerror(errno));
					if (++open_conns > peak_conns)
						peak_conns = open_conns;
					/* The edge for data already queued may predate the ADD. */
					make_ready(c);
				}
				continue;
			}
			if (c->on_ready)
				continue;	/* runs from the ready list below */
			step(c);
			if (c->st == ST_DONE)
				conn_free(c);
		}
		/* Run the ready list once; connections that spend their budget again requeue. */
		{
			struct conn *c = ready_head, *end = ready_tail;
			ready_head = ready_tail = NULL;
			while (c != NULL) {
				struct conn *next = c->next_ready;
				int last = c == end;
				c->on_ready = 0;
				step(c);
				if (c->st == ST_DONE)
					conn_free(c);
				if (last)
					break;
				c = next;
			}
		}
	}

	printf("served %ld connections, peak %ld open, %ld failed, %ld requeued with plaintext "
	    "pending\n", closed, peak_conns, failed, pending_requeues);
	fflush(stdout);
	close(epfd);
	close(lfd);
	tls_free(server);
	tls_config_free(cfg);
	return failed != 0 ? 1 : 0;
}
#endif
