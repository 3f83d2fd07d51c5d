/*
 * common.h: shared helpers of the nbtls C API tests (header-only).
 *
 * - the library header: <nbtls.h>, or Debian's <tls.h> when built with -DCAPI_LIBTLS
 *   (run.sh does that under LIBTLS=1, to check the portable tests against libtls);
 * - check macros that print file:line, the call, its result and tls_error(), and count
 *   failures (CHECK*) or end the program (REQUIRE*);
 * - in-memory circular buffers ("rings") joined to tls_connect_cbs()/tls_accept_cbs()
 *   callbacks, so a client and a server run in one thread with no sockets, no ports and
 *   no sleeps; a driver that runs both handshakes and detects a deadlock by state;
 * - config helpers that load the test PKI made by tests/gen-certs.sh (argv[1]);
 * - a deterministic byte pattern and FNV-1a checksums for the data that is sent.
 */
#ifndef CAPI_COMMON_H
#define CAPI_COMMON_H

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef CAPI_LIBTLS
#include <tls.h>
#define CAPI_IMPL "libtls"
#else
#define CAPI_NBTLS 1
#include <nbtls.h>
#define CAPI_IMPL "nbtls"
#endif

#ifndef TLS_WANT_READ
#define TLS_WANT_READ TLS_WANT_POLLIN
#endif
#ifndef TLS_WANT_WRITE
#define TLS_WANT_WRITE TLS_WANT_POLLOUT
#endif

#define CAPI_UNUSED __attribute__((unused))

/* ---------------------------------------------------------------- checks */

static int capi_failures;
static const char *capi_certdir = ".";
static const char *capi_case = ""; /* printed with every failure */

static CAPI_UNUSED const char *
capi_str(const char *s)
{
	return s != NULL ? s : "(null)";
}

static CAPI_UNUSED void
capi_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: FAIL%s%s%s: ", file, line, capi_case[0] ? " [" : "", capi_case,
	    capi_case[0] ? "]" : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	capi_failures++;
}

#define FAILF(...) capi_fail(__FILE__, __LINE__, __VA_ARGS__)

/* CHECK(cond): counts a failure when cond is false. */
#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			FAILF("CHECK(%s)", #cond);                             \
	} while (0)

/* REQUIRE(cond): ends the test when cond is false. */
#define REQUIRE(cond)                                                          \
	do {                                                                   \
		if (!(cond)) {                                                 \
			FAILF("REQUIRE(%s)", #cond);                           \
			exit(1);                                               \
		}                                                              \
	} while (0)

/* CHECK_RC(ctx, call, expect): call's integer result must equal expect. */
#define CHECK_RC(ctx, call, expect)                                            \
	do {                                                                   \
		long long capi_r_ = (long long)(call);                         \
		long long capi_e_ = (long long)(expect);                       \
		if (capi_r_ != capi_e_)                                        \
			FAILF("%s = %lld, expected %lld (%s); tls_error: %s",  \
			    #call, capi_r_, capi_e_, #expect,                  \
			    capi_str((ctx) != NULL ? tls_error(ctx) : NULL));  \
	} while (0)

/* REQUIRE_RC: as CHECK_RC, but ends the test on a mismatch. */
#define REQUIRE_RC(ctx, call, expect)                                          \
	do {                                                                   \
		int capi_before_ = capi_failures;                              \
		CHECK_RC(ctx, call, expect);                                   \
		if (capi_failures != capi_before_)                             \
			exit(1);                                               \
	} while (0)

/* CHECK_CFG(cfg, call): a config setter must return 0. */
#define CHECK_CFG(cfg, call)                                                   \
	do {                                                                   \
		int capi_r_ = (call);                                          \
		if (capi_r_ != 0) {                                            \
			FAILF("%s = %d, expected 0; tls_config_error: %s",     \
			    #call, capi_r_, capi_str(tls_config_error(cfg)));  \
			exit(1);                                               \
		}                                                              \
	} while (0)

#define CHECK_STR(call, expect)                                                \
	do {                                                                   \
		const char *capi_s_ = (call);                                  \
		const char *capi_x_ = (expect);                                \
		if (capi_s_ == NULL || capi_x_ == NULL ?                       \
		    capi_s_ != capi_x_ : strcmp(capi_s_, capi_x_) != 0)        \
			FAILF("%s = \"%s\", expected \"%s\"", #call,           \
			    capi_str(capi_s_), capi_str(capi_x_));             \
	} while (0)

static CAPI_UNUSED const char *
capi_rc_name(long long rc)
{
	static char buf[32];

	if (rc == TLS_WANT_POLLIN)
		return "WANT_POLLIN";
	if (rc == TLS_WANT_POLLOUT)
		return "WANT_POLLOUT";
	snprintf(buf, sizeof(buf), "%lld", rc);
	return buf;
}

#ifdef CAPI_NBTLS
static CAPI_UNUSED const char *
capi_code_name(int code)
{
	static char buf[32];

	switch (code) {
	case TLS_ERROR_UNKNOWN: return "UNKNOWN";
	case TLS_ERROR_OUT_OF_MEMORY: return "OUT_OF_MEMORY";
	case TLS_ERROR_INVALID_CONTEXT: return "INVALID_CONTEXT";
	case TLS_ERROR_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
	case TLS_ERROR_IO: return "IO";
	case TLS_ERROR_CLOSED: return "CLOSED";
	case TLS_ERROR_TRUNCATED: return "TRUNCATED";
	case TLS_ERROR_PEER_ALERT: return "PEER_ALERT";
	case TLS_ERROR_PROTOCOL: return "PROTOCOL";
	case TLS_ERROR_CERT_EXPIRED: return "CERT_EXPIRED";
	case TLS_ERROR_CERT_NOT_YET_VALID: return "CERT_NOT_YET_VALID";
	case TLS_ERROR_CERT_UNKNOWN_CA: return "CERT_UNKNOWN_CA";
	case TLS_ERROR_CERT_NAME_MISMATCH: return "CERT_NAME_MISMATCH";
	case TLS_ERROR_CERT_BAD_USAGE: return "CERT_BAD_USAGE";
	case TLS_ERROR_CERT_OTHER: return "CERT_OTHER";
	case TLS_ERROR_WRONG_STATE: return "WRONG_STATE";
	case TLS_ERROR_UNSUPPORTED: return "UNSUPPORTED";
	case TLS_ERROR_INTERNAL: return "INTERNAL";
	}
	snprintf(buf, sizeof(buf), "0x%x", (unsigned)code);
	return buf;
}

/* CHECK_CODE(ctx, expect): tls_error_code(ctx) must equal expect. */
#define CHECK_CODE(ctx, expect)                                                \
	do {                                                                   \
		int capi_c_ = tls_error_code(ctx);                             \
		if (capi_c_ != (expect))                                       \
			FAILF("tls_error_code(%s) = %s, expected %s; "         \
			    "tls_error: %s", #ctx, capi_code_name(capi_c_),    \
			    capi_code_name(expect), capi_str(tls_error(ctx))); \
	} while (0)
#endif

/* Returns 0 when the test passed, 1 when any check failed; prints a summary line. */
static CAPI_UNUSED int
capi_finish(const char *name)
{
	if (capi_failures == 0)
		printf("%s (%s): ok\n", name, CAPI_IMPL);
	else
		printf("%s (%s): %d check(s) failed\n", name, CAPI_IMPL, capi_failures);
	fflush(stdout);
	return capi_failures == 0 ? 0 : 1;
}

static CAPI_UNUSED void
capi_init(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: %s CERTDIR\n", argv[0]);
		exit(2);
	}
	capi_certdir = argv[1];
#ifdef CAPI_LIBTLS
	REQUIRE(tls_init() == 0);
#endif
}

/* ------------------------------------------------------------ data pattern */

/* The byte at offset i of stream `seed`: a cheap hash, so misordering is caught. */
static CAPI_UNUSED unsigned char
pattern_byte(uint32_t seed, size_t i)
{
	uint32_t x = seed * 2654435761u ^ ((uint32_t)i * 40503u) ^ (uint32_t)(i >> 16);

	x ^= x >> 13;
	x *= 0x5bd1e995u;
	x ^= x >> 15;
	return (unsigned char)x;
}

static CAPI_UNUSED void
pattern_fill(uint32_t seed, size_t off, unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern_byte(seed, off + i);
}

static CAPI_UNUSED uint64_t
fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}
#define FNV_INIT 14695981039346656037ull

/*
 * A received stream: checks every byte against the pattern as it arrives and keeps a
 * checksum of what was received and of what should have been.
 */
struct stream_check {
	uint32_t seed;
	size_t got;
	size_t first_bad; /* SIZE_MAX when every byte matched */
	uint64_t sum_got, sum_want;
};

static CAPI_UNUSED void
stream_check_init(struct stream_check *s, uint32_t seed)
{
	s->seed = seed;
	s->got = 0;
	s->first_bad = SIZE_MAX;
	s->sum_got = s->sum_want = FNV_INIT;
}

static CAPI_UNUSED void
stream_check_add(struct stream_check *s, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char w = pattern_byte(s->seed, s->got + i);
		if (p[i] != w && s->first_bad == SIZE_MAX)
			s->first_bad = s->got + i;
		s->sum_want = fnv1a(s->sum_want, &w, 1);
	}
	s->sum_got = fnv1a(s->sum_got, p, n);
	s->got += n;
}

/* Checks that exactly `total` bytes arrived, all matching. */
#define CHECK_STREAM(s, total)                                                 \
	do {                                                                   \
		if ((s)->got != (size_t)(total))                               \
			FAILF("stream %s: received %zu bytes, expected %zu",   \
			    #s, (s)->got, (size_t)(total));                    \
		if ((s)->first_bad != SIZE_MAX)                                \
			FAILF("stream %s: first wrong byte at offset %zu",     \
			    #s, (s)->first_bad);                               \
		if ((s)->sum_got != (s)->sum_want)                             \
			FAILF("stream %s: checksum %016llx, expected %016llx", \
			    #s, (unsigned long long)(s)->sum_got,              \
			    (unsigned long long)(s)->sum_want);                \
	} while (0)

/* ------------------------------------------------------------------- rings */

struct ring {
	unsigned char *buf;
	size_t cap, head, len;
	int eof;          /* the writer has closed: reads see 0 once empty */
	int reader_gone;  /* the reader has closed: writes fail with EPIPE */
	uint64_t total_in, total_out;
};

static CAPI_UNUSED void
ring_init(struct ring *r, size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->cap = cap;
	r->buf = malloc(cap);
	REQUIRE(r->buf != NULL);
}

static CAPI_UNUSED void
ring_free(struct ring *r)
{
	free(r->buf);
	r->buf = NULL;
}

static CAPI_UNUSED size_t
ring_put(struct ring *r, const void *p, size_t n)
{
	const unsigned char *src = p;
	size_t done = 0;

	while (done < n && r->len < r->cap) {
		size_t tail = (r->head + r->len) % r->cap;
		size_t room = r->cap - r->len;
		size_t chunk = r->cap - tail;
		if (chunk > room)
			chunk = room;
		if (chunk > n - done)
			chunk = n - done;
		memcpy(r->buf + tail, src + done, chunk);
		r->len += chunk;
		done += chunk;
	}
	r->total_in += done;
	return done;
}

static CAPI_UNUSED size_t
ring_get(struct ring *r, void *p, size_t n)
{
	unsigned char *dst = p;
	size_t done = 0;

	while (done < n && r->len > 0) {
		size_t chunk = r->cap - r->head;
		if (chunk > r->len)
			chunk = r->len;
		if (chunk > n - done)
			chunk = n - done;
		if (dst != NULL)
			memcpy(dst + done, r->buf + r->head, chunk);
		r->head = (r->head + chunk) % r->cap;
		r->len -= chunk;
		done += chunk;
	}
	r->total_out += done;
	return done;
}

/* Throws away everything queued (a peer that reads and discards). */
static CAPI_UNUSED size_t
ring_discard(struct ring *r)
{
	return ring_get(r, NULL, r->len);
}

/*
 * One end of a pipe: reads from rx, writes to tx. The callbacks return
 * TLS_WANT_POLLIN when rx is empty and TLS_WANT_POLLOUT when tx is full.
 */
struct endpoint {
	const char *name;
	struct ring *rx, *tx;
	struct tls *ctx;      /* when set, callbacks check they are called with it */
	int bad_ctx;          /* callbacks called with another context */
	size_t read_limit;    /* when non-zero: at most this many bytes, then EOF */
	uint64_t reads, writes;
};

static CAPI_UNUSED ssize_t
ep_read_cb(struct tls *ctx, void *buf, size_t len, void *arg)
{
	struct endpoint *e = arg;
	size_t n;

	if (e->ctx != NULL && ctx != e->ctx)
		e->bad_ctx++;
	e->reads++;
	if (e->read_limit != 0) {
		size_t left = e->read_limit > e->rx->total_out ?
		    e->read_limit - (size_t)e->rx->total_out : 0;
		if (left == 0)
			return 0;
		if (len > left)
			len = left;
	}
	if (len == 0)
		return 0;
	if (e->rx->len == 0)
		return e->rx->eof ? 0 : TLS_WANT_POLLIN;
	n = ring_get(e->rx, buf, len);
	return (ssize_t)n;
}

static CAPI_UNUSED ssize_t
ep_write_cb(struct tls *ctx, const void *buf, size_t len, void *arg)
{
	struct endpoint *e = arg;

	if (e->ctx != NULL && ctx != e->ctx)
		e->bad_ctx++;
	e->writes++;
	if (e->tx->reader_gone) {
		errno = EPIPE;
		return -1;
	}
	if (len == 0)
		return 0;
	if (e->tx->len == e->tx->cap)
		return TLS_WANT_POLLOUT;
	return (ssize_t)ring_put(e->tx, buf, len);
}

/* A client end and a server end joined by two rings of one capacity. */
struct pipe2 {
	struct ring c2s, s2c;
	struct endpoint cli, srv;
};

static CAPI_UNUSED void
pipe2_init(struct pipe2 *p, size_t cap)
{
	ring_init(&p->c2s, cap);
	ring_init(&p->s2c, cap);
	memset(&p->cli, 0, sizeof(p->cli));
	memset(&p->srv, 0, sizeof(p->srv));
	p->cli.name = "client";
	p->cli.rx = &p->s2c;
	p->cli.tx = &p->c2s;
	p->srv.name = "server";
	p->srv.rx = &p->c2s;
	p->srv.tx = &p->s2c;
}

static CAPI_UNUSED void
pipe2_free(struct pipe2 *p)
{
	ring_free(&p->c2s);
	ring_free(&p->s2c);
}

/* Everything that, when unchanged over a round, shows that nobody moved. */
static CAPI_UNUSED uint64_t
pipe2_progress(const struct pipe2 *p)
{
	return p->c2s.total_in * 3 + p->c2s.total_out * 5 + p->s2c.total_in * 7 +
	    p->s2c.total_out * 11;
}

/* -------------------------------------------------------------- configs */

static CAPI_UNUSED char *
cert_path(const char *name)
{
	static char buf[8][1024];
	static int i;
	char *p = buf[i++ % 8];

	snprintf(p, sizeof(buf[0]), "%s/%s", capi_certdir, name);
	return p;
}

/* Reads a whole file of the cert directory; returns a malloc'd buffer. */
static CAPI_UNUSED unsigned char *
cert_read(const char *name, size_t *len)
{
	FILE *f = fopen(cert_path(name), "rb");
	unsigned char *buf;
	long n;

	REQUIRE(f != NULL);
	REQUIRE(fseek(f, 0, SEEK_END) == 0);
	n = ftell(f);
	REQUIRE(n > 0);
	rewind(f);
	buf = malloc((size_t)n);
	REQUIRE(buf != NULL);
	REQUIRE(fread(buf, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* A server config with the keypair NAME.pem/NAME.key; protocols 0 = default. */
static CAPI_UNUSED struct tls_config *
server_config(const char *name, uint32_t protocols, const char *alpn)
{
	struct tls_config *cfg = tls_config_new();
	char cert[64], key[64];

	REQUIRE(cfg != NULL);
	snprintf(cert, sizeof(cert), "%s.pem", name);
	snprintf(key, sizeof(key), "%s.key", name);
	CHECK_CFG(cfg, tls_config_set_keypair_file(cfg, cert_path(cert), cert_path(key)));
	if (protocols != 0)
		CHECK_CFG(cfg, tls_config_set_protocols(cfg, protocols));
	if (alpn != NULL)
		CHECK_CFG(cfg, tls_config_set_alpn(cfg, alpn));
	return cfg;
}

/* A client config that trusts ca.pem only; protocols 0 = default. */
static CAPI_UNUSED struct tls_config *
client_config(uint32_t protocols, const char *alpn)
{
	struct tls_config *cfg = tls_config_new();

	REQUIRE(cfg != NULL);
	CHECK_CFG(cfg, tls_config_set_ca_file(cfg, cert_path("ca.pem")));
	if (protocols != 0)
		CHECK_CFG(cfg, tls_config_set_protocols(cfg, protocols));
	if (alpn != NULL)
		CHECK_CFG(cfg, tls_config_set_alpn(cfg, alpn));
	return cfg;
}

static CAPI_UNUSED const char *
proto_name(uint32_t protocols)
{
	switch (protocols) {
	case TLS_PROTOCOL_TLSv1_2: return "TLSv1.2";
	case TLS_PROTOCOL_TLSv1_3: return "TLSv1.3";
	case 0: return "default";
	}
	return "mixed";
}

/* --------------------------------------------------- connecting over rings */

/* A client and an accepted server context over a pipe2. */
struct conn_pair {
	struct pipe2 pipe;
	struct tls *client, *listener, *server;
};

/*
 * Makes a client (configured with ccfg, connecting to servername) and a server accepted
 * from a listener configured with scfg, over rings of capacity cap. Ends the test when a
 * set-up call fails.
 */
static CAPI_UNUSED void
conn_pair_open(struct conn_pair *cp, size_t cap, struct tls_config *ccfg,
    struct tls_config *scfg, const char *servername)
{
	memset(cp, 0, sizeof(*cp));
	pipe2_init(&cp->pipe, cap);
	cp->client = tls_client();
	cp->listener = tls_server();
	REQUIRE(cp->client != NULL && cp->listener != NULL);
	REQUIRE_RC(cp->client, tls_configure(cp->client, ccfg), 0);
	REQUIRE_RC(cp->listener, tls_configure(cp->listener, scfg), 0);
	REQUIRE_RC(cp->client, tls_connect_cbs(cp->client, ep_read_cb, ep_write_cb,
	    &cp->pipe.cli, servername), 0);
	REQUIRE_RC(cp->listener, tls_accept_cbs(cp->listener, &cp->server, ep_read_cb,
	    ep_write_cb, &cp->pipe.srv), 0);
	REQUIRE(cp->server != NULL);
	cp->pipe.cli.ctx = cp->client;
	cp->pipe.srv.ctx = cp->server;
}

static CAPI_UNUSED void
conn_pair_close(struct conn_pair *cp)
{
	if (cp->pipe.cli.bad_ctx)
		FAILF("client callbacks called %d time(s) with a foreign context",
		    cp->pipe.cli.bad_ctx);
	if (cp->pipe.srv.bad_ctx)
		FAILF("server callbacks called %d time(s) with a foreign context",
		    cp->pipe.srv.bad_ctx);
	tls_free(cp->server);
	tls_free(cp->listener);
	tls_free(cp->client);
	pipe2_free(&cp->pipe);
	memset(cp, 0, sizeof(*cp));
}

/* Outcome of one side of a driven handshake. */
enum hs_outcome { HS_OK = 0, HS_FAILED = 1, HS_STALLED = 2 };

static CAPI_UNUSED const char *
hs_outcome_name(int o)
{
	return o == HS_OK ? "ok" : o == HS_FAILED ? "failed (-1)" : "stalled";
}

/*
 * Calls tls_handshake() on both sides in turn until each has returned 0 or -1, or a
 * round changes nothing (a deadlock, by state). Any other return value is a failure.
 * Returns the rounds taken.
 */
static CAPI_UNUSED long
drive_handshakes(struct conn_pair *cp, int *cout, int *sout)
{
	long rounds = 0;

	*cout = *sout = HS_STALLED;
	for (;;) {
		uint64_t before = pipe2_progress(&cp->pipe);
		int moved = 0;

		rounds++;
		if (*cout == HS_STALLED) {
			int rc = tls_handshake(cp->client);
			if (rc == 0 || rc == -1) {
				*cout = rc == 0 ? HS_OK : HS_FAILED;
				moved = 1;
			} else if (rc != TLS_WANT_POLLIN && rc != TLS_WANT_POLLOUT) {
				FAILF("client tls_handshake = %d", rc);
				*cout = HS_FAILED;
			}
		}
		if (*sout == HS_STALLED) {
			int rc = tls_handshake(cp->server);
			if (rc == 0 || rc == -1) {
				*sout = rc == 0 ? HS_OK : HS_FAILED;
				moved = 1;
			} else if (rc != TLS_WANT_POLLIN && rc != TLS_WANT_POLLOUT) {
				FAILF("server tls_handshake = %d", rc);
				*sout = HS_FAILED;
			}
		}
		if (*cout != HS_STALLED && *sout != HS_STALLED)
			return rounds;
		if (!moved && pipe2_progress(&cp->pipe) == before)
			return rounds; /* nobody can move: the stalled side stays stalled */
	}
}

/* ---------------------------------------------------------- socket pairs */

static CAPI_UNUSED void
set_nonblock(int fd)
{
	REQUIRE(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
}

/* Waits until fd is ready for ev (what the peer did has happened); fails after 10 s. */
static CAPI_UNUSED void
wait_for(int fd, short ev)
{
	struct pollfd pf = { .fd = fd, .events = ev };

	REQUIRE(poll(&pf, 1, 10000) == 1);
}

/* Reads and throws away whatever has arrived on a nonblocking fd; returns the count. */
static CAPI_UNUSED size_t
slurp(int fd)
{
	unsigned char buf[4096];
	size_t total = 0;
	ssize_t n;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		total += (size_t)n;
	return total;
}

/* An AF_UNIX stream socketpair; nonblocking when nonblock; SO_SNDBUF set when sndbuf > 0. */
static CAPI_UNUSED void
make_socketpair(int sv[2], int nonblock, int sndbuf)
{
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	for (int i = 0; i < 2; i++) {
		if (nonblock)
			set_nonblock(sv[i]);
		if (sndbuf > 0)
			REQUIRE(setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &sndbuf,
			    sizeof(sndbuf)) == 0);
	}
}

/*
 * Runs both handshakes of a client and a server on nonblocking sockets of one thread, in
 * turn, until both return 0. Returns 0, or -1 after reporting a failure or a stall (more
 * than 10000 rounds: each round is one nonblocking attempt per side, so that is a
 * deadlock, not slowness).
 */
static CAPI_UNUSED int
fd_handshakes(struct tls *client, struct tls *server)
{
	int cdone = 0, sdone = 0;

	for (int round = 0; round < 10000; round++) {
		if (!cdone) {
			int rc = tls_handshake(client);
			if (rc == 0)
				cdone = 1;
			else if (rc != TLS_WANT_POLLIN && rc != TLS_WANT_POLLOUT) {
				FAILF("client tls_handshake = %s; tls_error: %s",
				    capi_rc_name(rc), capi_str(tls_error(client)));
				return -1;
			}
		}
		if (!sdone) {
			int rc = tls_handshake(server);
			if (rc == 0)
				sdone = 1;
			else if (rc != TLS_WANT_POLLIN && rc != TLS_WANT_POLLOUT) {
				FAILF("server tls_handshake = %s; tls_error: %s",
				    capi_rc_name(rc), capi_str(tls_error(server)));
				return -1;
			}
		}
		if (cdone && sdone)
			return 0;
	}
	FAILF("handshake stalled: client %s, server %s", cdone ? "done" : "waiting",
	    sdone ? "done" : "waiting");
	return -1;
}

/* ------------------------------------------------------ scripted exchanges */

/*
 * A scripted exchange: each side runs a list of steps (handshake, write N bytes, read N
 * bytes, both at once, close) one nonblocking call at a time, so one thread can drive a
 * client and a server over rings or nonblocking fds and tell a deadlock (a round in which
 * neither side can move) from slowness. Side A writes pattern stream `wseed`, side B
 * checks it with the same seed as its `rseed`.
 */
/* XS_READ_EOF reads until tls_read returns 0 (the peer's close_notify or EOF). */
enum xstep_kind { XS_END = 0, XS_HANDSHAKE, XS_WRITE, XS_READ, XS_DUPLEX, XS_CLOSE, XS_READ_EOF };

struct xstep {
	int kind;
	size_t wlen, rlen;
};

struct xside {
	const char *name;
	struct tls *ctx;
	const struct xstep *steps;
	int at;                 /* index of the current step */
	size_t wstep, rstep;    /* bytes done in the current step */
	size_t wtotal;          /* bytes written in all (the pattern offset) */
	uint32_t wseed;
	struct stream_check rx;
	int want;               /* POLLIN/POLLOUT awaited after the last WANT, else 0 */
	int done, failed;
	int eof_code;           /* tls_error_code after XS_READ_EOF's 0 (nbtls only) */
	long calls;
	char err[256];
	unsigned char buf[16384];
};

static CAPI_UNUSED void
xside_init(struct xside *x, const char *name, struct tls *ctx, const struct xstep *steps,
    uint32_t wseed, uint32_t rseed)
{
	memset(x, 0, sizeof(*x));
	x->name = name;
	x->ctx = ctx;
	x->steps = steps;
	x->wseed = wseed;
	stream_check_init(&x->rx, rseed);
}

static CAPI_UNUSED void
xside_fail(struct xside *x, const char *call, long long rc)
{
	if (x->err[0] == '\0')
		snprintf(x->err, sizeof(x->err), "%s: %s = %s (step %d); tls_error: %s", x->name,
		    call, capi_rc_name(rc), x->at, capi_str(tls_error(x->ctx)));
	x->failed = 1;
	x->done = 1;
}

static CAPI_UNUSED void
xside_next(struct xside *x)
{
	x->at++;
	x->wstep = x->rstep = 0;
	if (x->steps[x->at].kind == XS_END)
		x->done = 1;
}

/* One tls_write of the current step; 1 moved, 0 WANT (x->want set), -1 failed. */
static CAPI_UNUSED int
xside_write(struct xside *x, size_t len)
{
	size_t n = len - x->wstep < sizeof(x->buf) ? len - x->wstep : sizeof(x->buf);
	ssize_t rc;

	pattern_fill(x->wseed, x->wtotal, x->buf, n); /* a retry passes the same bytes */
	rc = tls_write(x->ctx, x->buf, n);
	x->calls++;
	if (rc == TLS_WANT_POLLIN || rc == TLS_WANT_POLLOUT) {
		x->want |= rc == TLS_WANT_POLLIN ? POLLIN : POLLOUT;
		return 0;
	}
	if (rc <= 0 || (size_t)rc > n) {
		xside_fail(x, "tls_write", rc);
		return -1;
	}
	x->wstep += (size_t)rc;
	x->wtotal += (size_t)rc;
	return 1;
}

/* One tls_read of the current step; 1 moved, 0 WANT, -1 failed (EOF too early included). */
static CAPI_UNUSED int
xside_read(struct xside *x, size_t len)
{
	size_t n = len - x->rstep < sizeof(x->buf) ? len - x->rstep : sizeof(x->buf);
	ssize_t rc = tls_read(x->ctx, x->buf, n);

	x->calls++;
	if (rc == TLS_WANT_POLLIN || rc == TLS_WANT_POLLOUT) {
		x->want |= rc == TLS_WANT_POLLIN ? POLLIN : POLLOUT;
		return 0;
	}
	if (rc <= 0 || (size_t)rc > n) {
		xside_fail(x, rc == 0 ? "tls_read (end of stream too early)" : "tls_read", rc);
		return -1;
	}
	stream_check_add(&x->rx, x->buf, (size_t)rc);
	x->rstep += (size_t)rc;
	return 1;
}

/*
 * Makes one call (two for a duplex step) of the current step. Returns 1 when something
 * moved (a step ended or bytes went), 0 when every call said WANT (x->want holds the
 * poll events awaited), -1 after a failure.
 */
static CAPI_UNUSED int
xside_step(struct xside *x)
{
	const struct xstep *s;
	int rc, r2;

	if (x->done)
		return 0;
	x->want = 0;
	s = &x->steps[x->at];
	switch (s->kind) {
	case XS_HANDSHAKE:
		rc = tls_handshake(x->ctx);
		x->calls++;
		if (rc == 0) {
			xside_next(x);
			return 1;
		}
		if (rc == TLS_WANT_POLLIN || rc == TLS_WANT_POLLOUT) {
			x->want = rc == TLS_WANT_POLLIN ? POLLIN : POLLOUT;
			return 0;
		}
		xside_fail(x, "tls_handshake", rc);
		return -1;
	case XS_WRITE:
		rc = xside_write(x, s->wlen);
		if (rc == 1 && x->wstep == s->wlen)
			xside_next(x);
		return rc;
	case XS_READ:
		rc = xside_read(x, s->rlen);
		if (rc == 1 && x->rstep == s->rlen)
			xside_next(x);
		return rc;
	case XS_DUPLEX:
		rc = r2 = 0;
		if (x->wstep < s->wlen && (rc = xside_write(x, s->wlen)) < 0)
			return -1;
		if (x->rstep < s->rlen && (r2 = xside_read(x, s->rlen)) < 0)
			return -1;
		if (x->wstep == s->wlen && x->rstep == s->rlen) {
			xside_next(x);
			return 1;
		}
		return rc || r2;
	case XS_READ_EOF: {
		ssize_t n = tls_read(x->ctx, x->buf, sizeof(x->buf));
		x->calls++;
		if (n == 0) {
#ifdef CAPI_NBTLS
			x->eof_code = tls_error_code(x->ctx);
#endif
			xside_next(x);
			return 1;
		}
		if (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT) {
			x->want = n == TLS_WANT_POLLIN ? POLLIN : POLLOUT;
			return 0;
		}
		if (n < 0) {
			xside_fail(x, "tls_read (waiting for the end of stream)", n);
			return -1;
		}
		stream_check_add(&x->rx, x->buf, (size_t)n);
		return 1;
	}
	case XS_CLOSE:
		rc = tls_close(x->ctx);
		x->calls++;
		if (rc == 0) {
			xside_next(x);
			return 1;
		}
		if (rc == TLS_WANT_POLLIN || rc == TLS_WANT_POLLOUT) {
			x->want = rc == TLS_WANT_POLLIN ? POLLIN : POLLOUT;
			return 0;
		}
		xside_fail(x, "tls_close", rc);
		return -1;
	}
	x->done = 1;
	return 0;
}

enum xoutcome { XO_DONE = 0, XO_DEADLOCK = 1, XO_FAILED = 2, XO_SPIN = 3 };

static CAPI_UNUSED const char *
xoutcome_name(int o)
{
	switch (o) {
	case XO_DONE: return "completed";
	case XO_DEADLOCK: return "deadlocked";
	case XO_FAILED: return "failed";
	case XO_SPIN: return "spun";
	}
	return "?";
}

/*
 * Drives two sides over a pipe2 (callback transport) until both finished, one failed, or
 * two rounds in a row in which neither side moved and no ring changed: a deadlock, by
 * state. XO_SPIN after max_rounds rounds with progress (a livelock: a bug). Bytes sent to a
 * side that has finished are thrown away, as a closed socket's would be.
 */
static CAPI_UNUSED int
xrun_rings(struct pipe2 *p, struct xside *a, struct xside *b, long max_rounds)
{
	int idle = 0;

	for (long round = 0; round < max_rounds; round++) {
		uint64_t before = pipe2_progress(p);
		int ma = xside_step(a);
		int mb = xside_step(b);

		if (a->failed || b->failed)
			return XO_FAILED;
		if (a->done && b->done)
			return XO_DONE;
		if (a->done)
			ring_discard(p->cli.ctx == a->ctx ? &p->s2c : &p->c2s);
		if (b->done)
			ring_discard(p->cli.ctx == b->ctx ? &p->s2c : &p->c2s);
		if (ma == 0 && mb == 0 && pipe2_progress(p) == before) {
			if (++idle >= 2)
				return XO_DEADLOCK;
		} else {
			idle = 0;
		}
	}
	return XO_SPIN;
}

/*
 * Drives two sides over nonblocking fds afd/bfd (one thread, one poll loop) until both
 * finished, one failed, or a deadlock: a round in which both sides said WANT and poll()
 * with timeout 0 finds neither side's awaited event ready. When settle_ms > 0 (TCP, whose
 * window updates may lag a read), a poll that finds nothing is repeated with that timeout,
 * and only `settle_rounds` such empty polls in a row make a deadlock: a bounded
 * no-progress watchdog counted in rounds.
 */
static CAPI_UNUSED int
xrun_fds(struct xside *a, int afd, struct xside *b, int bfd, int settle_ms, int settle_rounds,
    long max_rounds)
{
	int empty = 0;

	for (long round = 0; round < max_rounds; round++) {
		int ma = xside_step(a);
		int mb = xside_step(b);
		struct pollfd pf[2];
		int n = 0, r;

		if (a->failed || b->failed)
			return XO_FAILED;
		if (a->done && b->done)
			return XO_DONE;
		if (ma != 0 || mb != 0) {
			empty = 0;
			continue;
		}
		if (!a->done)
			pf[n++] = (struct pollfd){ .fd = afd, .events = (short)a->want };
		if (!b->done)
			pf[n++] = (struct pollfd){ .fd = bfd, .events = (short)b->want };
		r = poll(pf, (nfds_t)n, 0);
		if (r == 0 && settle_ms > 0 && ++empty < settle_rounds)
			r = poll(pf, (nfds_t)n, settle_ms);
		if (r == 0 && (settle_ms == 0 || empty >= settle_rounds))
			return XO_DEADLOCK;
		if (r > 0)
			empty = 0;
	}
	return XO_SPIN;
}

/* ------------------------------------------- scripted exchanges in two threads */

#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>

/*
 * One side of a scripted exchange on a blocking fd, in its own thread. xrun_threads()
 * watches both: a deadlock is both threads blocked in a write system call
 * (/proc/self/task/TID/syscall) at two samples with neither scheduled in between (its
 * context-switch counts unchanged), so both were blocked at once with nobody left to read;
 * then shutdown(2) on both fds ends it, so nothing hangs and slowness cannot fake one.
 */
struct xthread {
	struct xside *x;
	pid_t tid;
	long wants;       /* WANT codes seen (never expected on a blocking fd) */
	int finished;
	int at_deadlock;  /* x->at when the deadlock was seen, else -1 */
};

static pthread_mutex_t xthread_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t xthread_cv = PTHREAD_COND_INITIALIZER;

static CAPI_UNUSED void *
xthread_main(void *arg)
{
	struct xthread *t = arg;

	pthread_mutex_lock(&xthread_mu);
	t->tid = (pid_t)syscall(SYS_gettid);
	pthread_cond_broadcast(&xthread_cv);
	pthread_mutex_unlock(&xthread_mu);
	while (!t->x->done) {
		if (xside_step(t->x) == 0 && !t->x->done && ++t->wants > 1000)
			xside_fail(t->x, "a WANT code on a blocking fd, 1000 times", 0);
	}
	pthread_mutex_lock(&xthread_mu);
	t->finished = 1;
	pthread_cond_broadcast(&xthread_cv);
	pthread_mutex_unlock(&xthread_mu);
	return NULL;
}

struct xsample {
	long nr;            /* system call number, -1 when running */
	long long switches; /* voluntary + involuntary context switches, -1 unknown */
};

static CAPI_UNUSED struct xsample
xthread_sample(pid_t tid)
{
	struct xsample s = { -1, -1 };
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(line, sizeof(line), f) != NULL && line[0] >= '0' && line[0] <= '9')
			s.nr = strtol(line, NULL, 10);
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	if ((f = fopen(path, "r")) != NULL) {
		long long v;
		s.switches = 0;
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "voluntary_ctxt_switches: %lld", &v) == 1 ||
			    sscanf(line, "nonvoluntary_ctxt_switches: %lld", &v) == 1)
				s.switches += v;
		fclose(f);
	}
	return s;
}

static CAPI_UNUSED int
xsyscall_is_write(long nr)
{
	return nr == SYS_write || nr == SYS_writev || nr == SYS_sendto || nr == SYS_sendmsg;
}

/*
 * Runs sides a (on blocking fd afd) and b (on bfd) in two threads. Returns XO_DONE,
 * XO_FAILED or XO_DEADLOCK (after shutdown(2) of both fds; ta/tb->at_deadlock then tell
 * where each side stood).
 */
static CAPI_UNUSED int
xrun_threads(struct xside *a, int afd, struct xside *b, int bfd, struct xthread *ta,
    struct xthread *tb)
{
	pthread_t pa, pb;
	struct xsample a0 = { -1, -1 }, b0 = { -1, -1 };
	int deadlocked = 0;

	memset(ta, 0, sizeof(*ta));
	memset(tb, 0, sizeof(*tb));
	ta->x = a;
	tb->x = b;
	ta->at_deadlock = tb->at_deadlock = -1;
	REQUIRE(pthread_create(&pa, NULL, xthread_main, ta) == 0);
	REQUIRE(pthread_create(&pb, NULL, xthread_main, tb) == 0);
	pthread_mutex_lock(&xthread_mu);
	while (ta->tid == 0 || tb->tid == 0)
		pthread_cond_wait(&xthread_cv, &xthread_mu);
	while (!(ta->finished && tb->finished)) {
		struct xsample sa, sb;
		struct timespec ts;
		int both_running = !ta->finished && !tb->finished;

		pthread_mutex_unlock(&xthread_mu);
		sa = xthread_sample(ta->tid);
		sb = xthread_sample(tb->tid);
		if (both_running && xsyscall_is_write(sa.nr) && xsyscall_is_write(sb.nr) &&
		    sa.nr == a0.nr && sb.nr == b0.nr && sa.switches == a0.switches &&
		    sb.switches == b0.switches && sa.switches >= 0 && sb.switches >= 0) {
			ta->at_deadlock = a->at; /* both blocked: nothing changes these */
			tb->at_deadlock = b->at;
			deadlocked = 1;
			shutdown(afd, SHUT_RDWR);
			shutdown(bfd, SHUT_RDWR);
			pthread_mutex_lock(&xthread_mu);
			break;
		}
		a0 = sa;
		b0 = sb;
		/* Wait for a thread to finish, or look again in a millisecond: the verdict is
		 * the state above, never the time waited. */
		pthread_mutex_lock(&xthread_mu);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (!(ta->finished && tb->finished))
			pthread_cond_timedwait(&xthread_cv, &xthread_mu, &ts);
	}
	pthread_mutex_unlock(&xthread_mu);
	pthread_join(pa, NULL);
	pthread_join(pb, NULL);
	if (deadlocked)
		return XO_DEADLOCK;
	if (a->failed || b->failed)
		return XO_FAILED;
	if (ta->wants || tb->wants)
		FAILF("WANT codes on blocking fds: %s %ld, %s %ld", a->name, ta->wants, b->name,
		    tb->wants);
	return XO_DONE;
}

/* --------------------------------------------- sockets behind callbacks */

#include <arpa/inet.h>
#include <netinet/in.h>

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_DEFINED
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#endif


/* A socket behind callbacks that count their calls; writes do one send(2) per call, as a
 * libevent server's bufferevent-less write callback does. */
struct cbsock {
	int fd;
	long reads, writes;
	/* When outbox is set, writes are kept there instead of sent (the client of case 1). */
	unsigned char *outbox;
	size_t outlen, outcap;
};

static CAPI_UNUSED ssize_t
cbsock_read(struct tls *ctx, void *buf, size_t len, void *arg)
{
	struct cbsock *s = arg;
	ssize_t n;

	(void)ctx;
	s->reads++;
	n = recv(s->fd, buf, len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return TLS_WANT_POLLIN;
	return n;
}

static CAPI_UNUSED ssize_t
cbsock_write(struct tls *ctx, const void *buf, size_t len, void *arg)
{
	struct cbsock *s = arg;
	ssize_t n;

	(void)ctx;
	s->writes++;
	(void)VALGRIND_MAKE_MEM_DEFINED(buf, len);
	if (s->outbox != NULL) {
		if (len > s->outcap - s->outlen)
			return TLS_WANT_POLLOUT;
		memcpy(s->outbox + s->outlen, buf, len);
		s->outlen += len;
		return (ssize_t)len;
	}
	n = send(s->fd, buf, len, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return TLS_WANT_POLLOUT;
	return n;
}

/* Sends the outbox in one send(2). */
static CAPI_UNUSED void
cbsock_send_outbox(struct cbsock *s)
{
	if (s->outlen == 0)
		return;
	REQUIRE(send(s->fd, s->outbox, s->outlen, MSG_NOSIGNAL) == (ssize_t)s->outlen);
	s->outlen = 0;
}

/* A connected TCP loopback pair, both ends nonblocking; rcvbuf > 0 sets the client's
 * receive buffer (before connect), sndbuf > 0 the server's send buffer. */
static CAPI_UNUSED void
tcp_loopback_pair(int fds[2], int rcvbuf, int sndbuf)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	REQUIRE(l >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (sndbuf > 0)
		REQUIRE(setsockopt(l, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) == 0);
	REQUIRE(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0);
	REQUIRE(listen(l, 1) == 0);
	REQUIRE(getsockname(l, (struct sockaddr *)&a, &alen) == 0);
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	REQUIRE(fds[0] >= 0);
	if (rcvbuf > 0)
		REQUIRE(setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) == 0);
	REQUIRE(connect(fds[0], (struct sockaddr *)&a, sizeof(a)) == 0);
	fds[1] = accept(l, NULL, NULL);
	REQUIRE(fds[1] >= 0);
	close(l);
	set_nonblock(fds[0]);
	set_nonblock(fds[1]);
}

static CAPI_UNUSED int
readable_within(int fd, int ms)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };

	return poll(&pf, 1, ms) == 1 && (pf.revents & POLLIN);
}

#endif /* CAPI_COMMON_H */
