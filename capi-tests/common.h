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

/* An AF_UNIX stream socketpair; nonblocking when nonblock; SO_SNDBUF set when sndbuf > 0. */
static CAPI_UNUSED void
make_socketpair(int sv[2], int nonblock, int sndbuf)
{
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	for (int i = 0; i < 2; i++) {
		if (nonblock)
			REQUIRE(fcntl(sv[i], F_SETFL, fcntl(sv[i], F_GETFL) | O_NONBLOCK) == 0);
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

#endif /* CAPI_COMMON_H */
