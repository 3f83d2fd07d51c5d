/*
 * poll-client: fetch an https:// URL on a nonblocking socket driven by poll(2).
 *
 *   poll-client [-C cafile] [-a alpn-list] [-p 1.2|1.3] [-n servername] [-t timeout-s]
 *               [--insecure-noverify] https://host[:port][/path]
 *
 * Resolves host, connects without blocking (each address in turn), and starts TLS with
 * tls_connect_socket(): the server name sent (SNI) and verified is -n, else host.  It
 * sends "GET path HTTP/1.1" with "Connection: close", writes the response body to stdout
 * (Content-Length, chunked, or up to the end of the stream) and, after the handshake, one
 * line on stderr:
 *
 *   nbtls: version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 alpn=http/1.1
 *
 * (alpn=- when none was negotiated).  Every TLS call that returns TLS_WANT_POLLIN or
 * TLS_WANT_POLLOUT is followed by a poll() for exactly that, then repeated.
 *
 * Certificates are verified by default (the system trust store, or -C);
 * --insecure-noverify turns off every check.  -a offers ALPN protocols
 * (comma-separated, e.g. "h2,http/1.1"; the client speaks HTTP/1.1 only, so it fails if
 * the server picks something else).  -t bounds every wait (default 30 s).
 *
 * Exit status 0 when the TLS exchange succeeded and the server answered 2xx; a body that
 * ended with a bare EOF instead of close_notify (truncation) is an error.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PROG "poll-client"
#include "tlsapi.h"
#include "util.h"

#define MAX_RESPONSE (64 * 1024 * 1024)

static int timeout_ms = 30000;
static int sockfd = -1;

static void
usage(void)
{
	fprintf(stderr, "usage: " PROG " [-C cafile] [-a alpn-list] [-p 1.2|1.3] "
	    "[-n servername] [-t timeout-s]\n"
	    "                   [--insecure-noverify] https://host[:port][/path]\n");
	exit(1);
}

/* Waits for what a WANT code names; returns 1 if rv was one, 0 otherwise. */
static int
wait_for(ssize_t rv)
{
	struct pollfd p = { .fd = sockfd, .events = want_events(rv) };
	int n;

	if (p.events == 0)
		return 0;
	while ((n = poll(&p, 1, timeout_ms)) == -1 && errno == EINTR)
		;
	if (n == -1)
		die("poll", strerror(errno));
	if (n == 0)
		die("poll", "timed out");
	return 1;
}

/* Splits https://host[:port][/path]; host may be [v6]. */
static void
parse_url(const char *url, char **host, char **port, char **path)
{
	const char *p, *hend, *slash;
	char *h;

	if (strncasecmp(url, "https://", 8) != 0)
		die(url, "only https:// URLs");
	p = url + 8;
	slash = p + strcspn(p, "/?#");
	if (*p == '[') {
		hend = memchr(p, ']', (size_t)(slash - p));
		if (hend == NULL)
			die(url, "bad IPv6 literal");
		h = strndup(p + 1, (size_t)(hend - p - 1));
		hend++;
	} else {
		hend = memchr(p, ':', (size_t)(slash - p));
		if (hend == NULL)
			hend = slash;
		h = strndup(p, (size_t)(hend - p));
	}
	if (h == NULL || *h == '\0')
		die(url, "no host");
	*host = h;
	if (*hend == ':' && hend + 1 < slash)
		*port = strndup(hend + 1, (size_t)(slash - hend - 1));
	else
		*port = strdup("443");
	if (*slash == '/')
		*path = strdup(slash);
	else if (*slash == '?') {	/* "https://h?q": path "/" plus the query */
		if (asprintf(path, "/%.*s", (int)strcspn(slash, "#"), slash) == -1)
			*path = NULL;
	} else
		*path = strdup("/");
	if (*path != NULL)
		(*path)[strcspn(*path, "#")] = '\0';	/* the fragment is not sent */
	if (*port == NULL || *path == NULL)
		die("url", strerror(ENOMEM));
	if (strpbrk(*path, " \r\n") != NULL)
		die(url, "path contains a space or a line break");
}

static void
write_all_tls(struct tls *ctx, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = tls_write(ctx, buf, len);
		if (wait_for(n))
			continue;	/* same data again after a WANT */
		if (n == -1)
			die_tls(ctx, "tls_write");
		buf += n;
		len -= (size_t)n;
	}
}

/* Finds a header's value in the header block hdr[0..len); NULL if absent. */
static const char *
header_value(const char *hdr, const char *name, char *val, size_t vallen)
{
	size_t nlen = strlen(name);
	const char *line;

	for (line = strchr(hdr, '\n'); line != NULL; line = strchr(line, '\n')) {
		const char *v;
		size_t k;
		line++;
		if (strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
			continue;
		for (v = line + nlen + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (k = 0; k + 1 < vallen && v[k] != '\0' && v[k] != '\r' && v[k] != '\n'; k++)
			val[k] = v[k];
		val[k] = '\0';
		return val;
	}
	return NULL;
}

/*
 * Decodes a chunked body in place.  Returns 1 when the last chunk was seen (with the
 * decoded length in *out), 0 when more input is needed, -1 on malformed input.
 */
static int
dechunk(const char *in, size_t inlen, char *out, size_t *outlen)
{
	size_t pos = 0, o = 0;

	for (;;) {
		const char *nl = memchr(in + pos, '\n', inlen - pos);
		char *end;
		unsigned long size;

		if (nl == NULL)
			return 0;
		if (!isxdigit((unsigned char)in[pos]))
			return -1;
		size = strtoul(in + pos, &end, 16);
		pos = (size_t)(nl - in) + 1;
		if (size == 0) {
			*outlen = o;	/* trailers are ignored; the blank line need not arrive */
			return 1;
		}
		if (inlen - pos < size + 2)
			return 0;
		memmove(out + o, in + pos, size);
		o += size;
		pos += size;
		if (in[pos] == '\r')
			pos++;
		if (in[pos] != '\n')
			return -1;
		pos++;
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "insecure-noverify", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cafile = NULL, *alpn = NULL, *servername = NULL;
	char *host, *port, *path, *resp, *body = NULL, val[64];
	size_t resplen = 0, cap = 65536, hdrlen = 0, bodylen = 0;
	long long content_length = -1;
	uint32_t protocols = 0;
	int insecure = 0, chunked = 0, status = 0, eof = 0, ch;
	struct tls_config *cfg;
	struct tls *ctx;
	ssize_t n;
	int rv;

	while ((ch = getopt_long(argc, argv, "C:a:p:n:t:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'C': cafile = optarg; break;
		case 'a': alpn = optarg; break;
		case 'n': servername = optarg; break;
		case 'I': insecure = 1; break;
		case 't':
			timeout_ms = atoi(optarg) * 1000;
			if (timeout_ms <= 0)
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
	if (argc != 1)
		usage();
	parse_url(argv[0], &host, &port, &path);
	if (servername == NULL)
		servername = host;

	signal(SIGPIPE, SIG_IGN);	/* libtls writes with write(2); nbtls needs no help */

	cfg = config_new();
	config_client(cfg, cafile, alpn, protocols, insecure);
	if ((ctx = tls_client()) == NULL)
		die("tls_client", "failed");
	if (tls_configure(ctx, cfg) == -1)
		die_tls(ctx, "tls_configure");

	sockfd = tcp_connect(host, port, timeout_ms);	/* nonblocking */
	if (tls_connect_socket(ctx, sockfd, servername) == -1)
		die_tls(ctx, "tls_connect_socket");

	while (wait_for(rv = tls_handshake(ctx)))
		;
	if (rv == -1)
		die_tls(ctx, "handshake");
	print_conn_info(ctx);
	{
		const char *alpn_sel = tls_conn_alpn_selected(ctx);
		if (alpn_sel != NULL && strcmp(alpn_sel, "http/1.1") != 0 &&
		    strcmp(alpn_sel, "http/1.0") != 0)
			die("ALPN", "the server chose a protocol other than HTTP/1.x");
	}

	{
		char *req;
		int with_port = strcmp(port, "443") != 0, v6 = strchr(host, ':') != NULL;
		int len = asprintf(&req, "GET %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\n"
		    "User-Agent: " PROG " (" TLSAPI_LIBRARY ")\r\nAccept: */*\r\n"
		    "Connection: close\r\n\r\n", path, v6 ? "[" : "", host, v6 ? "]" : "",
		    with_port ? ":" : "", with_port ? port : "");
		if (len < 0)
			die("request", strerror(ENOMEM));
		write_all_tls(ctx, req, (size_t)len);
		free(req);
	}

	/* Read until the body is complete (by its framing) or the stream ends. */
	if ((resp = malloc(cap + 1)) == NULL)
		die("malloc", strerror(errno));
	for (;;) {
		if (hdrlen != 0) {
			if (content_length >= 0 && resplen - hdrlen >= (size_t)content_length)
				break;
			if (chunked) {
				int r = dechunk(resp + hdrlen, resplen - hdrlen, resp + hdrlen, &bodylen);
				if (r == -1)
					die("response", "malformed chunked body");
				if (r == 1) {
					body = resp + hdrlen;
					break;
				}
			}
		}
		if (resplen == cap) {
			if (cap >= MAX_RESPONSE)
				die("response", "too large");
			cap *= 2;
			if ((resp = realloc(resp, cap + 1)) == NULL)
				die("realloc", strerror(errno));
		}
		n = tls_read(ctx, resp + resplen, cap - resplen);
		if (wait_for(n))
			continue;
		if (n == -1)
			die_tls(ctx, "tls_read");
		if (n == 0) {
			eof = 1;
			break;
		}
		resplen += (size_t)n;
		if (hdrlen == 0) {
			char *end;
			resp[resplen] = '\0';
			if (resplen >= 5 && memcmp(resp, "HTTP/", 5) != 0)
				die("response", "not an HTTP response");
			if ((end = strstr(resp, "\r\n\r\n")) != NULL)
				hdrlen = (size_t)(end - resp) + 4;
			else if ((end = strstr(resp, "\n\n")) != NULL)
				hdrlen = (size_t)(end - resp) + 2;
			if (hdrlen != 0) {
				char *sp = memchr(resp, ' ', hdrlen);
				resp[hdrlen - 1] = '\0';
				status = sp != NULL ? atoi(sp + 1) : 0;
				if (header_value(resp, "Transfer-Encoding", val, sizeof(val)) != NULL &&
				    strcasestr(val, "chunked") != NULL)
					chunked = 1;
				else if (header_value(resp, "Content-Length", val, sizeof(val)) != NULL)
					content_length = atoll(val);
				resp[hdrlen - 1] = '\n';
			}
		}
	}
	if (hdrlen == 0)
		die("response", resplen == 0 ? "empty response" : "incomplete HTTP header");
	if (body == NULL) {
		if (chunked)
			die("response", "chunked body ended early");
		body = resp + hdrlen;
		bodylen = resplen - hdrlen;
		if (content_length >= 0) {
			if (bodylen < (size_t)content_length)
				die("response", "body shorter than its Content-Length");
			bodylen = (size_t)content_length;
		}
	}
	if (bodylen > 0 && fwrite(body, 1, bodylen, stdout) != bodylen)
		die("stdout", strerror(errno));
	if (fflush(stdout) != 0)
		die("stdout", strerror(errno));

	/*
	 * A body that ends with the stream is only complete if close_notify said so: after
	 * a bare EOF tls_close() fails, and so do we.  When the framing ended the body first,
	 * our close_notify is the polite goodbye.
	 */
	while (wait_for(rv = tls_close(ctx)))
		;
	if (rv == -1 && eof)
		die_tls(ctx, "tls_close");
	close(sockfd);
	tls_free(ctx);
	tls_config_free(cfg);
	free(resp);
	free(host);
	free(port);
	free(path);

	if (status < 200 || status > 299) {
		fprintf(stderr, PROG ": server answered HTTP status %d\n", status);
		return 1;
	}
	return 0;
}
