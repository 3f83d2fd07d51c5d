/*
 * poll-server: a nonblocking TLS server driven by poll(2) and the WANT codes.
 *
 *   poll-server -c cert -k key [-a alpn] [-p 1.2|1.3] [-n max-connections] [--echo]
 *               [--level] [-t deferred|opportunistic|immediate|none] port
 *   options for sessions and client certificates:
 *               [--ticket-key hexfile] [-V cafile|- [--optional] [--noverifycert]]
 *               [--sni cert:key]... [--keylog]
 *
 * Listens on 127.0.0.1:port (port 0 picks a free one) and prints
 * "listening on PORT" on stdout, flushed, once it accepts connections.  It
 * serves many clients at once; each connection is a small state machine whose
 * poll events come only from the last TLS call: TLS_WANT_POLLIN waits for
 * POLLIN, TLS_WANT_POLLOUT for POLLOUT.  Every step calls into the TLS
 * library until it says WANT, so plaintext the library already decrypted is
 * never left waiting for a readiness event that will not come.
 *
 * Default mode: read an HTTP request up to the blank line, answer
 *   HTTP/1.0 200 OK ... hello from nbtls: TLSv1.3 alpn=http/1.1
 * then tls_close() and close the socket.  --echo: send back every byte read
 * until the peer ends the stream, then close.
 *
 * --level: read the way level-triggered servers do (libevent's read callbacks, naive
 * poll loops): once tls_handshake() has returned 0, and after every tls_read() that
 * returned data or every tls_write() that finished, wait for POLLIN before the next
 * tls_read().  Such a server relies on the library leaving every byte it has not
 * decrypted yet in the socket, where poll() sees it; a library that reads ahead makes it
 * wait forever for a request it already holds.  (A buffer smaller than a record would
 * also need tls_pending_read(); this one holds the largest request it accepts.)
 *
 * -t POLICY (nbtls only): the TLS 1.3 ticket policy, tls_config_set_ticket_policy():
 * deferred (the default), opportunistic, immediate or none.
 *
 * After tls_close() the socket is half-closed and drained for up to two
 * seconds before close(2) (a "lingering close"), so that bytes the client
 * still sends (its close_notify) do not make our kernel answer with a TCP
 * reset that could destroy the response in the client's receive buffer.
 *
 * -n N: stop accepting after N connections and exit once they are all
 * finished; the exit status is 1 if any of them failed, else 0.  Without -n
 * it runs until killed.  One log line per event goes to stderr.
 *
 * Sessions and client certificates (each handshake also logs "conn N: resumed=0|1"):
 * --ticket-key FILE adds the ticket keys in FILE, one per line of 96 hex digits (48 bytes,
 * tls_config_add_ticket_key, keyrev = line number; the last line encrypts), so several
 * servers given one file resume each other's sessions.  -V CAFILE requires a client
 * certificate signed by CAFILE (tls_config_verify_client), --optional only asks for one
 * (tls_config_verify_client_optional); -V - uses the system's roots (no CA file);
 * --noverifycert accepts any client certificate and leaves it to the program
 * (tls_config_insecure_noverifycert).  A handshake with a client certificate logs "conn N:
 * peer subject=... issuer=... hash=... notbefore=EPOCH notafter=EPOCH", one without "conn N:
 * no peer certificate" (tls_peer_cert_provided).  --sni CERT:KEY adds a keypair
 * chosen by server name (tls_config_add_keypair_file; repeatable).  --keylog (nbtls only)
 * appends the handshake secrets to the file SSLKEYLOGFILE names
 * (tls_config_set_keylog_file_from_env).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "poll-server"
#include "tlsapi.h"
#include "util.h"

#define LINGER_MS 2000
#define REQ_MAX 8192
#define IOBUF 16384

enum state {
	ST_HANDSHAKE,	/* tls_handshake() until 0 */
	ST_READ_REQ,	/* tls_read() until the blank line ending the request */
	ST_ECHO_READ,	/* tls_read() a chunk to echo */
	ST_WRITE,	/* tls_write() out[outoff..outlen), then go to ->next */
	ST_CLOSE,	/* tls_close() until 0 or -1 */
	ST_LINGER,	/* half-closed: read and discard until EOF or the deadline */
	ST_DONE,
};

struct conn {
	int id;
	int fd;
	struct tls *tls;
	enum state st, next;
	short events;		/* what poll() waits for: set from the WANT code */
	int polled;		/* --level: poll() reported an event since the last TLS call */
	int failed;
	long long deadline;	/* ST_LINGER: monotonic ms */
	size_t inlen;
	size_t outlen, outoff;
	char in[REQ_MAX + 1];
	char out[IOBUF];
};

static int echo_mode;
static int level_mode;
static int verify_client;
static int any_failed;

static void
usage(void)
{
	fprintf(stderr, "usage: " PROG " -c cert -k key [-a alpn] [-p 1.2|1.3] "
	    "[-n max-connections] [--echo]\n"
	    "       [--level] [-t deferred|opportunistic|immediate|none] port\n"
	    "       [--ticket-key hexfile] [-V cafile|- [--optional] [--noverifycert]]\n"
	    "       [--sni cert:key]... [--keylog]\n");
	exit(1);
}

static void
conn_fail(struct conn *c, const char *what)
{
	const char *msg = tls_error(c->tls);
	fprintf(stderr, PROG ": conn %d: %s failed: %s\n", c->id, what,
	    msg != NULL ? msg : "unknown error");
	c->failed = 1;
	any_failed = 1;
	c->st = ST_DONE;	/* no close_notify after a failure: just drop it */
}

/* Returns 1 (and sets the poll events) when rv is a WANT code. */
static int
wants(struct conn *c, ssize_t rv)
{
	short events = want_events(rv);

	if (events == 0)
		return 0;
	c->events = events;
	return 1;
}

/*
 * --level: whether a read may go ahead now.  Returns 0 (and waits for POLLIN) unless
 * poll() reported an event since the last TLS call that finished.
 */
static int
may_read(struct conn *c)
{
	if (!level_mode || c->polled)
		return 1;
	c->events = POLLIN;
	return 0;
}

static void
make_response(struct conn *c)
{
	const char *version = tls_conn_version(c->tls);
	const char *alpn = tls_conn_alpn_selected(c->tls);
	char body[256];
	int blen, len;

	blen = snprintf(body, sizeof(body), "hello from nbtls: %s alpn=%s\n",
	    version != NULL ? version : "?", or_dash(alpn));
	len = snprintf(c->out, sizeof(c->out),
	    "HTTP/1.0 200 OK\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Length: %d\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "%s", blen, body);
	c->outlen = (size_t)len;
	c->outoff = 0;
}

/* After the handshake: whether it resumed, and the client's certificate if it sent one. */
static void
log_session(struct conn *c)
{
	fprintf(stderr, PROG ": conn %d: resumed=%d\n", c->id, tls_conn_session_resumed(c->tls));
	if (verify_client && tls_peer_cert_provided(c->tls) == 0)
		fprintf(stderr, PROG ": conn %d: no peer certificate\n", c->id);
	if (verify_client && tls_peer_cert_provided(c->tls) == 1)
		fprintf(stderr, PROG ": conn %d: peer subject=%s issuer=%s hash=%s "
		    "notbefore=%lld notafter=%lld\n", c->id, or_dash(tls_peer_cert_subject(c->tls)),
		    or_dash(tls_peer_cert_issuer(c->tls)), or_dash(tls_peer_cert_hash(c->tls)),
		    (long long)tls_peer_cert_notbefore(c->tls),
		    (long long)tls_peer_cert_notafter(c->tls));
}

/* Adds the ticket keys of a file of 96-hex-digit lines (keyrev = line number). */
static void
add_ticket_keys(struct tls_config *cfg, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	uint32_t keyrev = 0;

	if (f == NULL)
		die(path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned char key[48];
		size_t i;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (strlen(line) != 96)
			die(path, "a ticket key line is not 96 hex digits");
		for (i = 0; i < sizeof(key); i++) {
			unsigned int b;
			if (sscanf(line + 2 * i, "%2x", &b) != 1)
				die(path, "a ticket key line is not 96 hex digits");
			key[i] = (unsigned char)b;
		}
		if (tls_config_add_ticket_key(cfg, ++keyrev, key, sizeof(key)) == -1)
			die("ticket key", tls_config_error(cfg));
	}
	fclose(f);
	if (keyrev == 0)
		die(path, "no ticket key");
}

/* Drive one connection as far as it goes without blocking. */
static void
step(struct conn *c)
{
	ssize_t n;
	int rv;

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
			fprintf(stderr, PROG ": conn %d: handshake done: %s %s alpn=%s sni=%s\n",
			    c->id, or_dash(tls_conn_version(c->tls)), or_dash(tls_conn_cipher(c->tls)),
			    or_dash(tls_conn_alpn_selected(c->tls)),
			    or_dash(tls_conn_servername(c->tls)));
			log_session(c);
			c->st = echo_mode ? ST_ECHO_READ : ST_READ_REQ;
			c->polled = 0;
			break;

		case ST_READ_REQ:
			if (c->inlen == REQ_MAX) {
				fprintf(stderr, PROG ": conn %d: request too large\n", c->id);
				c->failed = any_failed = 1;
				c->st = ST_CLOSE;
				break;
			}
			if (!may_read(c))
				return;
			n = tls_read(c->tls, c->in + c->inlen, REQ_MAX - c->inlen);
			if (wants(c, n))
				return;
			c->polled = 0;
			if (n == -1) {
				conn_fail(c, "tls_read");
				return;
			}
			if (n == 0) {
				fprintf(stderr, PROG ": conn %d: peer ended the stream before the "
				    "end of the request\n", c->id);
				c->st = ST_CLOSE;
				break;
			}
			c->inlen += (size_t)n;
			c->in[c->inlen] = '\0';
			if (strstr(c->in, "\r\n\r\n") != NULL || strstr(c->in, "\n\n") != NULL) {
				make_response(c);
				c->st = ST_WRITE;
				c->next = ST_CLOSE;
			}
			break;

		case ST_ECHO_READ:
			if (!may_read(c))
				return;
			n = tls_read(c->tls, c->out, sizeof(c->out));
			if (wants(c, n))
				return;
			c->polled = 0;
			if (n == -1) {
				conn_fail(c, "tls_read");
				return;
			}
			if (n == 0) {
				c->st = ST_CLOSE;
				break;
			}
			c->outlen = (size_t)n;
			c->outoff = 0;
			c->st = ST_WRITE;
			c->next = ST_ECHO_READ;
			break;

		case ST_WRITE:
			if (c->outoff == c->outlen) {
				c->st = c->next;
				c->polled = 0;
				break;
			}
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
			if (rv == -1) {
				/* e.g. the peer already went away: not worth failing for */
				const char *msg = tls_error(c->tls);
				fprintf(stderr, PROG ": conn %d: tls_close: %s\n", c->id,
				    msg != NULL ? msg : "unknown error");
			}
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
				c->events = POLLIN;
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
	fprintf(stderr, PROG ": conn %d: %s\n", c->id, c->failed ? "failed" : "done");
	if (c->tls != NULL)
		tls_free(c->tls);
	close(c->fd);
	free(c);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "echo", no_argument, NULL, 'E' },
		{ "level", no_argument, NULL, 'l' },
		{ "ticket-key", required_argument, NULL, 'T' },
		{ "optional", no_argument, NULL, 'o' },
		{ "noverifycert", no_argument, NULL, 'N' },
		{ "sni", required_argument, NULL, 'S' },
		{ "keylog", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cert = NULL, *key = NULL, *alpn = NULL;
	const char *ticket_keys = NULL, *client_ca = NULL, *sni[16], *policy = NULL;
	int optional = 0, noverifycert = 0, keylog = 0, nsni = 0, i;
	uint32_t protocols = 0;
	long max_conns = 0, accepted = 0, finished = 0;
	struct tls_config *cfg;
	struct tls *server;
	struct conn **conns = NULL;
	struct pollfd *pfds = NULL;
	size_t nconns = 0, cap = 0;
	int lfd, ch, next_id = 1;

	while ((ch = getopt_long(argc, argv, "c:k:a:p:n:V:t:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'a': alpn = optarg; break;
		case 'E': echo_mode = 1; break;
		case 'l': level_mode = 1; break;
		case 't': policy = optarg; break;
		case 'T': ticket_keys = optarg; break;
		case 'V': client_ca = optarg; break;
		case 'o': optional = 1; break;
		case 'N': noverifycert = 1; break;
		case 'L': keylog = 1; break;
		case 'S':
			if (nsni == (int)(sizeof(sni) / sizeof(sni[0])) || strchr(optarg, ':') == NULL)
				usage();
			sni[nsni++] = optarg;
			break;
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
	if (argc != 1 || cert == NULL || key == NULL ||
	    ((optional || noverifycert) && client_ca == NULL))
		usage();

	signal(SIGPIPE, SIG_IGN);

	cfg = config_new();
	config_server(cfg, cert, key, alpn, protocols);
	if (policy != NULL && config_ticket_policy(cfg, policy) == -1)
		usage();
	for (i = 0; i < nsni; i++) {
		char pair[1024], *colon;
		snprintf(pair, sizeof(pair), "%s", sni[i]);
		colon = strchr(pair, ':');
		*colon = '\0';
		if (tls_config_add_keypair_file(cfg, pair, colon + 1) == -1)
			die("--sni keypair", tls_config_error(cfg));
	}
	if (ticket_keys != NULL)
		add_ticket_keys(cfg, ticket_keys);
	if (client_ca != NULL) {
		if (strcmp(client_ca, "-") != 0 && tls_config_set_ca_file(cfg, client_ca) == -1)
			die("client CA file", tls_config_error(cfg));
		if (noverifycert)
			tls_config_insecure_noverifycert(cfg);
		if (optional)
			tls_config_verify_client_optional(cfg);
		else
			tls_config_verify_client(cfg);
		verify_client = 1;
	}
	if (keylog)
		config_keylog(cfg);
	if ((server = tls_server()) == NULL)
		die("tls_server", "failed");
	if (tls_configure(server, cfg) == -1)
		die("tls_configure", tls_error(server));

	if ((lfd = listen_loopback(argv[0], 128)) == -1)
		usage();

	while (max_conns == 0 || finished < max_conns) {
		int accepting = max_conns == 0 || accepted < max_conns;
		long long now = now_ms();
		int timeout = -1;
		size_t i, np = 0;

		if (cap < nconns + 1) {
			cap = (nconns + 1) * 2;
			pfds = realloc(pfds, cap * sizeof(*pfds));
			if (pfds == NULL)
				die("realloc", strerror(errno));
		}
		if (accepting) {
			pfds[np].fd = lfd;
			pfds[np].events = POLLIN;
			pfds[np].revents = 0;
			np++;
		}
		for (i = 0; i < nconns; i++) {
			struct conn *c = conns[i];
			pfds[np].fd = c->fd;
			pfds[np].events = c->events;
			pfds[np].revents = 0;
			np++;
			if (c->st == ST_LINGER) {
				long long left = c->deadline - now;
				if (left < 0)
					left = 0;
				if (timeout == -1 || left < timeout)
					timeout = (int)left;
			}
		}
		if (poll(pfds, np, timeout) == -1) {
			if (errno == EINTR)
				continue;
			die("poll", strerror(errno));
		}

		/* Existing connections first (pfds indices match conns[] before accepting). */
		for (i = 0; i < nconns; i++) {
			struct conn *c = conns[i];
			struct pollfd *p = &pfds[i + (accepting ? 1 : 0)];
			if (p->revents != 0 || (c->st == ST_LINGER && now_ms() >= c->deadline)) {
				c->polled = p->revents != 0;
				step(c);
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

		if (accepting && (pfds[0].revents & POLLIN)) {
			while (max_conns == 0 || accepted < max_conns) {
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
				c->st = ST_HANDSHAKE;
				fprintf(stderr, PROG ": conn %d: accepted\n", c->id);
				step(c);	/* nothing to read yet, probably: sets the events */
				if (c->st == ST_DONE) {
					conn_free(c);
					finished++;
					continue;
				}
				if (nconns % 64 == 0) {
					conns = realloc(conns, (nconns + 64) * sizeof(*conns));
					if (conns == NULL)
						die("realloc", strerror(errno));
				}
				conns[nconns++] = c;
			}
		}
	}

	close(lfd);
	free(conns);
	free(pfds);
	tls_free(server);
	tls_config_free(cfg);
	return any_failed ? 1 : 0;
}
