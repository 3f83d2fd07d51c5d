/*
 * blocking-client: a minimal HTTPS/1.0 client on blocking sockets, no event loop.
 *
 *   blocking-client [-C cafile] [-a alpn-list] [-p 1.2|1.3] [-n servername]
 *                   [--insecure-noverify] host port [path]
 *   options for sessions and client certificates:
 *                   [-r] [-c cert -k key] [--peer] [--keylog]
 *   option for latency:  [--repeat N]
 *
 * Connects to host:port with socket()+connect(), starts TLS with
 * tls_connect_socket() (the server name is -n, else host), sends
 * "GET path HTTP/1.0", reads the response to the end of the stream and writes
 * its body to stdout.  After the handshake it prints one line on stderr:
 *
 *   nbtls: version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 alpn=http/1.1
 *
 * (alpn=- when none was negotiated).  Exit status 0 only when the TLS exchange
 * succeeded and the server answered 2xx; otherwise the error (tls_error()) goes
 * to stderr and the status is 1.  Certificates are verified by default
 * (system trust store, or -C); --insecure-noverify turns off all checks.
 *
 * On a blocking socket a WANT code is not expected, but libtls (and OpenSSL
 * under it) can return one, e.g. after TLS 1.3 session tickets arrive: as the
 * tls_read(3) man page says, the call is simply repeated.
 *
 * -r fetches twice with one tls_config (so the second connection can resume the
 * session the first one got) and prints "nbtls: resumed=0|1" on stderr after each
 * handshake.  -c/-k send a client certificate (tls_config_set_keypair_file).  --peer
 * prints the server's certificate as the tls_peer_cert_* accessors report it:
 * "nbtls: peer provided=1 subject=... issuer=... hash=... notbefore=EPOCH
 * notafter=EPOCH", "nbtls: peer contains NAME=0|1" for the server name,
 * "nbtls: peer common_name=CN" (nbtls only), then "nbtls: peer chain" and the
 * PEM chain.  --keylog (nbtls only) appends the handshake secrets to the file
 * SSLKEYLOGFILE names (tls_config_set_keylog_file_from_env).
 *
 * --repeat N fetches N times with one tls_config (so later connections may resume) and
 * prints "nbtls: connect-to-reply ms=X.XXX" on stderr for each: the wall-clock time from
 * before connect() to the first bytes of the response, so a latency test pays process
 * start-up once, not once per connection.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG "blocking-client"
#include "tlsapi.h"
#include "util.h"

#define MAX_HEADER (64 * 1024)

/* Monotonic time in milliseconds, with the fraction (--repeat). */
static double
now_ms_frac(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
usage(void)
{
	fprintf(stderr, "usage: " PROG " [-C cafile] [-a alpn-list] [-p 1.2|1.3] "
	    "[-n servername] [--insecure-noverify] host port [path]\n"
	    "       [-r] [-c cert -k key] [--peer] [--keylog] [--repeat N]\n");
	exit(1);
}

static void
write_all_tls(struct tls *ctx, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = tls_write(ctx, buf, len);
		if (is_want(n))
			continue;
		if (n == -1)
			die_tls(ctx, "tls_write");
		buf += n;
		len -= (size_t)n;
	}
}

static void
write_all_stdout(const char *buf, size_t len)
{
	if (len > 0 && fwrite(buf, 1, len, stdout) != len)
		die("stdout", strerror(errno));
}

/* Prints the peer certificate as the tls_peer_cert_* accessors report it (--peer). */
static void
print_peer(struct tls *ctx, const char *name)
{
	const uint8_t *pem;
	size_t len = 0;

	fprintf(stderr, "nbtls: peer provided=%d subject=%s issuer=%s hash=%s notbefore=%lld "
	    "notafter=%lld\n", tls_peer_cert_provided(ctx), or_dash(tls_peer_cert_subject(ctx)),
	    or_dash(tls_peer_cert_issuer(ctx)), or_dash(tls_peer_cert_hash(ctx)),
	    (long long)tls_peer_cert_notbefore(ctx), (long long)tls_peer_cert_notafter(ctx));
	fprintf(stderr, "nbtls: peer contains %s=%d\n", name, tls_peer_cert_contains_name(ctx, name));
#ifndef USE_LIBTLS
	/* Newer LibreSSL's; Debian's libtls 3.7 does not have it. */
	fprintf(stderr, "nbtls: peer common_name=%s\n", or_dash(tls_peer_cert_common_name(ctx)));
#endif
	fprintf(stderr, "nbtls: peer chain\n");
	if ((pem = tls_peer_cert_chain_pem(ctx, &len)) != NULL)
		fwrite(pem, 1, len, stderr);
}

/*
 * One connection: handshake, GET path, body to stdout, close. Returns the HTTP status.
 * With report, prints whether the session was resumed; with timing, the time from
 * connect() to the first bytes of the response.
 */
static int
fetch(struct tls_config *cfg, const char *host, const char *port, const char *path,
    const char *servername, int report, int peer, int timing)
{
	double t0;
	struct tls *ctx;
	char req[2048];
	char *hdr;
	size_t hdrlen = 0;
	int in_header = 1, status = 0, fd, rv;
	ssize_t n;

	if ((ctx = tls_client()) == NULL)
		die("tls_client", "failed");
	if (tls_configure(ctx, cfg) == -1)
		die_tls(ctx, "tls_configure");

	t0 = now_ms_frac();
	fd = tcp_connect(host, port, -1);	/* a plain blocking socket */
	if (tls_connect_socket(ctx, fd, servername != NULL ? servername : host) == -1)
		die_tls(ctx, "tls_connect_socket");

	while (is_want(rv = tls_handshake(ctx)))
		;
	if (rv == -1)
		die_tls(ctx, "handshake");
	print_conn_info(ctx);
	if (report)
		fprintf(stderr, "nbtls: resumed=%d\n", tls_conn_session_resumed(ctx));
	if (peer)
		print_peer(ctx, servername != NULL ? servername : host);

	{
		const char *hostname = servername != NULL ? servername : host;
		int with_port = strcmp(port, "443") != 0;
		int len = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s%s%s\r\n\r\n",
		    path, hostname, with_port ? ":" : "", with_port ? port : "");
		if (len < 0 || (size_t)len >= sizeof(req))
			die("request", "too long");
		write_all_tls(ctx, req, (size_t)len);
	}

	/* Read to the end of the stream; strip the HTTP header, print the body. */
	if ((hdr = malloc(MAX_HEADER)) == NULL)
		die("malloc", strerror(errno));
	for (;;) {
		char buf[16384];
		n = tls_read(ctx, buf, sizeof(buf));
		if (is_want(n))
			continue;
		if (n == -1)
			die_tls(ctx, "tls_read");
		if (n == 0)
			break;
		if (timing) {
			fprintf(stderr, "nbtls: connect-to-reply ms=%.3f\n", now_ms_frac() - t0);
			timing = 0;
		}
		if (!in_header) {
			write_all_stdout(buf, (size_t)n);
			continue;
		}
		if (hdrlen + (size_t)n > MAX_HEADER)
			die("response", "HTTP header too long");
		memcpy(hdr + hdrlen, buf, (size_t)n);
		hdrlen += (size_t)n;
		if (hdrlen >= 5 && memcmp(hdr, "HTTP/", 5) != 0)
			die("response", "not an HTTP response");
		{
			char *end = memmem(hdr, hdrlen, "\r\n\r\n", 4);
			size_t skip = 4;
			if (end == NULL) {
				end = memmem(hdr, hdrlen, "\n\n", 2);
				skip = 2;
			}
			if (end != NULL) {
				size_t bodyoff = (size_t)(end - hdr) + skip;
				char *sp = memchr(hdr, ' ', (size_t)(end - hdr));
				status = sp != NULL ? atoi(sp + 1) : 0;
				write_all_stdout(hdr + bodyoff, hdrlen - bodyoff);
				in_header = 0;
			}
		}
	}
	if (in_header)
		die("response", hdrlen == 0 ? "empty response" : "incomplete HTTP header");
	if (fflush(stdout) != 0)
		die("stdout", strerror(errno));

	/*
	 * An HTTP/1.0 body without Content-Length ends with the stream, and only
	 * the server's close_notify proves it was not cut short.  After a bare EOF
	 * tls_read() still returns 0 but tls_close() fails, and so do we: the body
	 * already went to stdout, but truncation is never silent (exit 1).
	 */
	while (is_want(rv = tls_close(ctx)))
		;
	if (rv == -1)
		die_tls(ctx, "tls_close");
	close(fd);
	tls_free(ctx);
	free(hdr);
	return status;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "insecure-noverify", no_argument, NULL, 'I' },
		{ "peer", no_argument, NULL, 'P' },
		{ "keylog", no_argument, NULL, 'L' },
		{ "repeat", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cafile = NULL, *alpn = NULL, *servername = NULL;
	const char *host, *port, *path = "/", *cert = NULL, *key = NULL;
	uint32_t protocols = 0;
	int insecure = 0, ch, rounds = 1, peer = 0, keylog = 0, timing = 0, i;
	long repeat;
	struct tls_config *cfg;

	while ((ch = getopt_long(argc, argv, "C:a:p:n:rc:k:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r': rounds = 2; break;
		case 'R':
			if ((repeat = parse_count(optarg)) < 1 || repeat > 100000)
				usage();
			rounds = (int)repeat;
			timing = 1;
			break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'P': peer = 1; break;
		case 'L': keylog = 1; break;
		case 'C': cafile = optarg; break;
		case 'a': alpn = optarg; break;
		case 'n': servername = optarg; break;
		case 'I': insecure = 1; break;
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
	if (argc < 2 || argc > 3 || (cert == NULL) != (key == NULL))
		usage();
	host = argv[0];
	port = argv[1];
	if (argc == 3)
		path = argv[2];
	if (strlen(path) > 1024 || strpbrk(path, "\r\n") != NULL)
		die("path", "too long or contains a line break");

	/* libtls on OpenSSL writes with write(2): a peer that went away must not kill us. */
	signal(SIGPIPE, SIG_IGN);

	cfg = config_new();
	config_client(cfg, cafile, alpn, protocols, insecure);
	if (cert != NULL && tls_config_set_keypair_file(cfg, cert, key) == -1)
		die("client keypair", tls_config_error(cfg));
	if (keylog)
		config_keylog(cfg);

	for (i = 0; i < rounds; i++) {
		int status = fetch(cfg, host, port, path, servername, rounds > 1, peer, timing);
		if (status < 200 || status > 299) {
			fprintf(stderr, PROG ": server answered HTTP status %d\n", status);
			return 1;
		}
	}
	tls_config_free(cfg);
	return 0;
}
