/*
 * util.h: the few helpers every example would otherwise write again.
 *
 * Only the plumbing lives here (dying with a message, option values, tls_config setup
 * from the common flags, the loopback listener, the WANT codes as poll events); each
 * program's TLS logic stays in its own file.  Define PROG (the program's name, used in
 * messages) before including this file.  Everything is static inline, so a program pays
 * only for what it uses, and it builds against nbtls and against libtls (-DUSE_LIBTLS).
 */
#ifndef EXAMPLES_UTIL_H
#define EXAMPLES_UTIL_H

#ifndef PROG
#error "define PROG before including util.h"
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "tlsapi.h"

/* "PROG: what: msg" on stderr, exit 1. */
static inline _Noreturn void
die(const char *what, const char *msg)
{
	fprintf(stderr, PROG ": %s: %s\n", what, msg != NULL ? msg : "unknown error");
	exit(1);
}

static inline _Noreturn void
die_tls(struct tls *ctx, const char *what)
{
	die(what, tls_error(ctx));
}

static inline const char *
or_dash(const char *s)
{
	return s != NULL ? s : "-";
}

/* Monotonic milliseconds. */
static inline long long
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether a TLS call's result is TLS_WANT_POLLIN or TLS_WANT_POLLOUT. */
static inline int
is_want(ssize_t rv)
{
	return rv == TLS_WANT_POLLIN || rv == TLS_WANT_POLLOUT;
}

/* The poll(2) events a WANT code asks for: POLLIN, POLLOUT, or 0 when rv is not one. */
static inline short
want_events(ssize_t rv)
{
	return rv == TLS_WANT_POLLIN ? POLLIN : rv == TLS_WANT_POLLOUT ? POLLOUT : 0;
}

/* -p 1.2|1.3: the TLS_PROTOCOL_* bit, or 0 for anything else (then usage()). */
static inline uint32_t
parse_protocol(const char *arg)
{
	if (strcmp(arg, "1.2") == 0)
		return TLS_PROTOCOL_TLSv1_2;
	if (strcmp(arg, "1.3") == 0)
		return TLS_PROTOCOL_TLSv1_3;
	return 0;
}

/* A whole number >= 0 (e.g. -n max-connections), or -1 for anything else (then usage()). */
static inline long
parse_count(const char *arg)
{
	char *end;
	long n = strtol(arg, &end, 10);

	return *arg == '\0' || *end != '\0' || n < 0 ? -1 : n;
}

/* tls_init() and a new tls_config, or exit. */
static inline struct tls_config *
config_new(void)
{
	struct tls_config *cfg;

	if (tls_init() != 0)
		die("tls_init", "failed");
	if ((cfg = tls_config_new()) == NULL)
		die("tls_config_new", "failed");
	return cfg;
}

/* -a ALPN list and -p protocol (0: the library's default), when given. */
static inline void
config_alpn_protocols(struct tls_config *cfg, const char *alpn, uint32_t protocols)
{
	if (alpn != NULL && tls_config_set_alpn(cfg, alpn) == -1)
		die("ALPN", tls_config_error(cfg));
	if (protocols != 0 && tls_config_set_protocols(cfg, protocols) == -1)
		die("protocols", tls_config_error(cfg));
}

/* A client's flags: -C CA file, -a, -p, and --insecure-noverify (no checks at all). */
static inline void
config_client(struct tls_config *cfg, const char *cafile, const char *alpn, uint32_t protocols,
    int insecure)
{
	if (cafile != NULL && tls_config_set_ca_file(cfg, cafile) == -1)
		die("CA file", tls_config_error(cfg));
	config_alpn_protocols(cfg, alpn, protocols);
	if (insecure) {
		tls_config_insecure_noverifycert(cfg);
		tls_config_insecure_noverifyname(cfg);
		tls_config_insecure_noverifytime(cfg);
	}
}

/* A server's flags: -c cert -k key, -a, -p. */
static inline void
config_server(struct tls_config *cfg, const char *cert, const char *key, const char *alpn,
    uint32_t protocols)
{
	if (tls_config_set_keypair_file(cfg, cert, key) == -1)
		die("keypair", tls_config_error(cfg));
	config_alpn_protocols(cfg, alpn, protocols);
}

/*
 * -t deferred|opportunistic|immediate|none: nbtls's ticket policy.  Returns -1 for an
 * unknown name (then usage()); built against libtls, which has no such thing, it exits.
 */
static inline int
config_ticket_policy(struct tls_config *cfg, const char *name)
{
#ifdef USE_LIBTLS
	(void)cfg;
	(void)name;
	die("-t", "ticket policies are nbtls's: build against nbtls");
#else
	int p = strcmp(name, "deferred") == 0 ? TLS_TICKETS_DEFERRED :
	    strcmp(name, "opportunistic") == 0 ? TLS_TICKETS_OPPORTUNISTIC :
	    strcmp(name, "immediate") == 0 ? TLS_TICKETS_IMMEDIATE :
	    strcmp(name, "none") == 0 ? TLS_TICKETS_NONE : -1;

	if (p == -1)
		return -1;
	if (tls_config_set_ticket_policy(cfg, p) == -1)
		die("ticket policy", tls_config_error(cfg));
	return 0;
#endif
}

/* --keylog: the handshake secrets to the file SSLKEYLOGFILE names (nbtls only). */
static inline void
config_keylog(struct tls_config *cfg)
{
#ifdef USE_LIBTLS
	(void)cfg;
	die("--keylog", "not supported by libtls");
#else
	if (tls_config_set_keylog_file_from_env(cfg) == -1)
		die("--keylog", tls_config_error(cfg));
#endif
}

/* After the handshake: "nbtls: version=TLSv1.3 cipher=... alpn=http/1.1" on stderr. */
static inline void
print_conn_info(struct tls *ctx)
{
	const char *version = tls_conn_version(ctx), *cipher = tls_conn_cipher(ctx);
	const char *alpn = tls_conn_alpn_selected(ctx);

	fprintf(stderr, "nbtls: version=%s cipher=%s alpn=%s\n", version != NULL ? version : "?",
	    cipher != NULL ? cipher : "?", or_dash(alpn));
}

/*
 * TCP connect to every address getaddrinfo() returns in turn, or exit.  With
 * nonblock_ms >= 0 the socket is nonblocking and each attempt waits that long at most;
 * with -1 it is a plain blocking socket.
 */
static inline int
tcp_connect(const char *host, const char *port, int nonblock_ms)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, gai, saved = 0;
	int flags = SOCK_CLOEXEC | (nonblock_ms >= 0 ? SOCK_NONBLOCK : 0);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0)
		die("getaddrinfo", gai_strerror(gai));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | flags, ai->ai_protocol);
		if (fd == -1) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		if (saved == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			socklen_t elen = sizeof(saved);
			int n;

			while ((n = poll(&p, 1, nonblock_ms)) == -1 && errno == EINTR)
				;
			if (n == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &saved, &elen) == 0 &&
			    saved == 0)
				break;
			if (n == 0)
				saved = ETIMEDOUT;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		die("connect", strerror(saved));
	return fd;
}

/*
 * A nonblocking listening socket on 127.0.0.1:port (0 picks a free one); prints
 * "listening on PORT" on stdout, flushed.  Returns -1 for a bad port number (then
 * usage()); other failures exit.
 */
static inline int
listen_loopback(const char *port, int backlog)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	char *end;
	long p = strtol(port, &end, 10);
	int fd, one = 1;

	if (*port == '\0' || *end != '\0' || p < 0 || p > 65535)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		die("socket", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)p);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		die("bind", strerror(errno));
	if (listen(fd, backlog) == -1)	/* the kernel caps it at net.core.somaxconn */
		die("listen", strerror(errno));
	if (getsockname(fd, (struct sockaddr *)&sin, &slen) == -1)
		die("getsockname", strerror(errno));
	printf("listening on %u\n", (unsigned)ntohs(sin.sin_port));
	fflush(stdout);
	return fd;
}

/* Raises the soft RLIMIT_NOFILE to the hard limit; returns the resulting soft limit. */
static inline long
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("getrlimit", strerror(errno));
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t want = rl.rlim_max;
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			fprintf(stderr, PROG ": setrlimit(%llu): %s\n", (unsigned long long)want,
			    strerror(errno));
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? 1L << 20 : (long)rl.rlim_cur;
}

#endif
