/*
 * https-server-select: a select(2) HTTP/1.1 server that serves files from a directory.
 *
 *   https-server-select -c cert -k key [-a alpn-list] [-p 1.2|1.3]
 *                       [-t deferred|opportunistic|immediate|none] [-n max-connections]
 *                       [-q] docroot port
 *
 * Listens on 127.0.0.1:port (port 0 picks a free one) and prints "listening on PORT" on
 * stdout, flushed, once it accepts connections.  Every connection is a small state
 * machine driven by the WANT codes: TLS_WANT_POLLIN puts its fd in select()'s read set,
 * TLS_WANT_POLLOUT in its write set, and each step calls into the TLS library until it
 * says WANT, so decrypted plaintext is never left waiting for readiness that will not
 * come.
 *
 * HTTP: GET and HEAD; persistent connections (HTTP/1.1 keeps the connection unless the
 * client says "Connection: close", HTTP/1.0 closes it unless it says "keep-alive");
 * pipelined requests are answered in order; every response carries Content-Length.
 * "/" and paths ending in "/" serve index.html.  A path is percent-decoded, any ".."
 * segment is refused (400), and the resolved file (symlinks followed) must lie inside
 * docroot, else 404; so are missing files and anything but a regular file.  Request
 * bodies are not accepted (a request with one gets 400 and the connection is closed).
 * Idle connections are closed after 30 seconds.
 *
 * TLS: -c/-k the certificate chain and key (PEM), -a the ALPN protocols offered
 * (comma-separated, e.g. "http/1.1"), -p one protocol version, -t nbtls's ticket policy
 * (default deferred; the flag is refused when built against libtls).
 *
 * select() cannot watch an fd numbered FD_SETSIZE (1024) or above: such connections are
 * refused at accept.  Use poll or epoll (see echo-server-epoll.c) for more clients.
 *
 * -n N: stop accepting after N connections and exit once they are finished (status 1 if
 * any failed).  One log line per request goes to stderr ("conn 3: GET /a.txt 200 1234"),
 * unless -q.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define PROG "https-server-select"
#include "tlsapi.h"
#include "util.h"

#define REQ_MAX 8192
#define IOBUF 16384
#define IDLE_MS 30000
#define LINGER_MS 2000
#define MAX_CONNS 1000

enum state {
	ST_HANDSHAKE,	/* tls_handshake() until 0 */
	ST_READ_REQ,	/* tls_read() until a whole request header is buffered */
	ST_WRITE,	/* tls_write() the response header, then the file */
	ST_CLOSE,	/* tls_close() until 0 or -1 */
	ST_LINGER,	/* half-closed: read and discard until EOF or the deadline */
	ST_DONE,
};

struct conn {
	int id;
	int fd;
	struct tls *tls;
	enum state st;
	int want_out;		/* last WANT was POLLOUT (else POLLIN) */
	int failed;
	int keep_alive;		/* after this response: read the next request */
	long long deadline;	/* idle or linger deadline, monotonic ms */
	size_t inlen;		/* buffered request bytes (possibly pipelined) */
	int file;		/* file being sent, or -1 */
	off_t fileleft;
	size_t outlen, outoff;
	char in[REQ_MAX + 1];
	char out[IOBUF];
};

static const char *docroot;	/* realpath of the document root */
static size_t docroot_len;
static int quiet, any_failed;

static void
usage(void)
{
	fprintf(stderr, "usage: " PROG " -c cert -k key [-a alpn-list] [-p 1.2|1.3]\n"
	    "       [-t deferred|opportunistic|immediate|none] [-n max-connections] [-q]"
	    " docroot port\n");
	exit(1);
}

static void
conn_fail(struct conn *c, const char *what)
{
	fprintf(stderr, PROG ": conn %d: %s failed: %s\n", c->id, what, or_dash(tls_error(c->tls)));
	c->failed = any_failed = 1;
	c->st = ST_DONE;	/* no close_notify after a failure: just drop it */
}

/* Returns 1 (and remembers which readiness to wait for) when rv is a WANT code. */
static int
wants(struct conn *c, ssize_t rv)
{
	if (is_want(rv)) {
		c->want_out = rv == TLS_WANT_POLLOUT;
		return 1;
	}
	return 0;
}

static const char *
content_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".txt", "text/plain; charset=utf-8" },
		{ ".css", "text/css" }, { ".js", "text/javascript" }, { ".json", "application/json" },
		{ ".png", "image/png" }, { ".jpg", "image/jpeg" }, { ".svg", "image/svg+xml" },
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	if (dot != NULL && strchr(dot, '/') == NULL)
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/*
 * Maps a request target to a file below docroot.  Returns an open fd (and its size), or
 * the HTTP status to answer instead (400 or 404) as a negative number.
 */
static int
open_target(const char *target, off_t *size)
{
	char path[PATH_MAX], full[PATH_MAX], real[PATH_MAX];
	size_t len = 0;
	const char *p, *seg;
	struct stat st;
	int fd;

	if (target[0] != '/')
		return -400;
	for (p = target; *p != '\0' && *p != '?' && *p != '#'; p++) {
		int ch = (unsigned char)*p;
		if (ch == '%') {
			int hi = hexval((unsigned char)p[1]), lo = hi < 0 ? -1 : hexval((unsigned char)p[2]);
			if (hi < 0 || lo < 0)
				return -400;
			ch = hi * 16 + lo;
			p += 2;
		}
		if (ch == '\0' || len + 1 >= sizeof(path) - 16)
			return -400;
		path[len++] = (char)ch;
	}
	path[len] = '\0';
	/* Refuse any ".." segment outright, before touching the file system. */
	for (seg = path; seg != NULL; seg = strchr(seg + 1, '/')) {
		const char *s = seg + 1;
		if (s[0] == '.' && s[1] == '.' && (s[2] == '/' || s[2] == '\0'))
			return -400;
	}
	if (path[len - 1] == '/')
		strcat(path, "index.html");
	if (snprintf(full, sizeof(full), "%s%s", docroot, path) >= (int)sizeof(full))
		return -404;
	/* Symlinks are followed, but the file they reach must still be under docroot. */
	if (realpath(full, real) == NULL)
		return -404;
	if (strncmp(real, docroot, docroot_len) != 0 || real[docroot_len] != '/')
		return -404;
	if ((fd = open(real, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return -404;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -404;
	}
	*size = st.st_size;
	return fd;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* Finds header `name` in the header block (after the request line); copies its value. */
static int
header_value(const char *hdrs, const char *name, char *val, size_t vallen)
{
	size_t nlen = strlen(name);
	const char *line;

	for (line = strchr(hdrs, '\n'); line != NULL; line = strchr(line, '\n')) {
		const char *v, *end;
		line++;
		if (strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
			continue;
		for (v = line + nlen + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (end = v; *end != '\0' && *end != '\r' && *end != '\n'; end++)
			;
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if ((size_t)(end - v) >= vallen)
			return 0;
		memcpy(val, v, (size_t)(end - v));
		val[end - v] = '\0';
		return 1;
	}
	return 0;
}

/* Queues an error response with a short text body. */
static void
respond_error(struct conn *c, int status)
{
	int len = snprintf(c->out, sizeof(c->out),
	    "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %zu\r\nConnection: %s\r\n\r\n%d %s\n",
	    status, reason(status), strlen(reason(status)) + 5,
	    c->keep_alive ? "keep-alive" : "close", status, reason(status));
	c->outlen = (size_t)len;
	c->outoff = 0;
	c->file = -1;
	c->fileleft = 0;
}

/*
 * Parses the request whose header ends at `hdr_end` (the index after its blank line) and
 * prepares the response; the request's bytes are then removed from the buffer.
 */
static void
handle_request(struct conn *c, size_t hdr_end)
{
	char method[16], target[4096], version[16], val[256];
	int status = 200, n = 0, head;
	off_t size = 0;
	int fd = -1;

	c->in[hdr_end - 1] = '\0';	/* the header block as a string (the blank line's \n) */
	if (sscanf(c->in, "%15s %4095s %15s%n", method, target, version, &n) != 3 ||
	    (c->in[n] != '\r' && c->in[n] != '\n')) {
		status = 400;
		strcpy(method, "-");
		strcpy(target, "-");
		c->keep_alive = 0;
	} else {
		int v11 = strcmp(version, "HTTP/1.1") == 0;
		int has_conn = header_value(c->in, "Connection", val, sizeof(val));
		if (!v11 && strcmp(version, "HTTP/1.0") != 0) {
			status = 505;
			c->keep_alive = 0;
		} else if (v11)
			c->keep_alive = !(has_conn && strcasestr(val, "close") != NULL);
		else
			c->keep_alive = has_conn && strcasestr(val, "keep-alive") != NULL;
		/* No request bodies: a body we would not read would be taken for a request. */
		if (status == 200 && (header_value(c->in, "Transfer-Encoding", val, sizeof(val)) ||
		    (header_value(c->in, "Content-Length", val, sizeof(val)) && atol(val) != 0))) {
			status = 400;
			c->keep_alive = 0;
		}
	}
	head = strcmp(method, "HEAD") == 0;
	if (status == 200 && strcmp(method, "GET") != 0 && !head)
		status = 405;
	if (status == 200 && (fd = open_target(target, &size)) < 0)
		status = -fd;

	/* Drop this request from the buffer; pipelined requests behind it stay. */
	memmove(c->in, c->in + hdr_end, c->inlen - hdr_end);
	c->inlen -= hdr_end;

	if (!quiet)
		fprintf(stderr, PROG ": conn %d: %s %s %d %lld\n", c->id, method, target, status,
		    (long long)(status == 200 ? size : 0));
	if (status != 200) {
		respond_error(c, status);
		return;
	}
	target[strcspn(target, "?#")] = '\0';	/* the type comes from the file's name */
	if (target[strlen(target) - 1] == '/')
		strcpy(target, "index.html");
	c->outlen = (size_t)snprintf(c->out, sizeof(c->out),
	    "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %lld\r\n"
	    "Connection: %s\r\n\r\n", content_type(target), (long long)size,
	    c->keep_alive ? "keep-alive" : "close");
	c->outoff = 0;
	if (head || size == 0) {
		close(fd);
		c->file = -1;
		c->fileleft = 0;
	} else {
		c->file = fd;
		c->fileleft = size;
	}
}

/* The end of the first complete request header in the buffer (index after it), or 0. */
static size_t
request_end(struct conn *c)
{
	char *p;

	c->in[c->inlen] = '\0';
	for (p = c->in; (p = memchr(p, '\n', c->inlen - (size_t)(p - c->in))) != NULL; p++) {
		if (p[1] == '\n')
			return (size_t)(p - c->in) + 2;
		if (p[1] == '\r' && p[2] == '\n')
			return (size_t)(p - c->in) + 3;
	}
	return 0;
}

/* Drive one connection as far as it goes without blocking. */
static void
step(struct conn *c)
{
	ssize_t n;
	size_t end;
	int rv;

	c->deadline = c->st == ST_LINGER ? c->deadline : now_ms() + IDLE_MS;
	for (;;) {
		switch (c->st) {
		case ST_HANDSHAKE:
			rv = tls_handshake(c->tls);
			if (wants(c, rv))
				return;
			if (rv == -1) {
				conn_fail(c, "handshake");
				return;
			}
			if (!quiet)
				fprintf(stderr, PROG ": conn %d: %s %s alpn=%s\n", c->id,
				    or_dash(tls_conn_version(c->tls)), or_dash(tls_conn_cipher(c->tls)),
				    or_dash(tls_conn_alpn_selected(c->tls)));
			c->st = ST_READ_REQ;
			break;

		case ST_READ_REQ:
			/* A pipelined request may already be buffered: answer it first. */
			if ((end = request_end(c)) != 0) {
				handle_request(c, end);
				c->st = ST_WRITE;
				break;
			}
			if (c->inlen == REQ_MAX) {
				c->keep_alive = 0;
				respond_error(c, 431);
				c->inlen = 0;
				c->st = ST_WRITE;
				break;
			}
			n = tls_read(c->tls, c->in + c->inlen, REQ_MAX - c->inlen);
			if (wants(c, n))
				return;
			if (n == -1) {
				conn_fail(c, "tls_read");
				return;
			}
			if (n == 0) {	/* the client ended the stream between requests */
				c->st = ST_CLOSE;
				break;
			}
			c->inlen += (size_t)n;
			break;

		case ST_WRITE:
			if (c->outoff == c->outlen && c->fileleft > 0) {
				size_t want = sizeof(c->out);
				if ((off_t)want > c->fileleft)
					want = (size_t)c->fileleft;
				n = read(c->file, c->out, want);
				if (n <= 0) {	/* the file shrank or failed: the length is a lie now */
					fprintf(stderr, PROG ": conn %d: file read failed\n", c->id);
					c->fileleft = 0;
					c->keep_alive = 0;
					c->failed = any_failed = 1;
					c->st = ST_CLOSE;
					break;
				}
				c->fileleft -= n;
				c->outlen = (size_t)n;
				c->outoff = 0;
			}
			if (c->outoff == c->outlen) {	/* response complete */
				if (c->file != -1) {
					close(c->file);
					c->file = -1;
				}
				c->st = c->keep_alive ? ST_READ_REQ : ST_CLOSE;
				break;
			}
			/* After WANT, the same remaining bytes are passed again (libtls's rule). */
			n = tls_write(c->tls, c->out + c->outoff, c->outlen - c->outoff);
			if (wants(c, n))
				return;
			if (n == -1) {
				conn_fail(c, "tls_write");
				return;
			}
			c->outoff += (size_t)n;
			break;

		case ST_CLOSE:
			rv = tls_close(c->tls);
			if (wants(c, rv))
				return;
			if (rv == -1 && !quiet)	/* e.g. the peer already went away */
				fprintf(stderr, PROG ": conn %d: tls_close: %s\n", c->id,
				    or_dash(tls_error(c->tls)));
			/*
			 * Lingering close: half-close and read until the client's EOF, so its
			 * close_notify arriving on a closed socket does not make our kernel
			 * send a reset that destroys the response in the client's buffer.
			 */
			shutdown(c->fd, SHUT_WR);
			c->st = ST_LINGER;
			c->deadline = now_ms() + LINGER_MS;
			break;

		case ST_LINGER: {
			char buf[4096];
			if (now_ms() >= c->deadline) {
				c->st = ST_DONE;
				return;
			}
			n = read(c->fd, buf, sizeof(buf));
			if (n > 0)
				break;
			if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
				c->want_out = 0;
				return;
			}
			c->st = ST_DONE;	/* EOF or error */
			return;
		}

		case ST_DONE:
			return;
		}
	}
}

static void
conn_free(struct conn *c)
{
	if (c->file != -1)
		close(c->file);
	tls_free(c->tls);
	close(c->fd);
	free(c);
}

int
main(int argc, char *argv[])
{
	const char *cert = NULL, *key = NULL, *alpn = NULL, *policy = NULL;
	uint32_t protocols = 0;
	long max_conns = 0, accepted = 0, finished = 0;
	struct tls_config *cfg;
	struct tls *server;
	struct conn *conns[MAX_CONNS];
	size_t nconns = 0, i;
	int lfd, ch, next_id = 1;

	while ((ch = getopt(argc, argv, "c:k:a:p:t:n:qh")) != -1) {
		switch (ch) {
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'a': alpn = optarg; break;
		case 't': policy = optarg; break;
		case 'q': quiet = 1; break;
		case 'n':
			if ((max_conns = parse_count(optarg)) == -1)
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
	if (argc != 2 || cert == NULL || key == NULL)
		usage();
	if ((docroot = realpath(argv[0], NULL)) == NULL)
		die(argv[0], strerror(errno));
	docroot_len = strlen(docroot);
	if (docroot_len == 1)	/* "/": every path is inside; avoid a "//" prefix */
		docroot = "", docroot_len = 0;

	signal(SIGPIPE, SIG_IGN);	/* libtls writes with write(2); nbtls needs no help */

	cfg = config_new();
	config_server(cfg, cert, key, alpn, protocols);
	if (policy != NULL && config_ticket_policy(cfg, policy) == -1)
		usage();
	if ((server = tls_server()) == NULL)
		die("tls_server", "failed");
	if (tls_configure(server, cfg) == -1)
		die("tls_configure", tls_error(server));

	if ((lfd = listen_loopback(argv[1], 128)) == -1)
		usage();

	while (max_conns == 0 || finished < max_conns) {
		int accepting = (max_conns == 0 || accepted < max_conns) && nconns < MAX_CONNS;
		long long now = now_ms(), first = -1;
		struct timeval tv, *tvp = NULL;
		fd_set rfds, wfds;
		int maxfd = -1;

		FD_ZERO(&rfds);
		FD_ZERO(&wfds);
		if (accepting) {
			FD_SET(lfd, &rfds);
			maxfd = lfd;
		}
		for (i = 0; i < nconns; i++) {
			struct conn *c = conns[i];
			FD_SET(c->fd, c->want_out ? &wfds : &rfds);
			if (c->fd > maxfd)
				maxfd = c->fd;
			if (first == -1 || c->deadline < first)
				first = c->deadline;
		}
		if (first != -1) {
			long long left = first > now ? first - now : 0;
			tv.tv_sec = (time_t)(left / 1000);
			tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
			tvp = &tv;
		}
		if (select(maxfd + 1, &rfds, &wfds, NULL, tvp) == -1) {
			if (errno == EINTR)
				continue;
			die("select", strerror(errno));
		}

		now = now_ms();
		for (i = 0; i < nconns; i++) {
			struct conn *c = conns[i];
			if (FD_ISSET(c->fd, &rfds) || FD_ISSET(c->fd, &wfds))
				step(c);
			else if (now >= c->deadline) {
				if (c->st == ST_LINGER || c->st == ST_CLOSE) {
					c->st = ST_DONE;
				} else {	/* idle: say goodbye properly */
					c->st = ST_CLOSE;
					step(c);
				}
			}
		}
		/* Drop finished connections, keeping the order of the rest. */
		{
			size_t j = 0;
			for (i = 0; i < nconns; i++) {
				if (conns[i]->st == ST_DONE) {
					conn_free(conns[i]);
					finished++;
				} else
					conns[j++] = conns[i];
			}
			nconns = j;
		}

		if (accepting && FD_ISSET(lfd, &rfds)) {
			while ((max_conns == 0 || accepted < max_conns) && nconns < MAX_CONNS) {
				struct conn *c;
				struct tls *cctx = NULL;
				int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd == -1) {
					if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
					    errno != ECONNABORTED)
						fprintf(stderr, PROG ": accept: %s\n", strerror(errno));
					break;
				}
				accepted++;
				if (fd >= FD_SETSIZE) {
					fprintf(stderr, PROG ": fd %d is beyond select()'s FD_SETSIZE: "
					    "connection refused\n", fd);
					close(fd);
					finished++;
					continue;
				}
				if (tls_accept_socket(server, &cctx, fd) == -1) {
					fprintf(stderr, PROG ": tls_accept_socket: %s\n",
					    or_dash(tls_error(server)));
					any_failed = 1;
					close(fd);
					finished++;
					continue;
				}
				if ((c = calloc(1, sizeof(*c))) == NULL)
					die("calloc", strerror(errno));
				c->id = next_id++;
				c->fd = fd;
				c->tls = cctx;
				c->file = -1;
				c->st = ST_HANDSHAKE;
				step(c);
				if (c->st == ST_DONE) {
					conn_free(c);
					finished++;
					continue;
				}
				conns[nconns++] = c;
			}
		}
	}

	close(lfd);
	tls_free(server);
	tls_config_free(cfg);
	return any_failed ? 1 : 0;
}
