/* capi: nbtls-only */
/*
 * sessions_tenants.c: resumption never crosses a security boundary (nginx
 * CVE-2025-23419), over in-memory rings.
 *
 * Two listeners in one process serve one name ("localhost") and share what makes sessions
 * resumable across them, in one of two ways:
 *   - two tls_configs given the same tls_config_add_ticket_key ("shared key");
 *   - one tls_config reconfigured between the two tls_configure calls ("one config"): its
 *     generations share the automatic ticket key and the session-ID cache.
 * One client config (whose session cache carries the session) connects to the first
 * listener ("mint": a full handshake that issues a ticket or caches a session), then to the
 * second ("offer"). When the second listener's client-certificate settings differ (client
 * auth mode, client CAs), the session must not resume: a full handshake follows, and it
 * enforces the second listener's settings (a client without a certificate, or with one from
 * a CA it does not trust, fails). With identical settings the session resumes (controls).
 * Each case runs over TLS 1.3 tickets, TLS 1.2 tickets and TLS 1.2 session IDs (the
 * server's ticket policy NONE: no tickets, the session-ID cache only; two tls_configs have
 * two caches, so session IDs cross only in the "one config" way).
 *
 * The client certificate is client.pem, signed by ca.pem; other-ca.pem is a CA it does not
 * chain to.
 */
#include "common.h"

/* The client-certificate settings of a listener. */
enum auth {
	OPEN,          /* no client certificate asked for */
	REQUIRED_CA,   /* tls_config_verify_client, client CA ca.pem */
	REQUIRED_OTHER,/* tls_config_verify_client, client CA other-ca.pem */
	OPTIONAL_CA,   /* tls_config_verify_client_optional, client CA ca.pem */
};

static const char *
auth_name(int a)
{
	switch (a) {
	case OPEN: return "open";
	case REQUIRED_CA: return "required (ca)";
	case REQUIRED_OTHER: return "required (other-ca)";
	case OPTIONAL_CA: return "optional (ca)";
	}
	return "?";
}

/* What the connection to the second listener must do. */
enum outcome {
	RESUMED,     /* both handshakes succeed, resumed on both sides */
	FULL,        /* both handshakes succeed, a full handshake on both sides */
	NO_CERT,     /* full handshake; the server fails: no client certificate */
	UNKNOWN_CA,  /* full handshake; the server fails: the client's CA is not trusted */
};

static const char *
outcome_name(int o)
{
	switch (o) {
	case RESUMED: return "resumed";
	case FULL: return "full handshake";
	case NO_CERT: return "refused: no client certificate";
	case UNKNOWN_CA: return "refused: unknown client CA";
	}
	return "?";
}

static const struct tenant_case {
	int mint, offer;   /* enum auth of the first and the second listener */
	int client_cert;   /* the client sends client.pem when asked */
	int expect;        /* enum outcome of the connection to the second listener */
} cases[] = {
	/* controls: identical settings resume */
	{ OPEN, OPEN, 0, RESUMED },
	{ REQUIRED_CA, REQUIRED_CA, 1, RESUMED },
	/* minted where no certificate was required, offered where one is */
	{ OPEN, REQUIRED_CA, 0, NO_CERT },
	{ OPEN, REQUIRED_CA, 1, FULL },
	{ OPEN, OPTIONAL_CA, 0, FULL },
	/* minted under one client CA (the client's), offered under another */
	{ REQUIRED_CA, REQUIRED_OTHER, 1, UNKNOWN_CA },
	/* an optional certificate is not a required one */
	{ OPTIONAL_CA, REQUIRED_CA, 0, NO_CERT },
};

enum carrier { TLS13_TICKET, TLS12_TICKET, TLS12_SESSION_ID };

static const char *
carrier_name(int c)
{
	return c == TLS13_TICKET ? "TLS 1.3 ticket" : c == TLS12_TICKET ? "TLS 1.2 ticket" :
	    "TLS 1.2 session ID";
}

enum sharing { SHARED_KEY, ONE_CONFIG };

static uint32_t
carrier_protocols(int c)
{
	return c == TLS13_TICKET ? TLS_PROTOCOL_TLSv1_3 : TLS_PROTOCOL_TLSv1_2;
}

/* Applies a listener's client-certificate settings (on top of what cfg already has). */
static void
apply_auth(struct tls_config *cfg, int a)
{
	switch (a) {
	case OPEN:
		break;
	case REQUIRED_CA:
	case REQUIRED_OTHER:
		CHECK_CFG(cfg, tls_config_set_ca_file(cfg,
		    cert_path(a == REQUIRED_CA ? "ca.pem" : "other-ca.pem")));
		tls_config_verify_client(cfg);
		break;
	case OPTIONAL_CA:
		CHECK_CFG(cfg, tls_config_set_ca_file(cfg, cert_path("ca.pem")));
		tls_config_verify_client_optional(cfg);
		break;
	}
}

static struct tls_config *
listener_config(int carrier)
{
	struct tls_config *cfg = server_config("server", carrier_protocols(carrier), NULL);

	if (carrier == TLS12_SESSION_ID)
		CHECK_CFG(cfg, tls_config_set_ticket_policy(cfg, TLS_TICKETS_NONE));
	return cfg;
}

/* A connection from ccfg to the listener; returns the handshakes' outcomes and, when both
 * succeeded, moves "hi" from server to client (which delivers a TLS 1.3 server's tickets). */
struct result {
	int client, server;      /* enum hs_outcome */
	int resumed_c, resumed_s;
	int peer_cert;           /* tls_peer_cert_provided(server) */
	int server_code;         /* tls_error_code(server) after a failure */
	int client_code, client_alert; /* the client's failure (handshake or first read) */
	int tickets;             /* tls_conn_tickets_received(client) */
};

static struct result
connect_once(struct tls_config *ccfg, struct tls *listener)
{
	struct conn_pair cp;
	struct result r;
	char buf[8];
	ssize_t n = TLS_WANT_POLLIN;

	memset(&r, 0, sizeof(r));
	r.resumed_c = r.resumed_s = -1;
	memset(&cp, 0, sizeof(cp));
	pipe2_init(&cp.pipe, 1 << 16);
	cp.client = tls_client();
	REQUIRE(cp.client != NULL);
	REQUIRE_RC(cp.client, tls_configure(cp.client, ccfg), 0);
	REQUIRE_RC(cp.client, tls_connect_cbs(cp.client, ep_read_cb, ep_write_cb, &cp.pipe.cli,
	    "localhost"), 0);
	REQUIRE_RC(listener, tls_accept_cbs(listener, &cp.server, ep_read_cb, ep_write_cb,
	    &cp.pipe.srv), 0);
	cp.pipe.cli.ctx = cp.client;
	cp.pipe.srv.ctx = cp.server;
	drive_handshakes(&cp, &r.client, &r.server);
	if (r.server == HS_OK && r.client == HS_OK) {
		CHECK_RC(cp.server, tls_write(cp.server, "hi", 2), 2);
		CHECK_RC(cp.client, tls_read(cp.client, buf, sizeof(buf)), 2);
		r.resumed_c = tls_conn_session_resumed(cp.client);
		r.resumed_s = tls_conn_session_resumed(cp.server);
		r.peer_cert = tls_peer_cert_provided(cp.server);
		r.tickets = tls_conn_tickets_received(cp.client);
		tls_close(cp.client);
		tls_close(cp.server);
	} else {
		if (r.server == HS_FAILED)
			r.server_code = tls_error_code(cp.server);
		/* A TLS 1.3 client finishes before the server has read its certificate: the
		 * server's alert then fails the client's first read. */
		if (r.client == HS_OK)
			for (int i = 0; i < 100 && (n == TLS_WANT_POLLIN || n == TLS_WANT_POLLOUT); i++)
				n = tls_read(cp.client, buf, sizeof(buf));
		if (r.client == HS_FAILED || n == -1) {
			r.client_code = tls_error_code(cp.client);
			r.client_alert = tls_error_alert(cp.client);
		}
	}
	/* cp.listener is NULL: the listeners belong to the caller */
	conn_pair_close(&cp);
	return r;
}

static void
run_case(const struct tenant_case *tc, int carrier, int sharing)
{
	static char name[256];
	struct tls_config *ccfg = client_config(carrier_protocols(carrier), NULL);
	struct tls_config *mcfg, *ocfg;
	struct tls *mint = tls_server(), *offer = tls_server();
	struct result r;
	unsigned char key[TLS_TICKET_KEY_SIZE];

	snprintf(name, sizeof(name), "%s, %s: %s -> %s, client %s certificate: %s",
	    carrier_name(carrier), sharing == SHARED_KEY ? "shared key" : "one config",
	    auth_name(tc->mint), auth_name(tc->offer), tc->client_cert ? "with" : "without",
	    outcome_name(tc->expect));
	capi_case = name;
	REQUIRE(mint != NULL && offer != NULL);
	if (tc->client_cert)
		CHECK_CFG(ccfg, tls_config_set_keypair_file(ccfg, cert_path("client.pem"),
		    cert_path("client.key")));

	mcfg = listener_config(carrier);
	apply_auth(mcfg, tc->mint);
	REQUIRE_RC(mint, tls_configure(mint, mcfg), 0);
	if (sharing == SHARED_KEY) {
		memset(key, 0x5a, sizeof(key));
		ocfg = listener_config(carrier);
		apply_auth(ocfg, tc->offer);
		CHECK_CFG(mcfg, tls_config_add_ticket_key(mcfg, 1, key, sizeof(key)));
		CHECK_CFG(ocfg, tls_config_add_ticket_key(ocfg, 1, key, sizeof(key)));
	} else {
		/* The same config, edited: a new generation (every setter makes one) even when
		 * the settings end up equal. */
		ocfg = mcfg;
		apply_auth(ocfg, tc->offer);
		CHECK_CFG(ocfg, tls_config_set_session_lifetime(ocfg, 7200));
	}
	REQUIRE_RC(offer, tls_configure(offer, ocfg), 0);

	/* First listener: a full handshake that leaves the client a ticket or session. */
	r = connect_once(ccfg, mint);
	if (r.client != HS_OK || r.server != HS_OK || r.resumed_c != 0 || r.resumed_s != 0)
		FAILF("first listener: client %s, server %s, resumed %d/%d (expected a full "
		    "handshake)", hs_outcome_name(r.client), hs_outcome_name(r.server),
		    r.resumed_c, r.resumed_s);
	if (carrier == TLS13_TICKET && r.tickets < 1)
		FAILF("first listener: %d tickets received", r.tickets);

	/* Second listener: the session is offered. */
	r = connect_once(ccfg, offer);
	switch (tc->expect) {
	case RESUMED:
	case FULL:
		if (r.client != HS_OK || r.server != HS_OK) {
			FAILF("second listener: client %s, server %s (server code %s, client "
			    "code %s, alert %d); expected %s", hs_outcome_name(r.client),
			    hs_outcome_name(r.server), capi_code_name(r.server_code),
			    capi_code_name(r.client_code), r.client_alert,
			    outcome_name(tc->expect));
			break;
		}
		CHECK(r.resumed_c == (tc->expect == RESUMED));
		CHECK(r.resumed_s == (tc->expect == RESUMED));
		/* A full handshake where a certificate is asked for verified the client's. */
		CHECK(r.peer_cert == (tc->client_cert && tc->offer != OPEN));
		break;
	case NO_CERT:
	case UNKNOWN_CA:
		if (r.server != HS_FAILED) {
			FAILF("second listener: server %s, resumed %d/%d; expected %s",
			    hs_outcome_name(r.server), r.resumed_c, r.resumed_s,
			    outcome_name(tc->expect));
			break;
		}
		CHECK(r.server_code == (tc->expect == NO_CERT ? TLS_ERROR_CERT_OTHER :
		    TLS_ERROR_CERT_UNKNOWN_CA));
		/* The client hears why: certificate_required (116) or unknown_ca (48). */
		CHECK(r.client_code == TLS_ERROR_PEER_ALERT);
		CHECK(r.client_alert == (tc->expect == NO_CERT ? 116 : 48));
		break;
	}

	tls_free(mint);
	tls_free(offer);
	if (ocfg != mcfg)
		tls_config_free(ocfg);
	tls_config_free(mcfg);
	tls_config_free(ccfg);
}

int
main(int argc, char **argv)
{
	capi_init(argc, argv);
	for (int carrier = TLS13_TICKET; carrier <= TLS12_SESSION_ID; carrier++)
		for (int sharing = SHARED_KEY; sharing <= ONE_CONFIG; sharing++) {
			if (carrier == TLS12_SESSION_ID && sharing == SHARED_KEY)
				continue; /* two configs have two session-ID caches */
			for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
				run_case(&cases[i], carrier, sharing);
		}
	capi_case = "";
	return capi_finish("sessions_tenants");
}
