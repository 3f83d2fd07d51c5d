/*
 * memory-pair: a TLS client and server in one process, joined only through nbtls's
 * memory transport (tls_connect_mem / tls_accept_mem, tls_feed, tls_drain,
 * tls_feed_eof).  No sockets, no fds, no callbacks: the program moves the ciphertext.
 *
 *   memory-pair -c cert -k key -C cafile [-n servername] [-p 1.2|1.3]
 *               [-t deferred|opportunistic|immediate|none] [-s wire-bytes] [-q]
 *
 * The client (verifying the server against -C, as -n, default "localhost") sends an
 * HTTP request; the server answers it (with Content-Length); the client reads the answer
 * and closes with close_notify; the server reads that close_notify as a clean end of
 * stream (tls_read 0, not TLS_ERROR_TRUNCATED) and closes too.  Its close_notify reaches
 * a client that has already closed and is discarded, as a closed socket would.
 * Between them are two "wires", one per direction, each holding at most -s bytes
 * (default 16384; 1 moves a byte at a time): every round, each side runs until nbtls
 * says WANT (TLS_WANT_POLLIN: feed me; TLS_WANT_POLLOUT: drain me), then the program
 * drains each side into its wire and feeds the wire to the other side, which may accept
 * fewer bytes than offered.  Once a side is finished and its wire is empty the other side
 * gets tls_feed_eof().
 *
 * On stdout: one line per transfer with the TLS records it completed ("client -> server
 * 517 bytes: handshake(512)"), the events of each side, and a closing summary:
 *
 *   memory-pair: ok: client -> server 1234 bytes in 5 transfers, server -> client ...
 *
 * -q prints only the events and the summary.  Exit status 0 when both sides finished
 * cleanly (no truncation, request and response intact); 1 otherwise, including a stall
 * (a round in which nothing moved and neither side progressed).
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "memory-pair"
#include "tlsapi.h"
#include "util.h"

#ifdef USE_LIBTLS
int
main(void)
{
	puts(PROG " uses nbtls's memory transport (tls_feed/tls_drain): build it against nbtls");
	return 0;
}
#else

#define REQUEST "GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
#define BODY "hello over the memory transport\n"
#define MAX_ROUNDS 100000

enum step { S_HANDSHAKE, S_WRITE, S_READ, S_CLOSE, S_READ_EOF, S_DONE };

/* One direction of ciphertext, with a record parser for the transfer log. */
struct wire {
	const char *name;
	unsigned char buf[65536];
	size_t len, cap;
	size_t total, transfers;
	int eof_sent;
	/* record parser: header bytes seen, body bytes still to come, current type */
	unsigned char hdr[5];
	size_t hdrseen, bodyleft;
};

struct side {
	const char *name;
	struct tls *tls;
	enum step st;
	const char *out;	/* what S_WRITE sends */
	size_t outlen, outoff;
	char in[4096];		/* what S_READ collected */
	size_t inlen;
	int want;		/* last WANT code, or 0 */
};

static int quiet;

static const char *
record_type(int t)
{
	switch (t) {
	case 20: return "change_cipher_spec";
	case 21: return "alert";
	case 22: return "handshake";
	case 23: return "application_data";
	default: return "unknown";
	}
}

/* Logs the records completed by the bytes just moved (TLS 1.3 hides the inner types). */
static void
log_transfer(struct wire *w, const unsigned char *p, size_t n)
{
	char line[512];
	int off;
	size_t i;

	w->total += n;
	w->transfers++;
	off = snprintf(line, sizeof(line), "%s %zu bytes:", w->name, n);
	for (i = 0; i < n;) {
		if (w->hdrseen < 5) {
			w->hdr[w->hdrseen++] = p[i++];
			if (w->hdrseen == 5)
				w->bodyleft = (size_t)w->hdr[3] << 8 | w->hdr[4];
		} else {
			size_t take = n - i < w->bodyleft ? n - i : w->bodyleft;
			i += take;
			w->bodyleft -= take;
		}
		if (w->hdrseen == 5 && w->bodyleft == 0) {
			if (off < (int)sizeof(line) - 48)
				off += snprintf(line + off, sizeof(line) - (size_t)off, " %s(%u)",
				    record_type(w->hdr[0]), (unsigned)(w->hdr[3] << 8 | w->hdr[4]));
			w->hdrseen = 0;
		}
	}
	if (w->hdrseen != 0 || w->bodyleft != 0)
		off += snprintf(line + off, sizeof(line) - (size_t)off, " (record continues)");
	if (!quiet)
		printf("%s\n", line);
}

/* Drains `from` into its wire; returns the bytes moved. */
static size_t
drain_into(struct side *from, struct wire *w)
{
	ssize_t n;

	if (w->len == w->cap)
		return 0;
	n = tls_drain(from->tls, w->buf + w->len, w->cap - w->len);
	if (n == -1)
		die("tls_drain", tls_error(from->tls));
	w->len += (size_t)n;
	return (size_t)n;
}

/* Feeds the wire to `to`, which may take only part of it; returns the bytes taken. */
static size_t
feed_from(struct wire *w, struct side *to)
{
	ssize_t n;

	if (w->len == 0)
		return 0;
	if (to->st == S_DONE) {
		/*
		 * A closed context takes no more input (tls_feed is -1 after tls_close), as a
		 * closed socket would drop it: the peer's late close_notify is discarded.
		 */
		log_transfer(w, w->buf, w->len);
		if (!quiet)
			printf("  (discarded: the %s has closed)\n", to->name);
		n = (ssize_t)w->len;
		w->len = 0;
		return (size_t)n;
	}
	n = tls_feed(to->tls, w->buf, w->len);
	if (n == -1) {
		fprintf(stderr, PROG ": %s: tls_feed: %s\n", to->name, tls_error(to->tls));
		exit(1);
	}
	if (n > 0) {
		log_transfer(w, w->buf, (size_t)n);
		memmove(w->buf, w->buf + n, w->len - (size_t)n);
		w->len -= (size_t)n;
	}
	return (size_t)n;
}

/* Whether an HTTP response with a Content-Length header is complete. */
static int
response_complete(const char *resp)
{
	const char *end = strstr(resp, "\r\n\r\n"), *cl = strstr(resp, "Content-Length: ");

	return end != NULL && cl != NULL && cl < end &&
	    strlen(end + 4) >= strtoul(cl + 16, NULL, 10);
}

/* Records a WANT code; returns 1 if rv was one. */
static int
wants(struct side *s, ssize_t rv)
{
	if (is_want(rv)) {
		s->want = (int)rv;
		return 1;
	}
	return 0;
}

static void
fail(struct side *s, const char *what)
{
	fprintf(stderr, PROG ": %s: %s failed: %s (code 0x%x)\n", s->name, what,
	    tls_error(s->tls) != NULL ? tls_error(s->tls) : "?", (unsigned)tls_error_code(s->tls));
	exit(1);
}

/* Runs one side until nbtls says WANT or it is done; returns 1 if it progressed. */
static int
run(struct side *s, int is_server)
{
	int progressed = 0;
	ssize_t n;
	int rv;

	s->want = 0;
	for (;;) {
		switch (s->st) {
		case S_HANDSHAKE:
			rv = tls_handshake(s->tls);
			if (wants(s, rv))
				return progressed;
			if (rv == -1)
				fail(s, "tls_handshake");
			printf("%s: handshake done: %s %s alpn=%s", s->name, tls_conn_version(s->tls),
			    tls_conn_cipher(s->tls),
			    tls_conn_alpn_selected(s->tls) ? tls_conn_alpn_selected(s->tls) : "-");
			if (is_server)
				printf(" (tickets held back: %zu bytes)", tls_pending_deferred(s->tls));
			printf("\n");
			s->st = is_server ? S_READ : S_WRITE;
			progressed = 1;
			break;
		case S_WRITE:
			if (s->outoff == s->outlen) {
				printf("%s: wrote %zu bytes of plaintext\n", s->name, s->outlen);
				s->st = is_server ? S_READ_EOF : S_READ;
				progressed = 1;
				break;
			}
			/* Returns once the record is due for tls_drain ("drain me" otherwise). */
			n = tls_write(s->tls, s->out + s->outoff, s->outlen - s->outoff);
			if (wants(s, n))
				return progressed;
			if (n == -1)
				fail(s, "tls_write");
			s->outoff += (size_t)n;
			progressed = 1;
			break;
		case S_READ:
		case S_READ_EOF:
			if (s->inlen == sizeof(s->in) - 1)
				die(s->name, "peer sent too much");
			n = tls_read(s->tls, s->in + s->inlen, sizeof(s->in) - 1 - s->inlen);
			if (wants(s, n))
				return progressed;
			if (n == -1)
				fail(s, "tls_read");
			progressed = 1;
			if (n == 0) {
				if (tls_error_code(s->tls) == TLS_ERROR_TRUNCATED)
					die(s->name, "the stream was truncated (EOF without close_notify)");
				if (s->st == S_READ)
					die(s->name, "the stream ended early");
				printf("%s: end of stream (close_notify)\n", s->name);
				s->st = S_CLOSE;
				break;
			}
			s->inlen += (size_t)n;
			s->in[s->inlen] = '\0';
			if (s->st == S_READ && is_server && strstr(s->in, "\r\n\r\n") != NULL) {
				printf("%s: request: %.*s\n", s->name, (int)strcspn(s->in, "\r"), s->in);
				s->st = S_WRITE;
			} else if (s->st == S_READ && !is_server && response_complete(s->in)) {
				printf("%s: response: %.*s (%zu bytes)\n", s->name,
				    (int)strcspn(s->in, "\r"), s->in, s->inlen);
				s->st = S_CLOSE;
			}
			break;
		case S_CLOSE:
			rv = tls_close(s->tls);
			if (wants(s, rv))
				return progressed;
			if (rv == -1)
				fail(s, "tls_close");
			printf("%s: close_notify queued\n", s->name);
			s->st = S_DONE;
			progressed = 1;
			break;
		case S_DONE:
			return progressed;
		}
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: " PROG " -c cert -k key -C cafile [-n servername] [-p 1.2|1.3]\n"
	    "       [-t deferred|opportunistic|immediate|none] [-s wire-bytes] [-q]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	const char *cert = NULL, *key = NULL, *cafile = NULL, *servername = "localhost";
	const char *policy = NULL;
	uint32_t protocols = 0;
	struct tls_config *scfg, *ccfg;
	struct tls *listener;
	static struct wire c2s = { .name = "client -> server" }, s2c = { .name = "server -> client" };
	struct side client = { .name = "client" }, server = { .name = "server" };
	char response[256];
	long wire = 16384, rounds;
	int ch;

	while ((ch = getopt(argc, argv, "c:k:C:n:p:t:s:qh")) != -1) {
		switch (ch) {
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'C': cafile = optarg; break;
		case 'n': servername = optarg; break;
		case 't': policy = optarg; break;
		case 'q': quiet = 1; break;
		case 's':
			wire = strtol(optarg, NULL, 10);
			if (wire < 1 || wire > (long)sizeof(c2s.buf))
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
	if (optind != argc || cert == NULL || key == NULL || cafile == NULL)
		usage();
	c2s.cap = s2c.cap = (size_t)wire;

	scfg = config_new();
	ccfg = config_new();
	if (tls_config_set_keypair_file(scfg, cert, key) == -1)
		die("keypair", tls_config_error(scfg));
	if (tls_config_set_alpn(scfg, "http/1.1") == -1 || tls_config_set_alpn(ccfg, "http/1.1") == -1)
		die("ALPN", tls_config_error(scfg));
	if (policy != NULL && config_ticket_policy(scfg, policy) == -1)
		usage();
	if (tls_config_set_ca_file(ccfg, cafile) == -1)
		die("CA file", tls_config_error(ccfg));
	if (protocols != 0 && (tls_config_set_protocols(scfg, protocols) == -1 ||
	    tls_config_set_protocols(ccfg, protocols) == -1))
		die("protocols", tls_config_error(ccfg));

	if ((listener = tls_server()) == NULL || tls_configure(listener, scfg) == -1)
		die("server", tls_error(listener));
	if ((client.tls = tls_client()) == NULL || tls_configure(client.tls, ccfg) == -1)
		die("client", tls_error(client.tls));
	if (tls_connect_mem(client.tls, servername) == -1)
		die("tls_connect_mem", tls_error(client.tls));
	if (tls_accept_mem(listener, &server.tls) == -1)
		die("tls_accept_mem", tls_error(listener));

	client.out = REQUEST;
	client.outlen = strlen(REQUEST);
	{
		int len = snprintf(response, sizeof(response), "HTTP/1.1 200 OK\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", strlen(BODY), BODY);
		server.out = response;
		server.outlen = (size_t)len;
	}

	for (rounds = 0; client.st != S_DONE || server.st != S_DONE; rounds++) {
		int progressed = 0;
		size_t moved = 0;

		if (rounds == MAX_ROUNDS)
			die("pump", "too many rounds");
		progressed |= run(&client, 0);
		progressed |= run(&server, 1);
		/* "drain me" first, then "feed me" (POLLOUT before POLLIN). */
		moved += drain_into(&client, &c2s);
		moved += drain_into(&server, &s2c);
		moved += feed_from(&c2s, &server);
		moved += feed_from(&s2c, &client);
		/*
		 * A finished side whose wire is empty has hung up: the peer sees EOF (unless
		 * it is closing itself: tls_feed_eof is -1 after tls_close).
		 */
		if (client.st == S_DONE && server.st < S_CLOSE && c2s.len == 0 && !c2s.eof_sent &&
		    tls_pending_write(client.tls) == 0) {
			if (tls_feed_eof(server.tls) == -1)
				die("tls_feed_eof", tls_error(server.tls));
			printf("server: fed EOF (the client hung up)\n");
			c2s.eof_sent = 1;
			progressed = 1;
		}
		if (server.st == S_DONE && client.st < S_CLOSE && s2c.len == 0 && !s2c.eof_sent &&
		    tls_pending_write(server.tls) == 0) {
			if (tls_feed_eof(client.tls) == -1)
				die("tls_feed_eof", tls_error(client.tls));
			printf("client: fed EOF (the server hung up)\n");
			s2c.eof_sent = 1;
			progressed = 1;
		}
		if (!progressed && moved == 0) {
			fprintf(stderr, PROG ": stalled: client wants %d, server wants %d, wires %zu/%zu\n",
			    client.want, server.want, c2s.len, s2c.len);
			return 1;
		}
	}

	/* Check what arrived. */
	if (strstr(server.in, REQUEST) != server.in)
		die("server", "request damaged");
	if (strcmp(client.in, response) != 0)
		die("client", "response damaged");
	printf("client: response: %.*s, body: %s", (int)strcspn(client.in, "\r"), client.in,
	    strstr(client.in, "\r\n\r\n") + 4);
	printf("client: tickets received: %d, resumed: %d\n", tls_conn_tickets_received(client.tls),
	    tls_conn_session_resumed(client.tls));
	printf(PROG ": ok: client -> server %zu bytes in %zu transfers, server -> client %zu bytes "
	    "in %zu transfers, %ld rounds\n", c2s.total, c2s.transfers, s2c.total, s2c.transfers,
	    rounds);

	tls_free(client.tls);
	tls_free(server.tls);
	tls_free(listener);
	tls_config_free(ccfg);
	tls_config_free(scfg);
	return 0;
}
#endif
