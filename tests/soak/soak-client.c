/*
 * soak-client: keeps thousands of TLS connections busy against an echo server
 * (examples-c/echo-server-epoll) for a bounded time, each doing something chosen at
 * random, and accounts for every one.  Used by tests/soak/soak.py (`make soak`).
 *
 *   soak-client -C cafile [-n servername] [-c concurrent] [-d seconds] [-b max-bytes]
 *               [-s seed] host port
 *
 * Until -d seconds (default 10) have passed it opens connections so that -c (default
 * 2000) are open at once, then lets the open ones finish.  Each connection is one of:
 *
 *   full             handshake (TLS 1.2, 1.3, or either with a session cache so some
 *                    resume), echo a random number of bytes (0 to -b, default 256 KiB) in
 *                    random chunks with random pauses and random read sizes, verify every
 *                    byte, close with close_notify;
 *   close-early      the same, but at a random point tls_close and close(2) the socket;
 *   reset-data       the same, but at a random point reset the connection (SO_LINGER 0);
 *   fin-early        the same, but at a random point close(2) without close_notify;
 *   reset-handshake  reset right after the TCP connect or after sending the ClientHello;
 *   garbage          send random bytes that are not (or only look like) TLS, wait, close;
 *   silent           connect, send nothing for a while, close.
 *
 * Anything a "full" connection does not complete, any failure before a connection's
 * planned end, and any echoed byte that differs is "unexpected".  At the end it prints
 *
 *   soak-client: seed S: connected N (full F, close-early E, reset-data R, fin-early G,
 *   reset-handshake H, garbage J, silent Q), V bytes verified, peak P open, unexpected U
 *
 * on one line and exits 0 only when U is 0 and every connection ended.  N counts TCP
 * connections that were established, which is what the server must have accepted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "soak-client"
#include "tlsapi.h"
#include "util.h"

#define CHUNK 16384
#define MAX_PAUSE_MS 1500

enum kind { K_FULL, K_CLOSE_EARLY, K_RESET_DATA, K_FIN_EARLY, K_RESET_HS, K_GARBAGE,
	K_SILENT, NKINDS };
static const char *const kind_names[NKINDS] = { "full", "close-early", "reset-data",
	"fin-early", "reset-handshake", "garbage", "silent" };
static const int kind_weights[NKINDS] = { 55, 10, 10, 7, 8, 5, 5 };	/* percent */

enum state { S_FREE, S_CONNECTING, S_HANDSHAKE, S_ECHO, S_PAUSE, S_CLOSING, S_LINGER };

struct conn {
	unsigned long id;
	int fd, heap_idx;
	struct tls *tls;
	enum kind kind;
	enum state st, after_pause;
	uint32_t registered;	/* the events asked for; 0: not in the epoll set */
	size_t total, sent, received, chunk_end, abort_at;
	long long wake;
};

static struct tls_config *cfgs[3];
static const char *servername = "localhost";
static struct sockaddr_in addr;
static size_t max_bytes = 256 * 1024;
static int epfd;
static uint64_t rng;
static long live, peak, connected, unexpected, ended[NKINDS];
static unsigned long long verified;

/* The timer heap: connections in S_PAUSE or S_LINGER, earliest wake first. */
static struct conn **heap;
static size_t heap_len;

static void
usage(void)
{
	fprintf(stderr, "usage: " PROG " -C cafile [-n servername] [-c concurrent] [-d seconds]"
	    " [-b max-bytes] [-s seed] host port\n");
	exit(1);
}

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Uniform in [0, n). */
static size_t
below(size_t n)
{
	return n == 0 ? 0 : (size_t)(rnd() % n);
}

/* Byte i of connection id's payload. */
static unsigned char
pattern(unsigned long id, size_t i)
{
	return (unsigned char)(id * 131u + i * 7u + (i >> 8) * 13u);
}

static void
heap_swap(size_t a, size_t b)
{
	struct conn *t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
	heap[a]->heap_idx = (int)a;
	heap[b]->heap_idx = (int)b;
}

static void
heap_push(struct conn *c)
{
	size_t i = heap_len++;

	heap[i] = c;
	c->heap_idx = (int)i;
	while (i > 0 && heap[(i - 1) / 2]->wake > heap[i]->wake) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static struct conn *
heap_pop(void)
{
	struct conn *top = heap[0];
	size_t i = 0;

	heap_swap(0, --heap_len);
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < heap_len && heap[l]->wake < heap[m]->wake)
			m = l;
		if (r < heap_len && heap[r]->wake < heap[m]->wake)
			m = r;
		if (m == i)
			break;
		heap_swap(i, m);
		i = m;
	}
	top->heap_idx = -1;
	return top;
}

/*
 * What the connection waits for.  0 takes it out of the epoll set altogether: epoll
 * reports EPOLLHUP and EPOLLERR even for an empty mask, and a paused connection whose
 * server has gone must not spin the loop.
 */
static void
set_events(struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };
	int op = events == 0 ? EPOLL_CTL_DEL : c->registered == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;

	if (events == c->registered)
		return;
	if (epoll_ctl(epfd, op, c->fd, &ev) == -1)
		die("epoll_ctl", strerror(errno));
	c->registered = events;
}

static uint32_t
want_epoll(ssize_t rv)
{
	return rv == TLS_WANT_POLLIN ? EPOLLIN : rv == TLS_WANT_POLLOUT ? EPOLLOUT : 0;
}

/* The connection is over: free everything, count it. */
static void
finish(struct conn *c, int reset)
{
	if (reset) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	tls_free(c->tls);	/* in any state */
	close(c->fd);
	c->tls = NULL;
	c->st = S_FREE;
	ended[c->kind]++;
	live--;
}

static void
fail(struct conn *c, const char *what, const char *msg)
{
	fprintf(stderr, PROG ": conn %lu (%s, %zu/%zu bytes): %s: %s\n", c->id,
	    kind_names[c->kind], c->received, c->total, what, msg != NULL ? msg : "failed");
	unexpected++;
	finish(c, 0);
}

static void
pause_for(struct conn *c, long long ms, enum state next)
{
	set_events(c, 0);
	c->st = S_PAUSE;
	c->after_pause = next;
	c->wake = now_ms() + ms;
	heap_push(c);
}

static void
start(unsigned long id, struct conn *c)
{
	size_t w = below(100), k;

	memset(c, 0, sizeof(*c));
	c->id = id;
	c->heap_idx = -1;
	for (k = 0; k < NKINDS - 1 && w >= (size_t)kind_weights[k]; k++)
		w -= (size_t)kind_weights[k];
	c->kind = (enum kind)k;
	/* A fifth send nothing; the rest a log-uniform size up to max_bytes. */
	if (below(5) != 0) {
		size_t bits = 1 + below(64 - (size_t)__builtin_clzll(max_bytes));
		c->total = 1 + below(((size_t)1 << bits) < max_bytes ? (size_t)1 << bits : max_bytes);
	}
	c->abort_at = below(c->total + 1);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1)
		die("socket", strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) == -1 && errno != EINPROGRESS)
		die("connect", strerror(errno));
	c->st = S_CONNECTING;
	set_events(c, EPOLLOUT);
	if (++live > peak)
		peak = live;
}

/* Connection kinds that end early do it here, once sent reaches abort_at. */
static int
maybe_abort(struct conn *c)
{
	if (c->sent < c->abort_at)
		return 0;
	switch (c->kind) {
	case K_CLOSE_EARLY:
		(void)tls_close(c->tls);	/* one try: its close_notify, if it fits */
		finish(c, 0);
		return 1;
	case K_RESET_DATA:
		finish(c, 1);
		return 1;
	case K_FIN_EARLY:
		finish(c, 0);
		return 1;
	default:
		return 0;
	}
}

static void
echo(struct conn *c)
{
	unsigned char buf[CHUNK];
	uint32_t wr = 0, rd = 0;
	ssize_t n;

	for (;;) {
		if (maybe_abort(c))
			return;
		if (c->sent == c->chunk_end && c->received == c->sent) {
			if (c->sent == c->total) {
				c->st = S_CLOSING;
				return;
			}
			c->chunk_end = c->sent + 1 + below(c->total - c->sent);
			if (below(3) == 0) {
				pause_for(c, (long long)below(MAX_PAUSE_MS), S_ECHO);
				return;
			}
		}
		wr = 0;
		while (c->sent < c->chunk_end) {
			size_t len = c->chunk_end - c->sent, i;
			if (len > CHUNK)
				len = CHUNK;
			for (i = 0; i < len; i++)
				buf[i] = pattern(c->id, c->sent + i);
			n = tls_write(c->tls, buf, len);	/* after WANT: the same bytes again */
			if ((wr = want_epoll(n)) != 0)
				break;
			if (n == -1) {
				fail(c, "tls_write", tls_error(c->tls));
				return;
			}
			c->sent += (size_t)n;
			if (maybe_abort(c))
				return;
		}
		rd = 0;
		while (c->received < c->sent) {
			size_t want = 1 + below(sizeof(buf)), i;
			n = tls_read(c->tls, buf, want);
			if ((rd = want_epoll(n)) != 0)
				break;
			if (n == -1) {
				fail(c, "tls_read", tls_error(c->tls));
				return;
			}
			if (n == 0) {
				fail(c, "tls_read", "the server ended the stream early");
				return;
			}
			if (c->received + (size_t)n > c->sent) {
				fail(c, "echo", "more bytes came back than were sent");
				return;
			}
			for (i = 0; i < (size_t)n; i++)
				if (buf[i] != pattern(c->id, c->received + i)) {
					fail(c, "echo", "a byte differs");
					return;
				}
			c->received += (size_t)n;
			verified += (size_t)n;
		}
		if (wr != 0 || rd != 0) {
			set_events(c, wr | rd);
			return;
		}
	}
}

static void
step(struct conn *c)
{
	int rv;

	switch (c->st) {
	case S_CONNECTING: {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
			fail(c, "connect", strerror(err != 0 ? err : errno));
			return;
		}
		connected++;
		if (c->kind == K_RESET_HS && below(2) == 0) {
			finish(c, 1);
			return;
		}
		if (c->kind == K_GARBAGE) {
			unsigned char junk[600];
			size_t len = 1 + below(sizeof(junk)), i;
			for (i = 0; i < len; i++)
				junk[i] = (unsigned char)rnd();
			if (below(2) == 0 && len >= 5) {	/* a plausible handshake header */
				junk[0] = 0x16;
				junk[1] = 0x03;
				junk[2] = (unsigned char)below(5);
			}
			(void)send(c->fd, junk, len, MSG_NOSIGNAL);
			pause_for(c, (long long)below(MAX_PAUSE_MS), S_LINGER);
			return;
		}
		if (c->kind == K_SILENT) {
			pause_for(c, (long long)below(MAX_PAUSE_MS), S_LINGER);
			return;
		}
		if ((c->tls = tls_client()) == NULL ||
		    tls_configure(c->tls, cfgs[below(3)]) == -1 ||
		    tls_connect_socket(c->tls, c->fd, servername) == -1)
			die("tls client", tls_error(c->tls));
		c->st = S_HANDSHAKE;
	}
	/* FALLTHROUGH */
	case S_HANDSHAKE:
		rv = tls_handshake(c->tls);
		if (want_epoll(rv) != 0) {
			if (c->kind == K_RESET_HS) {	/* the ClientHello went out */
				finish(c, 1);
				return;
			}
			set_events(c, want_epoll(rv));
			return;
		}
		if (rv == -1) {
			fail(c, "handshake", tls_error(c->tls));
			return;
		}
		c->st = S_ECHO;
	/* FALLTHROUGH */
	case S_ECHO:
		echo(c);
		if (c->st != S_CLOSING)
			return;
	/* FALLTHROUGH */
	case S_CLOSING:
		rv = tls_close(c->tls);
		if (want_epoll(rv) != 0) {
			set_events(c, want_epoll(rv));
			return;
		}
		if (rv == -1) {
			fail(c, "tls_close", tls_error(c->tls));
			return;
		}
		finish(c, 0);
		return;
	case S_LINGER:
		finish(c, 0);
		return;
	default:
		return;
	}
}

int
main(int argc, char *argv[])
{
	const char *cafile = NULL;
	long concurrent = 2000, seconds = 10, i;
	unsigned long next_id = 0;
	struct conn *conns, **free_list;
	size_t nfree;
	long long end, deadline;
	unsigned long long seed;
	int ch;

	rng = (uint64_t)now_ms() ^ ((uint64_t)getpid() << 32);
	while ((ch = getopt(argc, argv, "C:n:c:d:b:s:h")) != -1) {
		switch (ch) {
		case 'C': cafile = optarg; break;
		case 'n': servername = optarg; break;
		case 'c': concurrent = parse_count(optarg); break;
		case 'd': seconds = parse_count(optarg); break;
		case 'b': max_bytes = (size_t)parse_count(optarg); break;
		case 's': rng = (uint64_t)strtoull(optarg, NULL, 10); break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 || cafile == NULL || concurrent <= 0 || seconds < 0 ||
	    max_bytes == 0 || max_bytes == (size_t)-1)
		usage();
	if (rng == 0)
		rng = 1;
	seed = (unsigned long long)rng;
	printf(PROG ": seed %llu\n", seed);
	fflush(stdout);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(argv[1]));
	if (inet_pton(AF_INET, argv[0], &addr.sin_addr) != 1)
		die(argv[0], "not a numeric IPv4 address");
	if (concurrent + 16 > raise_nofile())
		die("RLIMIT_NOFILE", "too low for that many connections");

	for (i = 0; i < 3; i++) {
		cfgs[i] = config_new();
		config_client(cfgs[i], cafile, NULL,
		    i == 0 ? TLS_PROTOCOL_TLSv1_3 : i == 1 ? TLS_PROTOCOL_TLSv1_2 : 0, 0);
	}
	if (tls_config_set_session_cache_size(cfgs[2], 256) == -1)
		die("session cache", tls_config_error(cfgs[2]));
	conns = calloc((size_t)concurrent, sizeof(*conns));
	free_list = calloc((size_t)concurrent, sizeof(*free_list));
	heap = calloc((size_t)concurrent, sizeof(*heap));
	if (conns == NULL || free_list == NULL || heap == NULL)
		die("calloc", strerror(errno));
	for (nfree = 0; nfree < (size_t)concurrent; nfree++)
		free_list[nfree] = &conns[concurrent - 1 - (long)nfree];
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1", strerror(errno));

	end = now_ms() + seconds * 1000;
	deadline = end + 60 * 1000;
	for (;;) {
		struct epoll_event evs[256];
		long long now = now_ms(), timeout;
		int n, k, started = 0;

		/* Open more, a bounded number per turn so the listen queue keeps up. */
		while (now < end && nfree > 0 && started++ < 64)
			start(next_id++, free_list[--nfree]);
		if (now >= end && live == 0)
			break;
		if (now >= deadline) {
			fprintf(stderr, PROG ": %ld connections still open a minute after the end\n",
			    live);
			unexpected++;
			break;
		}
		timeout = now < end && nfree > 0 ? 0 : 100;
		if (heap_len > 0 && heap[0]->wake - now < timeout)
			timeout = heap[0]->wake > now ? heap[0]->wake - now : 0;
		n = epoll_wait(epfd, evs, 256, (int)timeout);
		if (n == -1 && errno != EINTR)
			die("epoll_wait", strerror(errno));
		for (k = 0; k < n; k++) {
			struct conn *c = evs[k].data.ptr;
			if (c->st == S_FREE || c->st == S_PAUSE)
				continue;	/* ended (or paused) earlier in this batch */
			step(c);
			if (c->st == S_FREE)
				free_list[nfree++] = c;
		}
		now = now_ms();
		while (heap_len > 0 && heap[0]->wake <= now) {
			struct conn *c = heap_pop();
			c->st = c->after_pause;
			step(c);
			if (c->st == S_FREE)
				free_list[nfree++] = c;
		}
	}

	printf(PROG ": seed %llu: connected %ld (", seed, connected);
	for (i = 0; i < NKINDS; i++)
		printf("%s%s %ld", i > 0 ? ", " : "", kind_names[i], ended[i]);
	printf("), %llu bytes verified, peak %ld open, unexpected %ld\n", verified, peak,
	    unexpected);
	fflush(stdout);
	for (i = 0; i < 3; i++)
		tls_config_free(cfgs[i]);
	free(heap);
	free(free_list);
	free(conns);
	close(epfd);
	return unexpected == 0 && live == 0 ? 0 : 1;
}
