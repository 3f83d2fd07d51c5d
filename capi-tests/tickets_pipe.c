/*
 * tickets_pipe: the classic HTTP/1.1 deadlock, proved over in-memory rings (callback
 * transport) of every capacity C. The client handshakes, writes a request larger than
 * both directions can hold (sized from C and the buffer limit) without reading, then
 * reads a 2-byte answer; the server handshakes, reads the whole request, then answers.
 *
 * T is the size of the server's tickets (tls_pending_deferred right after its handshake).
 * - IMMEDIATE deadlocks (a round in which neither side can move: a state, not a timeout)
 *   for every C from the smallest that completes a handshake up to T - 1, and completes
 *   at C = T (the tickets then fit): the boundary is exact.
 * - DEFERRED, OPPORTUNISTIC (which behaves as DEFERRED on callbacks) and NONE complete
 *   for every C down to 1, and every byte arrives in order.
 * - The client received num_tickets tickets (0 under NONE) once it read the answer.
 * A second, coarser sweep uses 16 tickets, so T exceeds a few KiB.
 */
/* capi: nbtls-only */
#include "common.h"

#include <time.h>

#define LIMIT 1024 /* tls_config_set_buffer_limit: the smallest allowed */

static const int policies[] = { TLS_TICKETS_DEFERRED, TLS_TICKETS_OPPORTUNISTIC,
	TLS_TICKETS_IMMEDIATE, TLS_TICKETS_NONE };
static const char *const policy_names[] = { "DEFERRED", "OPPORTUNISTIC", "IMMEDIATE", "NONE" };

static struct tls_config *ccfg;
static struct tls_config *scfg[4][2]; /* [policy][0: 2 tickets, 1: 16 tickets] */

struct result {
	int outcome;
	int tickets;
	int server_step, client_step;
	char err[600];
};

static struct result
run_one(int pi, int many, size_t cap)
{
	struct conn_pair cp;
	struct xside c, s;
	struct result r;
	size_t req = 2 * (cap + LIMIT) + 8192;
	struct xstep cs[] = { { XS_HANDSHAKE, 0, 0 }, { XS_WRITE, req, 0 }, { XS_READ, 0, 2 },
		{ XS_CLOSE, 0, 0 }, { XS_END, 0, 0 } };
	/* The server reads the client's close_notify before it closes: with C under 24 bytes
	 * two close_notify records crossing would block each other (no ticket involved). */
	struct xstep ss[] = { { XS_HANDSHAKE, 0, 0 }, { XS_READ, 0, req }, { XS_WRITE, 2, 0 },
		{ XS_READ_EOF, 0, 0 }, { XS_CLOSE, 0, 0 }, { XS_END, 0, 0 } };

	memset(&r, 0, sizeof(r));
	conn_pair_open(&cp, cap, ccfg, scfg[pi][many], "localhost");
	xside_init(&c, "client", cp.client, cs, 1, 2);
	xside_init(&s, "server", cp.server, ss, 2, 1);
	r.outcome = xrun_rings(&cp.pipe, &c, &s, 50L * 1000 * 1000);
	r.tickets = tls_conn_tickets_received(cp.client);
	r.client_step = c.at;
	r.server_step = s.at;
	snprintf(r.err, sizeof(r.err), "%s%s%s", c.err, c.err[0] && s.err[0] ? " / " : "", s.err);
	if (r.outcome == XO_DONE) {
		CHECK_STREAM(&s.rx, req);
		CHECK_STREAM(&c.rx, 2);
		CHECK(s.eof_code != TLS_ERROR_TRUNCATED); /* the client's close_notify came */
	}
	conn_pair_close(&cp);
	return r;
}

/* T: the bytes a server holds back after its handshake (DEFERRED, roomy rings). */
static size_t
ticket_bytes(int many)
{
	struct conn_pair cp;
	int co, so;
	size_t t;

	conn_pair_open(&cp, 1 << 16, ccfg, scfg[0][many], "localhost");
	drive_handshakes(&cp, &co, &so);
	REQUIRE(co == HS_OK && so == HS_OK);
	t = tls_pending_deferred(cp.server);
	conn_pair_close(&cp);
	return t;
}

/* Checks one cell; returns 1 when it matched. */
static int
expect(int pi, int many, size_t cap, size_t t, size_t min_hs)
{
	struct result r = run_one(pi, many, cap);
	int want_deadlock = policies[pi] == TLS_TICKETS_IMMEDIATE && cap >= min_hs && cap < t;
	int want_tickets = policies[pi] == TLS_TICKETS_NONE ? 0 : many ? 16 : 2;

	if (policies[pi] == TLS_TICKETS_IMMEDIATE && cap < min_hs)
		return 1; /* below the handshake's own minimum: reported, not asserted */
	if (want_deadlock) {
		if (r.outcome != XO_DEADLOCK) {
			FAILF("%s, %d tickets, C=%zu (T=%zu): %s, expected a deadlock %s",
			    policy_names[pi], many ? 16 : 2, cap, t, xoutcome_name(r.outcome), r.err);
			return 0;
		}
		/* The deadlock is the one described: server still in its handshake, client
		 * still writing its request. */
		if (r.server_step != 0 || r.client_step != 1) {
			FAILF("%s C=%zu: deadlocked at client step %d, server step %d; expected "
			    "client writing (1), server in its handshake (0)", policy_names[pi], cap,
			    r.client_step, r.server_step);
			return 0;
		}
		return 1;
	}
	if (r.outcome != XO_DONE) {
		FAILF("%s, %d tickets, C=%zu (T=%zu): %s at client step %d, server step %d, expected completed; %s", policy_names[pi],
		    many ? 16 : 2, cap, t, xoutcome_name(r.outcome), r.client_step, r.server_step,
		    r.err);
		return 0;
	}
	if (r.tickets != want_tickets) {
		FAILF("%s C=%zu: client received %d tickets, expected %d", policy_names[pi], cap,
		    r.tickets, want_tickets);
		return 0;
	}
	return 1;
}

int
main(int argc, char **argv)
{
	size_t t2, t16, min_hs = 0;
	struct timespec t0, t1;

	capi_init(argc, argv);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ccfg = client_config(TLS_PROTOCOL_TLSv1_3, NULL);
	CHECK_CFG(ccfg, tls_config_set_buffer_limit(ccfg, LIMIT));
	for (int pi = 0; pi < 4; pi++) {
		for (int many = 0; many < 2; many++) {
			struct tls_config *c = server_config("server", TLS_PROTOCOL_TLSv1_3, NULL);
			CHECK_CFG(c, tls_config_set_ticket_policy(c, policies[pi]));
			CHECK_CFG(c, tls_config_set_num_tickets(c, many ? 16 : 2));
			CHECK_CFG(c, tls_config_set_buffer_limit(c, LIMIT));
			scfg[pi][many] = c;
		}
	}
	t2 = ticket_bytes(0);
	t16 = ticket_bytes(1);
	printf("ticket bytes: T=%zu with 2 tickets, %zu with 16\n", t2, t16);
	REQUIRE(t2 > 64 && t16 > t2);

	/* The smallest C at which a bare handshake completes on both sides (DEFERRED: a bare
	 * IMMEDIATE handshake never completes below T, the client does not read). */
	for (size_t cap = 1; cap < t2 && min_hs == 0; cap++) {
		struct conn_pair cp;
		int co, so;

		conn_pair_open(&cp, cap, ccfg, scfg[0][0], "localhost");
		drive_handshakes(&cp, &co, &so);
		if (co == HS_OK && so == HS_OK)
			min_hs = cap;
		else if (co == HS_FAILED || so == HS_FAILED)
			FAILF("handshake failed at C=%zu: %s / %s", cap,
			    capi_str(tls_error(cp.client)), capi_str(tls_error(cp.server)));
		conn_pair_close(&cp);
	}
	printf("smallest C at which a bare handshake completes: %zu\n", min_hs);

	for (int pi = 0; pi < 4; pi++) {
		int ok = 0, n = 0;
		for (size_t cap = 1; cap <= t2; cap++, n++)
			ok += expect(pi, 0, cap, t2, min_hs);
		printf("%-13s 2 tickets,  C = 1..%zu: %d/%d cells as expected\n", policy_names[pi],
		    t2, ok, n);
	}
	for (int pi = 0; pi < 4; pi++) {
		size_t caps[] = { 1, 7, 100, t16 / 2, t16 - 1, t16 };
		int ok = 0, n = 0;
		for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++, n++)
			ok += expect(pi, 1, caps[i], t16, min_hs);
		printf("%-13s 16 tickets, C in {1, 7, 100, T/2, T-1, T=%zu}: %d/%d as expected\n",
		    policy_names[pi], t16, ok, n);
	}
	/* IMMEDIATE below the handshake minimum: reported only. */
	for (size_t cap = 1; cap < min_hs; cap++) {
		struct result r = run_one(2, 0, cap);
		printf("IMMEDIATE C=%zu (below the handshake minimum): %s\n", cap,
		    xoutcome_name(r.outcome));
	}
	for (int pi = 0; pi < 4; pi++)
		for (int many = 0; many < 2; many++)
			tls_config_free(scfg[pi][many]);
	tls_config_free(ccfg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("elapsed %.1f s\n", (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return capi_finish("tickets_pipe");
}
