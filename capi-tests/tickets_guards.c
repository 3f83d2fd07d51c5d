/*
 * tickets_guards: regression guards for the traps of out-of-turn writes, over in-memory
 * rings (callback transport), under every ticket policy.
 * 1. TLS 1.2 full and resumed handshakes complete, client-first and server-speaks-first
 *    (their final flights are in-turn: tls_handshake sends them before returning 0), and
 *    the second connection from the same client config resumes.
 * 2. A server-speaks-first exchange (SMTP-like: the server greets first) completes in
 *    TLS 1.3, with rings of 1, 7 and 4096 bytes.
 * 3. A client whose handshake write blocks keeps reading: a client-to-server direction of
 *    1..8 bytes with a roomy other direction, and the reverse.
 * 4. KeyUpdate: the client requests an update while the server's send direction is full:
 *    the server's tls_read never returns WANT_POLLOUT and writes nothing; the answer leaves
 *    with the next tls_flush (or tls_write); three requests coalesce into one answer of the
 *    same size as one request's; data flows both ways on the new keys afterwards.
 * 5. TLS 1.3 resumption works under every policy except NONE once the tickets were
 *    delivered (tls_conn_session_resumed on the next connection from the same client
 *    config); NONE delivers none and does not resume.
 * 6. tls_set_ticket_policy: a connection set to DEFERRED on an IMMEDIATE listener completes
 *    over a 7-byte ring; NONE after the first I/O call is -1.
 */
/* capi: nbtls-only */
#include "common.h"

static const int policies[] = { TLS_TICKETS_DEFERRED, TLS_TICKETS_OPPORTUNISTIC,
	TLS_TICKETS_IMMEDIATE, TLS_TICKETS_NONE };
static const char *const policy_names[] = { "DEFERRED", "OPPORTUNISTIC", "IMMEDIATE", "NONE" };

static const struct xstep http_client[] = { { XS_HANDSHAKE, 0, 0 }, { XS_WRITE, 300, 0 },
	{ XS_READ, 0, 2 }, { XS_CLOSE, 0, 0 }, { XS_END, 0, 0 } };
static const struct xstep http_server[] = { { XS_HANDSHAKE, 0, 0 }, { XS_READ, 0, 300 },
	{ XS_WRITE, 2, 0 }, { XS_READ_EOF, 0, 0 }, { XS_CLOSE, 0, 0 }, { XS_END, 0, 0 } };
static const struct xstep smtp_client[] = { { XS_HANDSHAKE, 0, 0 }, { XS_READ, 0, 20 },
	{ XS_WRITE, 10, 0 }, { XS_READ, 0, 12 }, { XS_CLOSE, 0, 0 }, { XS_END, 0, 0 } };
static const struct xstep smtp_server[] = { { XS_HANDSHAKE, 0, 0 }, { XS_WRITE, 20, 0 },
	{ XS_READ, 0, 10 }, { XS_WRITE, 12, 0 }, { XS_READ_EOF, 0, 0 }, { XS_CLOSE, 0, 0 },
	{ XS_END, 0, 0 } };

static struct tls_config *
policy_server(uint32_t proto, int pi)
{
	struct tls_config *c = server_config("server", proto, NULL);

	CHECK_CFG(c, tls_config_set_ticket_policy(c, policies[pi]));
	return c;
}

/* Runs one exchange over rings of `cap` from a listener; returns the outcome. */
static int
exchange(struct tls_config *ccfg, struct tls *listener, size_t cap, const struct xstep *cs,
    const struct xstep *ss, int *resumed, int *tickets)
{
	struct conn_pair cp;
	struct xside c, s;
	int o;

	memset(&cp, 0, sizeof(cp));
	pipe2_init(&cp.pipe, cap);
	cp.client = tls_client();
	REQUIRE(cp.client != NULL);
	REQUIRE_RC(cp.client, tls_configure(cp.client, ccfg), 0);
	REQUIRE_RC(cp.client, tls_connect_cbs(cp.client, ep_read_cb, ep_write_cb, &cp.pipe.cli,
	    "localhost"), 0);
	REQUIRE_RC(listener, tls_accept_cbs(listener, &cp.server, ep_read_cb, ep_write_cb,
	    &cp.pipe.srv), 0);
	cp.pipe.cli.ctx = cp.client;
	cp.pipe.srv.ctx = cp.server;
	xside_init(&c, "client", cp.client, cs, 1, 2);
	xside_init(&s, "server", cp.server, ss, 2, 1);
	o = xrun_rings(&cp.pipe, &c, &s, 10L * 1000 * 1000);
	if (o != XO_DONE)
		FAILF("exchange over %zu-byte rings: %s at client step %d, server step %d; %s %s",
		    cap, xoutcome_name(o), c.at, s.at, c.err, s.err);
	else if (c.rx.first_bad != SIZE_MAX || s.rx.first_bad != SIZE_MAX)
		FAILF("exchange over %zu-byte rings: wrong bytes", cap);
	if (resumed)
		*resumed = tls_conn_session_resumed(cp.client);
	if (tickets)
		*tickets = tls_conn_tickets_received(cp.client);
	conn_pair_close(&cp); /* frees the server and the client; the listener is the caller's */
	return o;
}

static void
tls12_guards(void)
{
	for (int pi = 0; pi < 4; pi++) {
		for (int smtp = 0; smtp < 2; smtp++) {
			size_t caps[] = { 1, 7, 4096 };
			for (size_t k = 0; k < 3; k++) {
				struct tls_config *ccfg = client_config(TLS_PROTOCOL_TLSv1_2, NULL);
				struct tls_config *scfg = policy_server(TLS_PROTOCOL_TLSv1_2, pi);
				struct tls *l = tls_server();
				int r1 = -1, r2 = -1;
				char label[96];

				snprintf(label, sizeof(label), "TLS 1.2 %s %s C=%zu", policy_names[pi],
				    smtp ? "server-first" : "client-first", caps[k]);
				capi_case = label;
				REQUIRE_RC(l, tls_configure(l, scfg), 0);
				exchange(ccfg, l, caps[k], smtp ? smtp_client : http_client,
				    smtp ? smtp_server : http_server, &r1, NULL);
				exchange(ccfg, l, caps[k], smtp ? smtp_client : http_client,
				    smtp ? smtp_server : http_server, &r2, NULL);
				CHECK(r1 == 0);
				CHECK(r2 == 1); /* the resumed handshake ran */
				tls_free(l);
				tls_config_free(scfg);
				tls_config_free(ccfg);
			}
		}
	}
	capi_case = "";
	printf("TLS 1.2 full + resumed, client-first and server-first, C in {1,7,4096}, "
	    "4 policies: done\n");
}

static void
smtp_guards(void)
{
	size_t caps[] = { 1, 7, 4096 };

	for (int pi = 0; pi < 4; pi++) {
		for (size_t k = 0; k < 3; k++) {
			struct tls_config *ccfg = client_config(TLS_PROTOCOL_TLSv1_3, NULL);
			struct tls_config *scfg = policy_server(TLS_PROTOCOL_TLSv1_3, pi);
			struct tls *l = tls_server();
			char label[96];

			snprintf(label, sizeof(label), "TLS 1.3 server-first %s C=%zu",
			    policy_names[pi], caps[k]);
			capi_case = label;
			CHECK_CFG(scfg, tls_config_set_num_tickets(scfg, 16));
			REQUIRE_RC(l, tls_configure(l, scfg), 0);
			exchange(ccfg, l, caps[k], smtp_client, smtp_server, NULL, NULL);
			tls_free(l);
			tls_config_free(scfg);
			tls_config_free(ccfg);
		}
	}
	capi_case = "";
	printf("TLS 1.3 server-speaks-first, 16 tickets, C in {1,7,4096}, 4 policies: done\n");
}

static void
blocked_handshake_write(void)
{
	struct tls_config *ccfg = client_config(0, NULL);
	struct tls_config *scfg = server_config("server", 0, NULL);

	for (int dir = 0; dir < 2; dir++) {
		for (size_t small = 1; small <= 8; small++) {
			struct conn_pair cp;
			int co, so;
			char label[96];

			snprintf(label, sizeof(label), "%s direction of %zu bytes",
			    dir ? "server-to-client" : "client-to-server", small);
			capi_case = label;
			conn_pair_open(&cp, 1 << 16, ccfg, scfg, "localhost");
			/* a smaller capacity uses a prefix of the buffer: safe while empty */
			(dir ? &cp.pipe.s2c : &cp.pipe.c2s)->cap = small;
			drive_handshakes(&cp, &co, &so);
			if (co != HS_OK || so != HS_OK)
				FAILF("handshake: client %s, server %s; %s / %s", hs_outcome_name(co),
				    hs_outcome_name(so), capi_str(tls_error(cp.client)),
				    capi_str(tls_error(cp.server)));
			conn_pair_close(&cp);
		}
	}
	capi_case = "";
	tls_config_free(ccfg);
	tls_config_free(scfg);
	printf("handshake writes that block keep reading (1..8-byte directions): done\n");
}

/* ------------------------------------------------------------ KeyUpdate */

static int srv_tx_blocked;
static long srv_tx_calls;

static ssize_t
srv_write_cb(struct tls *ctx, const void *buf, size_t len, void *arg)
{
	srv_tx_calls++;
	if (srv_tx_blocked)
		return TLS_WANT_POLLOUT; /* the send direction is full */
	return ep_write_cb(ctx, buf, len, arg);
}

/* Reads everything available on ctx; returns bytes of plaintext, fails on -1/EOF. */
static size_t
read_avail(struct tls *ctx, unsigned char *buf, size_t len, int *saw_pollout)
{
	size_t got = 0;

	for (int i = 0; i < 1000; i++) {
		ssize_t rc = tls_read(ctx, buf + got, len - got);
		if (rc == TLS_WANT_POLLIN)
			return got;
		if (rc == TLS_WANT_POLLOUT) {
			if (saw_pollout)
				*saw_pollout = 1;
			return got;
		}
		if (rc <= 0) {
			FAILF("tls_read = %s; %s", capi_rc_name(rc), capi_str(tls_error(ctx)));
			return got;
		}
		got += (size_t)rc;
		if (got == len)
			return got;
	}
	return got;
}

/* Client: `requests` KeyUpdates (each followed by data), server reads with its send
 * direction full. Returns the bytes the server emitted for the answer(s). */
static size_t
key_update_case(int pi, int requests, int by_write)
{
	struct tls_config *ccfg = client_config(TLS_PROTOCOL_TLSv1_3, NULL);
	struct tls_config *scfg = policy_server(TLS_PROTOCOL_TLSv1_3, pi);
	struct tls *client = tls_client(), *listener = tls_server(), *server = NULL;
	struct pipe2 p;
	unsigned char buf[256];
	int co, so, pollout = 0;
	uint64_t s2c_before;
	size_t answer;
	char label[96];

	snprintf(label, sizeof(label), "KeyUpdate %s, %d request(s), answered by %s",
	    policy_names[pi], requests, by_write ? "tls_write" : "tls_flush");
	capi_case = label;
	pipe2_init(&p, 1 << 16);
	REQUIRE_RC(client, tls_configure(client, ccfg), 0);
	REQUIRE_RC(listener, tls_configure(listener, scfg), 0);
	REQUIRE_RC(client, tls_connect_cbs(client, ep_read_cb, ep_write_cb, &p.cli, "localhost"), 0);
	REQUIRE_RC(listener, tls_accept_cbs(listener, &server, ep_read_cb, srv_write_cb, &p.srv), 0);
	srv_tx_blocked = 0;
	co = so = -2;
	for (int i = 0; i < 1000 && (co != 0 || so != 0); i++) {
		if (co != 0)
			co = tls_handshake(client);
		if (so != 0)
			so = tls_handshake(server);
	}
	REQUIRE(co == 0 && so == 0);
	/* the tickets leave and are read, so both queues are empty */
	REQUIRE_RC(server, tls_flush(server), 0);
	read_avail(client, buf, sizeof(buf), NULL);
	REQUIRE(tls_pending_write(server) == 0 && tls_pending_deferred(server) == 0);

	for (int i = 0; i < requests; i++) {
		REQUIRE_RC(client, tls_key_update(client), 0);
		REQUIRE_RC(client, tls_write(client, "ping", 4), 4);
	}
	srv_tx_blocked = 1;
	srv_tx_calls = 0;
	s2c_before = p.s2c.total_in;
	CHECK((size_t)read_avail(server, buf, sizeof(buf), &pollout) == 4 * (size_t)requests);
	CHECK(read_avail(server, buf, sizeof(buf), &pollout) == 0);
	CHECK(pollout == 0);          /* tls_read never said WANT_POLLOUT */
	CHECK(srv_tx_calls == 0);     /* and never tried to write */
	CHECK(p.s2c.total_in == s2c_before);

	srv_tx_blocked = 0;
	if (by_write)
		CHECK_RC(server, tls_write(server, "pong", 4), 4);
	else
		CHECK_RC(server, tls_flush(server), 0);
	answer = (size_t)(p.s2c.total_in - s2c_before);
	CHECK(answer > 0);
	if (!by_write)
		CHECK_RC(server, tls_write(server, "pong", 4), 4);
	/* the client reads the answer and the data on the server's new keys */
	CHECK(read_avail(client, buf, sizeof(buf), NULL) == 4 && memcmp(buf, "pong", 4) == 0);
	/* and the server reads the client's data on the client's new keys */
	CHECK_RC(client, tls_write(client, "more", 4), 4);
	CHECK(read_avail(server, buf, sizeof(buf), NULL) == 4 && memcmp(buf, "more", 4) == 0);

	tls_free(server);
	tls_free(listener);
	tls_free(client);
	pipe2_free(&p);
	tls_config_free(ccfg);
	tls_config_free(scfg);
	capi_case = "";
	return answer;
}

static void
key_update_guards(void)
{
	for (int pi = 0; pi < 4; pi++) {
		size_t one = key_update_case(pi, 1, 0);
		size_t three = key_update_case(pi, 3, 0);
		size_t w = key_update_case(pi, 1, 1);

		printf("KeyUpdate %-13s answer: %zu bytes for 1 request, %zu for 3 (tls_flush); "
		    "%zu with tls_write\n", policy_names[pi], one, three, w);
		if (one != three)
			FAILF("KeyUpdate %s: 3 requests answered with %zu bytes, 1 with %zu: "
			    "not coalesced", policy_names[pi], three, one);
	}
}

/* ------------------------------------------------------- resumption */

static void
resumption_guards(void)
{
	for (int pi = 0; pi < 4; pi++) {
		struct tls_config *ccfg = client_config(TLS_PROTOCOL_TLSv1_3, NULL);
		struct tls_config *scfg = policy_server(TLS_PROTOCOL_TLSv1_3, pi);
		struct tls *l = tls_server();
		int r1 = -1, r2 = -1, t1 = -1, none = policies[pi] == TLS_TICKETS_NONE;
		char label[64];

		snprintf(label, sizeof(label), "resumption %s", policy_names[pi]);
		capi_case = label;
		REQUIRE_RC(l, tls_configure(l, scfg), 0);
		exchange(ccfg, l, 4096, http_client, http_server, &r1, &t1);
		exchange(ccfg, l, 4096, http_client, http_server, &r2, NULL);
		printf("TLS 1.3 %-13s tickets delivered %d; next connection resumed: %d\n",
		    policy_names[pi], t1, r2);
		CHECK(r1 == 0);
		CHECK(t1 == (none ? 0 : 2));
		CHECK(r2 == (none ? 0 : 1));
		tls_free(l);
		tls_config_free(scfg);
		tls_config_free(ccfg);
	}
	capi_case = "";
}

static void
per_connection_policy(void)
{
	struct tls_config *ccfg = client_config(TLS_PROTOCOL_TLSv1_3, NULL);
	struct tls_config *scfg = policy_server(TLS_PROTOCOL_TLSv1_3, 2); /* IMMEDIATE */
	struct conn_pair cp;
	struct xside c, s;
	int o;
	static const struct xstep cs[] = { { XS_HANDSHAKE, 0, 0 }, { XS_WRITE, 20000, 0 },
		{ XS_READ, 0, 2 }, { XS_CLOSE, 0, 0 }, { XS_END, 0, 0 } };
	static const struct xstep ss[] = { { XS_HANDSHAKE, 0, 0 }, { XS_READ, 0, 20000 },
		{ XS_WRITE, 2, 0 }, { XS_READ_EOF, 0, 0 }, { XS_CLOSE, 0, 0 }, { XS_END, 0, 0 } };

	capi_case = "tls_set_ticket_policy";
	for (int deferred = 0; deferred < 2; deferred++) {
		conn_pair_open(&cp, 7, ccfg, scfg, "localhost");
		if (deferred)
			CHECK_RC(cp.server, tls_set_ticket_policy(cp.server, TLS_TICKETS_DEFERRED), 0);
		xside_init(&c, "client", cp.client, cs, 1, 2);
		xside_init(&s, "server", cp.server, ss, 2, 1);
		o = xrun_rings(&cp.pipe, &c, &s, 10L * 1000 * 1000);
		CHECK(o == (deferred ? XO_DONE : XO_DEADLOCK));
		/* too late for NONE: the connection has started */
		CHECK_RC(cp.server, tls_set_ticket_policy(cp.server, TLS_TICKETS_NONE), -1);
		conn_pair_close(&cp);
	}
	capi_case = "";
	tls_config_free(ccfg);
	tls_config_free(scfg);
	printf("tls_set_ticket_policy: DEFERRED on an IMMEDIATE listener completes; "
	    "NONE after I/O is -1: done\n");
}

int
main(int argc, char **argv)
{
	capi_init(argc, argv);
	tls12_guards();
	smtp_guards();
	blocked_handshake_write();
	key_update_guards();
	resumption_guards();
	per_connection_policy();
	return capi_finish("tickets_guards");
}
