/*
 * differential.c: one program written only against libtls's <tls.h>, built once against
 * Debian's libtls and once against nbtls (tests/differential/run.sh), that runs a fixed list
 * of scenarios and prints a transcript; run.sh diffs the two transcripts.
 *
 * Client and server run in one thread, joined by two small in-memory pipes behind
 * tls_connect_cbs()/tls_accept_cbs(), so every run is deterministic: no sockets, no ports, no
 * sleeps. Each call is retried while it returns TLS_WANT_POLLIN/TLS_WANT_POLLOUT, stepping the
 * other side in between; the transcript shows each call's final result, with the run of WANT
 * codes before it collapsed into one "WANT*" mark (how many, and which, WANTs an
 * implementation returns is not part of the contract). Error messages are not printed (their
 * wording differs); only whether one is set.
 *
 *   differential CERTDIR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <tls.h>

#define PIPE_CAP 2048 /* small: handshakes and records span many callback calls */
#define ECHO_TOTAL (1024 * 1024)

/* ------------------------------------------------------------- pipes */

struct pipe {
	unsigned char buf[PIPE_CAP];
	size_t head, len;
	int eof; /* the writer has gone: reads return 0 once empty */
	size_t moved;
};

struct end {
	struct pipe *in, *out;
};

static ssize_t
pipe_read(struct tls *ctx, void *buf, size_t len, void *arg)
{
	struct pipe *p = ((struct end *)arg)->in;
	size_t n = 0;

	(void)ctx;
	if (p->len == 0)
		return p->eof ? 0 : TLS_WANT_POLLIN;
	while (n < len && p->len > 0) {
		((unsigned char *)buf)[n++] = p->buf[p->head];
		p->head = (p->head + 1) % PIPE_CAP;
		p->len--;
	}
	p->moved += n;
	return (ssize_t)n;
}

static ssize_t
pipe_write(struct tls *ctx, const void *buf, size_t len, void *arg)
{
	struct pipe *p = ((struct end *)arg)->out;
	size_t n = 0;

	(void)ctx;
	if (p->eof)
		return -1; /* the reader has gone */
	if (p->len == PIPE_CAP)
		return TLS_WANT_POLLOUT;
	while (n < len && p->len < PIPE_CAP) {
		p->buf[(p->head + p->len) % PIPE_CAP] = ((const unsigned char *)buf)[n++];
		p->len++;
	}
	p->moved += n;
	return (ssize_t)n;
}

/* ------------------------------------------------------------- operations */

enum op_kind { OP_NONE, OP_HANDSHAKE, OP_READ, OP_WRITE, OP_CLOSE, OP_ECHO_CLIENT, OP_ECHO_SERVER };

struct op {
	enum op_kind kind;
	const char *name;
	size_t want;     /* bytes to read or write (OP_READ: at most) */
	const char *data; /* OP_WRITE */
	char got[256];    /* OP_READ */
	/* echo state */
	unsigned char *chunk;
	size_t sent, recvd, pend, pend_off;
	uint32_t fnv;
	/* result */
	int done, wants;
	long result;
	int error_set;
};

static uint32_t
fnv1a(uint32_t h, const unsigned char *p, size_t n)
{
	while (n-- > 0)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static int
is_want(long r)
{
	return r == TLS_WANT_POLLIN || r == TLS_WANT_POLLOUT;
}

/* One attempt of an operation: a WANT code, or its final result. */
static long
step(struct tls *ctx, struct op *o)
{
	ssize_t n;

	switch (o->kind) {
	case OP_HANDSHAKE:
		return tls_handshake(ctx);
	case OP_CLOSE:
		return tls_close(ctx);
	case OP_WRITE:
		return tls_write(ctx, o->data, o->want);
	case OP_READ:
		n = tls_read(ctx, o->got, o->want < sizeof(o->got) - 1 ? o->want : sizeof(o->got) - 1);
		if (n >= 0)
			o->got[n] = '\0';
		return n;
	case OP_ECHO_CLIENT:
		/* Write the pattern in 16 KiB calls while reading the echo back. */
		if (o->sent < ECHO_TOTAL) {
			size_t len = ECHO_TOTAL - o->sent < 16384 ? ECHO_TOTAL - o->sent : 16384;
			n = tls_write(ctx, o->chunk + o->sent % 65536, len);
			if (n == -1)
				return -1;
			if (n > 0)
				o->sent += (size_t)n;
		}
		{
			unsigned char buf[16384];
			n = tls_read(ctx, buf, sizeof(buf));
			if (n == -1)
				return -1;
			if (n == 0)
				return -4; /* early end of stream */
			if (n > 0) {
				o->fnv = fnv1a(o->fnv, buf, (size_t)n);
				o->recvd += (size_t)n;
			}
		}
		return o->recvd == ECHO_TOTAL ? 0 : TLS_WANT_POLLIN;
	case OP_ECHO_SERVER:
		/* Read up to 16 KiB, write it back in full, repeat. */
		if (o->pend > 0) {
			n = tls_write(ctx, o->chunk + o->pend_off, o->pend - o->pend_off);
			if (n < 0)
				return n;
			o->pend_off += (size_t)n;
			o->sent += (size_t)n;
			if (o->pend_off == o->pend)
				o->pend = o->pend_off = 0;
			return o->sent == ECHO_TOTAL ? 0 : TLS_WANT_POLLIN;
		}
		n = tls_read(ctx, o->chunk, 16384);
		if (n <= 0)
			return n == 0 ? -4 : n;
		o->fnv = fnv1a(o->fnv, o->chunk, (size_t)n);
		o->recvd += (size_t)n;
		o->pend = (size_t)n;
		return TLS_WANT_POLLOUT;
	default:
		return 0;
	}
}

static const char *scenario = "";

static void
report(const char *side, struct tls *ctx, struct op *o)
{
	printf("%s: %s %s:", scenario, side, o->name);
	if (o->wants)
		printf(" WANT*");
	if (o->done)
		printf(" %ld", o->result);
	else
		printf(" (stalled)");
	if (o->done && o->result == -1)
		printf(" (error %s)", tls_error(ctx) != NULL ? "set" : "not set");
	if (o->kind == OP_READ && o->done && o->result > 0)
		printf(" \"%s\"", o->got);
	if (o->kind == OP_ECHO_CLIENT || o->kind == OP_ECHO_SERVER)
		printf(" (sent %zu, received %zu, fnv %08x)", o->sent, o->recvd, o->fnv);
	printf("\n");
}

struct pair {
	struct tls *client, *server; /* server: the accepted connection */
	struct tls *listener;
	struct pipe c2s, s2c;
	struct end cend, send;
};

/* Bytes moved through the pipes and through the echo loops so far. */
static size_t
progress(const struct pair *p, const struct op *c, const struct op *s)
{
	return p->c2s.moved + p->s2c.moved + c->sent + c->recvd + s->sent + s->recvd;
}

/*
 * Runs one client operation and one server operation together (either may be OP_NONE) until
 * both have a final result. When one side has finished and the other cannot progress, the
 * finished side's pipe is closed, as a program closes its socket.
 */
static void
run(struct pair *p, struct op *c, struct op *s)
{
	int idle = 0;

	c->done = c->kind == OP_NONE;
	s->done = s->kind == OP_NONE;
	c->wants = s->wants = 0;
	while (!c->done || !s->done) {
		size_t before = progress(p, c, s);
		struct op *o[2] = { c, s };
		struct tls *x[2] = { p->client, p->server };
		int i;

		for (i = 0; i < 2; i++) {
			long r;
			if (o[i]->done)
				continue;
			r = step(x[i], o[i]);
			if (is_want(r)) {
				o[i]->wants = 1;
			} else {
				o[i]->done = 1;
				o[i]->result = r;
			}
		}
		if (progress(p, c, s) != before) {
			idle = 0;
			continue;
		}
		if (++idle < 4)
			continue;
		/* No progress: a finished side closes its end; else give up. */
		if (c->done && !s->done && !p->c2s.eof) {
			p->c2s.eof = 1;
			idle = 0;
		} else if (s->done && !c->done && !p->s2c.eof) {
			p->s2c.eof = 1;
			idle = 0;
		} else {
			break;
		}
	}
	if (c->kind != OP_NONE)
		report("client", p->client, c);
	if (s->kind != OP_NONE)
		report("server", p->server, s);
}

static const char *certdir;

static char *
path(const char *name)
{
	static char buf[8][512];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", certdir, name);
	return buf[i];
}

static struct op
mk(enum op_kind kind, const char *name)
{
	struct op o;

	memset(&o, 0, sizeof(o));
	o.kind = kind;
	o.name = name;
	o.fnv = 2166136261u;
	return o;
}

struct setup {
	const char *server_cert, *server_key;
	const char *servername;
	const char *client_protocols, *server_protocols;
	const char *client_alpn, *server_alpn;
};

static int
start(struct pair *p, const struct setup *st)
{
	struct tls_config *cc, *sc;
	uint32_t protos;
	int ok = 1;

	memset(p, 0, sizeof(*p));
	p->cend.in = &p->s2c;
	p->cend.out = &p->c2s;
	p->send.in = &p->c2s;
	p->send.out = &p->s2c;
	if ((cc = tls_config_new()) == NULL || (sc = tls_config_new()) == NULL)
		return 0;
	ok &= tls_config_set_ca_file(cc, path("ca.pem")) == 0;
	ok &= tls_config_set_keypair_file(sc, path(st->server_cert), path(st->server_key)) == 0;
	if (st->client_protocols != NULL) {
		ok &= tls_config_parse_protocols(&protos, st->client_protocols) == 0;
		ok &= tls_config_set_protocols(cc, protos) == 0;
	}
	if (st->server_protocols != NULL) {
		ok &= tls_config_parse_protocols(&protos, st->server_protocols) == 0;
		ok &= tls_config_set_protocols(sc, protos) == 0;
	}
	if (st->client_alpn != NULL)
		ok &= tls_config_set_alpn(cc, st->client_alpn) == 0;
	if (st->server_alpn != NULL)
		ok &= tls_config_set_alpn(sc, st->server_alpn) == 0;
	p->client = tls_client();
	p->listener = tls_server();
	ok &= p->client != NULL && p->listener != NULL;
	ok &= tls_configure(p->client, cc) == 0;
	ok &= tls_configure(p->listener, sc) == 0;
	ok &= tls_connect_cbs(p->client, pipe_read, pipe_write, &p->cend, st->servername) == 0;
	ok &= tls_accept_cbs(p->listener, &p->server, pipe_read, pipe_write, &p->send) == 0;
	tls_config_free(cc);
	tls_config_free(sc);
	printf("%s: setup %s\n", scenario, ok ? "ok" : "FAILED");
	return ok;
}

static void
finish(struct pair *p)
{
	tls_free(p->client);
	tls_free(p->server);
	tls_free(p->listener);
}

static void
handshake(struct pair *p)
{
	struct op c = mk(OP_HANDSHAKE, "tls_handshake"), s = mk(OP_HANDSHAKE, "tls_handshake");

	run(p, &c, &s);
}

static void
failing(const char *name, struct setup st)
{
	struct pair p;

	scenario = name;
	if (start(&p, &st))
		handshake(&p);
	finish(&p);
}

static const struct setup base = { "server.pem", "server.key", "localhost", NULL, NULL, NULL, NULL };

static void
conninfo(struct pair *p)
{
	printf("%s: client tls_conn_version: %s\n", scenario, tls_conn_version(p->client));
	printf("%s: client tls_conn_cipher: %s\n", scenario, tls_conn_cipher(p->client));
	printf("%s: client tls_conn_cipher_strength: %d\n", scenario, tls_conn_cipher_strength(p->client));
	printf("%s: server tls_conn_servername: %s\n", scenario, tls_conn_servername(p->server));
	printf("%s: client tls_peer_cert_provided: %d\n", scenario, tls_peer_cert_provided(p->client));
	printf("%s: server tls_peer_cert_provided: %d\n", scenario, tls_peer_cert_provided(p->server));
	printf("%s: client tls_conn_session_resumed: %d\n", scenario, tls_conn_session_resumed(p->client));
}

static void
success(void)
{
	struct pair p;
	struct op c, s;

	scenario = "success";
	if (start(&p, &base)) {
		handshake(&p);
		conninfo(&p);
		c = mk(OP_HANDSHAKE, "tls_handshake (again)");
		s = mk(OP_NONE, "");
		run(&p, &c, &s);
		c = mk(OP_WRITE, "tls_write");
		c.data = "hello";
		c.want = 5;
		s = mk(OP_READ, "tls_read");
		s.want = 5;
		run(&p, &c, &s);
		c = mk(OP_READ, "tls_read");
		c.want = 5;
		s = mk(OP_WRITE, "tls_write");
		s.data = "world";
		s.want = 5;
		run(&p, &c, &s);
	}
	finish(&p);
}

static void
alpn(const char *name, const char *client, const char *server)
{
	struct pair p;
	struct setup st = base;

	scenario = name;
	st.client_alpn = client;
	st.server_alpn = server;
	if (start(&p, &st)) {
		handshake(&p);
		printf("%s: client tls_conn_alpn_selected: %s\n", scenario,
		    tls_conn_alpn_selected(p.client) ? tls_conn_alpn_selected(p.client) : "(null)");
		printf("%s: server tls_conn_alpn_selected: %s\n", scenario,
		    tls_conn_alpn_selected(p.server) ? tls_conn_alpn_selected(p.server) : "(null)");
	}
	finish(&p);
}

static void
echo(void)
{
	struct pair p;
	struct op c, s;
	size_t i;

	scenario = "echo-1MiB";
	if (start(&p, &base)) {
		handshake(&p);
		c = mk(OP_ECHO_CLIENT, "echo");
		s = mk(OP_ECHO_SERVER, "echo");
		c.chunk = malloc(65536 + 16384);
		s.chunk = malloc(16384);
		for (i = 0; i < 65536 + 16384; i++)
			c.chunk[i] = (unsigned char)(i * 7 + (i >> 8));
		run(&p, &c, &s);
		free(c.chunk);
		free(s.chunk);
	}
	finish(&p);
}

static void
close_notify(void)
{
	struct pair p;
	struct op c, s;

	scenario = "close-notify";
	if (start(&p, &base)) {
		handshake(&p);
		c = mk(OP_CLOSE, "tls_close");
		s = mk(OP_READ, "tls_read");
		s.want = 16;
		run(&p, &c, &s);
		c = mk(OP_NONE, "");
		s = mk(OP_CLOSE, "tls_close");
		run(&p, &c, &s);
	}
	finish(&p);
}

static void
bare_eof(void)
{
	struct pair p;
	struct op c, s;

	scenario = "bare-eof";
	if (start(&p, &base)) {
		handshake(&p);
		/* The client's program exits without tls_close: its end of the pipe closes. */
		p.c2s.eof = 1;
		c = mk(OP_NONE, "");
		s = mk(OP_READ, "tls_read");
		s.want = 16;
		run(&p, &c, &s);
		s = mk(OP_CLOSE, "tls_close");
		run(&p, &c, &s);
	}
	finish(&p);
}

/* Protocol strings as libtls's regress test and tls_config.c parse them: both must agree. */
static void
protocols(void)
{
	static const char *cases[] = {
		"secure", "default", "legacy", "all", "tlsv1", "TLSv1.2", "tlsv1.2:tlsv1.3",
		"tlsv1.2, tlsv1.3", "!tlsv1.0", "!tlsv1.0,!tlsv1.1,!tlsv1.3", "all,!tlsv1.0,!tlsv1.1",
		"tlsv1.2,!tlsv1.2", "tlsv1.2,!tlsv1.2,!tlsv1.3", "!all", "", ",", "tlsv1.2,",
		",tlsv1.2", "tlsv1.2,,tlsv1.3", "-tlsv1.0", "+tlsv1.2", "tlsv1.2 ", "!", "tlsv1.4",
	};
	size_t i;

	scenario = "protocols";
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t v = 0xdead;
		int rc = tls_config_parse_protocols(&v, cases[i]);

		printf("%s: tls_config_parse_protocols \"%s\": %d 0x%x\n", scenario, cases[i], rc,
		    (unsigned)v);
	}
}

int
main(int argc, char **argv)
{
	struct setup st;

	if (argc != 2) {
		fprintf(stderr, "usage: differential CERTDIR\n");
		return 2;
	}
	certdir = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (tls_init() != 0)
		return 1;

	success();
	st = base;
	st.servername = "other.example";
	failing("wrong-name", st);
	st = base;
	st.server_cert = "untrusted.pem";
	st.server_key = "untrusted.key";
	failing("unknown-ca", st);
	st = base;
	st.server_cert = "expired.pem";
	st.server_key = "expired.key";
	failing("expired", st);
	st = base;
	st.client_protocols = "tlsv1.3";
	st.server_protocols = "tlsv1.2";
	failing("version-mismatch", st);
	alpn("alpn", "h2,http/1.1", "http/1.1,spdy/3");
	alpn("alpn-no-overlap", "h2", "http/1.1");
	echo();
	close_notify();
	bare_eof();
	protocols();
	return 0;
}
