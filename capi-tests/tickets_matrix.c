/*
 * tickets_matrix: every cell of ticket policy x transport x pattern, with the expected
 * outcome beside it, run and printed as a table.
 *
 * Transports: blocking fd (AF_UNIX socketpair, one thread per side), nonblocking fd (the
 * same, one poll loop), callbacks (in-memory rings of 64 bytes), memory (tls_feed /
 * tls_drain through rings of 64 bytes). Socket buffers are the kernel's smallest; the
 * server issues 16 tickets carrying a 200-byte ALPN name, so the tickets exceed what any
 * of these transports holds in one direction.
 * Patterns: client-first HTTP/1.1 (the client writes a large request before it reads),
 * server-speaks-first (SMTP-like greeting), full duplex (both write and read 64 KiB at
 * once; blocking fd x full duplex needs two threads on one connection, which the contract
 * forbids: n/a).
 * Expected: IMMEDIATE deadlocks the client-first pattern on every transport but memory (a
 * state: see common.h's xrun_*), where tls_feed takes the tickets without a tls_read;
 * everything else completes with every byte in order.
 */
/* capi: nbtls-only */
#include "common.h"

#define RING 64
#define FD_REQ (256 * 1024)
#define MEM_REQ (256 * 1024) /* over the 64 KiB buffer limit: the memory client blocks */
#define DUPLEX (64 * 1024)
#define MAX_ROUNDS (20L * 1000 * 1000)

enum { T_BLOCKING, T_NONBLOCKING, T_CALLBACKS, T_MEMORY, NTRANSPORTS };
enum { P_HTTP, P_SMTP, P_DUPLEX, NPATTERNS };
enum { E_DONE, E_DEADLOCK, E_NA };

static const int policies[] = { TLS_TICKETS_DEFERRED, TLS_TICKETS_OPPORTUNISTIC,
	TLS_TICKETS_IMMEDIATE, TLS_TICKETS_NONE };
static const char *const policy_names[] = { "DEFERRED", "OPPORTUNISTIC", "IMMEDIATE", "NONE" };
static const char *const transport_names[] = { "blocking fd", "nonblocking fd", "callbacks",
	"memory" };
static const char *const pattern_names[] = { "client-first HTTP/1.1", "server-speaks-first",
	"full duplex" };

static char alpn[201];
static struct tls_config *ccfg, *scfg[4];
static struct tls *listener[4];

static int
expected(int pi, int t, int pat)
{
	if (t == T_BLOCKING && pat == P_DUPLEX)
		return E_NA;
	/* On the memory transport tls_feed processes records as they are handed in, so the
	 * client takes the tickets without a tls_read and the IMMEDIATE server is not stuck. */
	if (policies[pi] == TLS_TICKETS_IMMEDIATE && pat == P_HTTP && t != T_MEMORY)
		return E_DEADLOCK;
	return E_DONE;
}

/* The scripts of one pattern, with the request size of one transport. */
static void
scripts(int pat, size_t req, struct xstep cs[6], struct xstep ss[7])
{
	memset(cs, 0, 6 * sizeof(*cs));
	memset(ss, 0, 7 * sizeof(*ss));
	cs[0].kind = ss[0].kind = XS_HANDSHAKE;
	switch (pat) {
	case P_HTTP:
		cs[1] = (struct xstep){ XS_WRITE, req, 0 };
		cs[2] = (struct xstep){ XS_READ, 0, 2 };
		cs[3].kind = XS_CLOSE;
		ss[1] = (struct xstep){ XS_READ, 0, req };
		ss[2] = (struct xstep){ XS_WRITE, 2, 0 };
		ss[3].kind = XS_READ_EOF;
		ss[4].kind = XS_CLOSE;
		break;
	case P_SMTP:
		cs[1] = (struct xstep){ XS_READ, 0, 20 };
		cs[2] = (struct xstep){ XS_WRITE, 10, 0 };
		cs[3] = (struct xstep){ XS_READ, 0, 12 };
		cs[4].kind = XS_CLOSE;
		ss[1] = (struct xstep){ XS_WRITE, 20, 0 };
		ss[2] = (struct xstep){ XS_READ, 0, 10 };
		ss[3] = (struct xstep){ XS_WRITE, 12, 0 };
		ss[4].kind = XS_READ_EOF;
		ss[5].kind = XS_CLOSE;
		break;
	case P_DUPLEX:
		cs[1] = (struct xstep){ XS_DUPLEX, DUPLEX, DUPLEX };
		cs[2].kind = XS_CLOSE;
		ss[1] = (struct xstep){ XS_DUPLEX, DUPLEX, DUPLEX };
		ss[2].kind = XS_READ_EOF;
		ss[3].kind = XS_CLOSE;
		break;
	}
}

/* ------------------------------------------------- the memory transport */

/* Moves ciphertext: drains ctx into tx while tx has room, feeds rx into ctx while it takes
 * it. Returns the bytes moved. */
static size_t
mem_pump(struct tls *ctx, struct ring *tx, struct ring *rx, int *failed)
{
	unsigned char tmp[RING];
	size_t moved = 0;

	for (;;) {
		size_t room = tx->cap - tx->len;
		ssize_t n;

		if (room == 0)
			break;
		n = tls_drain(ctx, tmp, room < sizeof(tmp) ? room : sizeof(tmp));
		if (n < 0) {
			*failed = 1;
			break;
		}
		if (n == 0)
			break;
		ring_put(tx, tmp, (size_t)n);
		moved += (size_t)n;
	}
	while (rx->len > 0) {
		size_t chunk = rx->cap - rx->head;
		ssize_t n;

		if (chunk > rx->len)
			chunk = rx->len;
		n = tls_feed(ctx, rx->buf + rx->head, chunk);
		if (n < 0) {
			/* a failed connection: its error shows at its next call */
			break;
		}
		if (n == 0)
			break;
		ring_get(rx, NULL, (size_t)n);
		moved += (size_t)n;
	}
	if (rx->eof && rx->len == 0 && !rx->reader_gone) {
		tls_feed_eof(ctx);
		rx->reader_gone = 1; /* told once */
	}
	return moved;
}

/* Two memory-transport sides through rings of `cap`: a deadlock is two rounds in a row in
 * which neither side's call moved and no ciphertext moved. */
static int
xrun_mem(struct xside *c, struct xside *s, size_t cap)
{
	struct ring c2s, s2c;
	int idle = 0, failed = 0, o = XO_SPIN;

	ring_init(&c2s, cap);
	ring_init(&s2c, cap);
	for (long round = 0; round < MAX_ROUNDS; round++) {
		size_t moved = 0;
		int mc, ms;

		moved += mem_pump(c->ctx, &c2s, &s2c, &failed);
		moved += mem_pump(s->ctx, &s2c, &c2s, &failed);
		mc = xside_step(c);
		ms = xside_step(s);
		moved += mem_pump(c->ctx, &c2s, &s2c, &failed);
		moved += mem_pump(s->ctx, &s2c, &c2s, &failed);
		if (c->done)
			ring_discard(&s2c); /* a finished side reads nothing more */
		if (s->done)
			ring_discard(&c2s);
		if (c->failed || s->failed || failed) {
			o = XO_FAILED;
			break;
		}
		if (c->done && s->done) {
			o = XO_DONE;
			break;
		}
		if (mc == 0 && ms == 0 && moved == 0) {
			if (++idle >= 2) {
				o = XO_DEADLOCK;
				break;
			}
		} else {
			idle = 0;
		}
	}
	ring_free(&c2s);
	ring_free(&s2c);
	return o;
}

/* ------------------------------------------------------------- one cell */

static void
small_socketpair(int sv[2], int nonblock)
{
	int one = 1;

	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	for (int i = 0; i < 2; i++) {
		REQUIRE(setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &one, sizeof(one)) == 0);
		REQUIRE(setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &one, sizeof(one)) == 0);
		if (nonblock)
			set_nonblock(sv[i]);
	}
}

static int
run_cell(int pi, int t, int pat, char *detail, size_t dlen)
{
	struct xstep cs[6], ss[7];
	struct xside xc, xs;
	struct tls *c = tls_client(), *s = NULL;
	int sv[2] = { -1, -1 }, o;
	struct conn_pair cp;
	size_t req = t == T_CALLBACKS ? 32 * 1024 : t == T_MEMORY ? MEM_REQ : FD_REQ;

	scripts(pat, req, cs, ss);
	REQUIRE(c != NULL);
	REQUIRE_RC(c, tls_configure(c, ccfg), 0);
	switch (t) {
	case T_BLOCKING:
	case T_NONBLOCKING:
		small_socketpair(sv, t == T_NONBLOCKING);
		REQUIRE_RC(c, tls_connect_socket(c, sv[0], "localhost"), 0);
		REQUIRE_RC(listener[pi], tls_accept_socket(listener[pi], &s, sv[1]), 0);
		break;
	case T_CALLBACKS:
		memset(&cp, 0, sizeof(cp));
		pipe2_init(&cp.pipe, RING);
		REQUIRE_RC(c, tls_connect_cbs(c, ep_read_cb, ep_write_cb, &cp.pipe.cli,
		    "localhost"), 0);
		REQUIRE_RC(listener[pi], tls_accept_cbs(listener[pi], &s, ep_read_cb, ep_write_cb,
		    &cp.pipe.srv), 0);
		cp.pipe.cli.ctx = c;
		cp.pipe.srv.ctx = s;
		break;
	case T_MEMORY:
		REQUIRE_RC(c, tls_connect_mem(c, "localhost"), 0);
		REQUIRE_RC(listener[pi], tls_accept_mem(listener[pi], &s), 0);
		break;
	}
	xside_init(&xc, "client", c, cs, 1, 2);
	xside_init(&xs, "server", s, ss, 2, 1);
	switch (t) {
	case T_BLOCKING: {
		struct xthread tc, ts;
		o = xrun_threads(&xc, sv[0], &xs, sv[1], &tc, &ts);
		if (o == XO_DEADLOCK) {
			xc.at = tc.at_deadlock;
			xs.at = ts.at_deadlock;
		}
		break;
	}
	case T_NONBLOCKING:
		o = xrun_fds(&xc, sv[0], &xs, sv[1], 0, 0, MAX_ROUNDS);
		break;
	case T_CALLBACKS:
		o = xrun_rings(&cp.pipe, &xc, &xs, MAX_ROUNDS);
		pipe2_free(&cp.pipe);
		break;
	default:
		o = xrun_mem(&xc, &xs, RING);
		break;
	}
	snprintf(detail, dlen, "client step %d, server step %d, tickets %d%s%s%s%s", xc.at, xs.at,
	    tls_conn_tickets_received(c), xc.err[0] ? "; " : "", xc.err, xs.err[0] ? "; " : "",
	    xs.err);
	if (o == XO_DONE) {
		size_t creq = pat == P_HTTP ? req : pat == P_SMTP ? 10 : DUPLEX;
		size_t sresp = pat == P_HTTP ? 2 : pat == P_SMTP ? 32 : DUPLEX;
		CHECK_STREAM(&xs.rx, creq);
		CHECK_STREAM(&xc.rx, sresp);
		CHECK(xs.eof_code != TLS_ERROR_TRUNCATED);
	}
	if (o == XO_DEADLOCK && (xc.at != 1 || xs.at != 0))
		FAILF("deadlock at client step %d, server step %d: expected the client writing "
		    "its request, the server in its handshake", xc.at, xs.at);
	tls_free(s);
	tls_free(c);
	if (sv[0] >= 0) {
		close(sv[0]);
		close(sv[1]);
	}
	return o;
}

int
main(int argc, char **argv)
{
	int cells = 0, matched = 0;

	capi_init(argc, argv);
	memset(alpn, 'h', sizeof(alpn) - 1);
	ccfg = client_config(TLS_PROTOCOL_TLSv1_3, alpn);
	for (int pi = 0; pi < 4; pi++) {
		scfg[pi] = server_config("server", TLS_PROTOCOL_TLSv1_3, alpn);
		CHECK_CFG(scfg[pi], tls_config_set_ticket_policy(scfg[pi], policies[pi]));
		CHECK_CFG(scfg[pi], tls_config_set_num_tickets(scfg[pi], 16));
		listener[pi] = tls_server();
		REQUIRE(listener[pi] != NULL);
		REQUIRE_RC(listener[pi], tls_configure(listener[pi], scfg[pi]), 0);
	}
	printf("%-13s | %-14s | %-21s | %-10s | %-10s |\n", "policy", "transport", "pattern",
	    "expected", "outcome");
	printf("--------------|----------------|-----------------------|------------|------------|\n");
	for (int pi = 0; pi < 4; pi++) {
		for (int t = 0; t < NTRANSPORTS; t++) {
			for (int pat = 0; pat < NPATTERNS; pat++) {
				int e = expected(pi, t, pat), o;
				const char *es = e == E_NA ? "n/a" : e == E_DEADLOCK ? "deadlocked" :
				    "completed";
				char detail[700], label[96];

				if (e == E_NA) {
					printf("%-13s | %-14s | %-21s | %-10s | %-10s | two threads "
					    "on one connection: forbidden\n", policy_names[pi],
					    transport_names[t], pattern_names[pat], es, "n/a");
					continue;
				}
				snprintf(label, sizeof(label), "%s / %s / %s", policy_names[pi],
				    transport_names[t], pattern_names[pat]);
				capi_case = label;
				cells++;
				o = run_cell(pi, t, pat, detail, sizeof(detail));
				if ((e == E_DEADLOCK) == (o == XO_DEADLOCK) && o != XO_FAILED &&
				    o != XO_SPIN)
					matched++;
				else
					FAILF("%s, expected %s (%s)", xoutcome_name(o), es, detail);
				printf("%-13s | %-14s | %-21s | %-10s | %-10s |%s\n", policy_names[pi],
				    transport_names[t], pattern_names[pat], es, xoutcome_name(o),
				    (e == E_DEADLOCK) == (o == XO_DEADLOCK) ? "" : " MISMATCH");
				capi_case = "";
			}
		}
	}
	printf("%d of %d cells as expected\n", matched, cells);
	for (int pi = 0; pi < 4; pi++) {
		tls_free(listener[pi]);
		tls_config_free(scfg[pi]);
	}
	tls_config_free(ccfg);
	return capi_finish("tickets_matrix");
}
