/* capi: nbtls-only */
/*
 * failures: a table of things that must fail, each with the code it must fail with.
 *
 * Config rows: garbage or truncated PEM, a key that does not match its certificate and a
 * missing file fail in the setter (-1 and a tls_config_error() message) or, at the latest,
 * in tls_configure() of the server (-1 and a tls_error() message); never later.
 *
 * Handshake rows run a client and a server over in-memory rings (callbacks, 64 KiB) for
 * TLS 1.2 and TLS 1.3 unless the row fixes the versions. A row gives the server's keypair,
 * the name the client asks for, the client's insecure_* options and the expected client
 * result: success, or -1 with one tls_error_code() (a set for version mismatch and EOF).
 * Where the client rejects the certificate, the server must fail too (-1 with PEER_ALERT
 * or PROTOCOL; for PEER_ALERT, tls_error_alert() is the row's alert when it names one):
 * the client's fatal alert must reach it. EOF rows end the server's side of the transport
 * mid-handshake: the client must fail with an error, not wait for ever.
 */
#include "common.h"

#define OK 0x7fffffff /* expected: success */
#define NOVERIFYNAME 1
#define NOVERIFYTIME 2
#define NOVERIFYCERT 4

enum hsmode { M_NORMAL, M_EOF_AFTER_CH, M_EOF_MID_FLIGHT };

struct row {
	const char *name;
	const char *cert, *key; /* server keypair files */
	const char *servername;
	int insecure;
	uint32_t cproto, sproto; /* 0: the row runs for TLS 1.2 and for TLS 1.3 */
	enum hsmode mode;
	int client[3];           /* acceptable client codes (OK = success); 0 ends the list */
	int server_alert;        /* when the server gets PEER_ALERT: the alert; 0 = any */
};

#define T12 TLS_PROTOCOL_TLSv1_2
#define T13 TLS_PROTOCOL_TLSv1_3

static const struct row rows[] = {
	{ "valid (ECDSA)", "server.pem", "server.key", "localhost", 0, 0, 0, M_NORMAL,
	    { OK }, 0 },
	{ "valid (RSA)", "server-rsa.pem", "server-rsa.key", "localhost", 0, 0, 0, M_NORMAL,
	    { OK }, 0 },
	{ "valid (chain.pem)", "chain.pem", "server.key", "localhost", 0, 0, 0, M_NORMAL,
	    { OK }, 0 },
	{ "valid, by IP address", "server.pem", "server.key", "127.0.0.1", 0, 0, 0, M_NORMAL,
	    { OK }, 0 },
	{ "servername wrong.example", "server.pem", "server.key", "wrong.example", 0, 0, 0,
	    M_NORMAL, { TLS_ERROR_CERT_NAME_MISMATCH }, 42 },
	{ "wrongname.pem", "wrongname.pem", "wrongname.key", "localhost", 0, 0, 0, M_NORMAL,
	    { TLS_ERROR_CERT_NAME_MISMATCH }, 42 },
	{ "untrusted (other CA)", "untrusted.pem", "untrusted.key", "localhost", 0, 0, 0,
	    M_NORMAL, { TLS_ERROR_CERT_UNKNOWN_CA }, 48 },
	{ "expired", "expired.pem", "expired.key", "localhost", 0, 0, 0, M_NORMAL,
	    { TLS_ERROR_CERT_EXPIRED }, 45 },
	{ "not yet valid", "notyet.pem", "notyet.key", "localhost", 0, 0, 0, M_NORMAL,
	    { TLS_ERROR_CERT_NOT_YET_VALID }, 0 },
	{ "noverifyname: wrongname", "wrongname.pem", "wrongname.key", "localhost",
	    NOVERIFYNAME, 0, 0, M_NORMAL, { OK }, 0 },
	{ "noverifyname: servername", "server.pem", "server.key", "wrong.example",
	    NOVERIFYNAME, 0, 0, M_NORMAL, { OK }, 0 },
	{ "noverifyname: expired", "expired.pem", "expired.key", "localhost", NOVERIFYNAME, 0,
	    0, M_NORMAL, { TLS_ERROR_CERT_EXPIRED }, 45 },
	{ "noverifyname: untrusted", "untrusted.pem", "untrusted.key", "localhost",
	    NOVERIFYNAME, 0, 0, M_NORMAL, { TLS_ERROR_CERT_UNKNOWN_CA }, 48 },
	{ "noverifytime: expired", "expired.pem", "expired.key", "localhost", NOVERIFYTIME, 0,
	    0, M_NORMAL, { OK }, 0 },
	{ "noverifytime: not yet valid", "notyet.pem", "notyet.key", "localhost",
	    NOVERIFYTIME, 0, 0, M_NORMAL, { OK }, 0 },
	{ "noverifytime: wrongname", "wrongname.pem", "wrongname.key", "localhost",
	    NOVERIFYTIME, 0, 0, M_NORMAL, { TLS_ERROR_CERT_NAME_MISMATCH }, 42 },
	{ "noverifytime: untrusted", "untrusted.pem", "untrusted.key", "localhost",
	    NOVERIFYTIME, 0, 0, M_NORMAL, { TLS_ERROR_CERT_UNKNOWN_CA }, 48 },
	{ "noverifyname+time: untrusted", "untrusted.pem", "untrusted.key", "localhost",
	    NOVERIFYNAME | NOVERIFYTIME, 0, 0, M_NORMAL, { TLS_ERROR_CERT_UNKNOWN_CA }, 48 },
	{ "noverifycert: untrusted", "untrusted.pem", "untrusted.key", "localhost",
	    NOVERIFYCERT, 0, 0, M_NORMAL, { OK }, 0 },
	{ "noverifycert: expired", "expired.pem", "expired.key", "localhost", NOVERIFYCERT, 0,
	    0, M_NORMAL, { OK }, 0 },
	{ "server 1.2 only, client 1.3 only", "server.pem", "server.key", "localhost", 0, T13,
	    T12, M_NORMAL, { TLS_ERROR_PEER_ALERT, TLS_ERROR_PROTOCOL }, 0 },
	{ "server 1.3 only, client 1.2 only", "server.pem", "server.key", "localhost", 0, T12,
	    T13, M_NORMAL, { TLS_ERROR_PEER_ALERT, TLS_ERROR_PROTOCOL }, 0 },
	{ "EOF right after ClientHello", "server.pem", "server.key", "localhost", 0, 0, 0,
	    M_EOF_AFTER_CH, { TLS_ERROR_TRUNCATED, TLS_ERROR_CLOSED }, 0 },
	{ "EOF in the server's flight", "server.pem", "server.key", "localhost", 0, 0, 0,
	    M_EOF_MID_FLIGHT, { TLS_ERROR_TRUNCATED, TLS_ERROR_CLOSED }, 0 },
};

static const char *
expect_name(const int *codes)
{
	static char buf[128];

	if (codes[0] == OK)
		return "ok";
	buf[0] = '\0';
	for (int i = 0; i < 3 && codes[i] != 0; i++) {
		if (i > 0)
			strcat(buf, "|");
		strcat(buf, capi_code_name(codes[i]));
	}
	return buf;
}

static const char *
result_name(int outcome, struct tls *ctx)
{
	static char buf[2][96];
	static int i;
	char *b = buf[i++ % 2];

	if (outcome == HS_OK)
		return "ok";
	if (outcome == HS_STALLED)
		return "STALLED";
	if (tls_error_code(ctx) == TLS_ERROR_PEER_ALERT)
		snprintf(b, sizeof(buf[0]), "%s(%d)", capi_code_name(tls_error_code(ctx)),
		    tls_error_alert(ctx));
	else
		snprintf(b, sizeof(buf[0]), "%s", capi_code_name(tls_error_code(ctx)));
	return b;
}

/* Drives the client alone (the server is gone); returns its outcome. */
static int
client_alone(struct tls *client)
{
	for (int i = 0; i < 100; i++) {
		int rc = tls_handshake(client);
		if (rc == 0)
			return HS_OK;
		if (rc == -1)
			return HS_FAILED;
		if (rc != TLS_WANT_POLLIN && rc != TLS_WANT_POLLOUT) {
			FAILF("client tls_handshake = %d", rc);
			return HS_FAILED;
		}
	}
	return HS_STALLED;
}

static void
run_row(const struct row *r, uint32_t proto)
{
	static char casename[128];
	uint32_t cproto = r->cproto ? r->cproto : proto;
	uint32_t sproto = r->sproto ? r->sproto : proto;
	struct tls_config *ccfg = client_config(cproto, NULL);
	struct tls_config *scfg = tls_config_new();
	struct conn_pair cp;
	int co = HS_STALLED, so = HS_STALLED, ok = 1;
	int before = capi_failures;

	snprintf(casename, sizeof(casename), "%s, %s", r->name,
	    r->cproto ? "fixed versions" : proto_name(proto));
	capi_case = casename;
	REQUIRE(scfg != NULL);
	CHECK_CFG(scfg, tls_config_set_keypair_file(scfg, cert_path(r->cert), cert_path(r->key)));
	CHECK_CFG(scfg, tls_config_set_protocols(scfg, sproto));
	if (r->insecure & NOVERIFYNAME)
		tls_config_insecure_noverifyname(ccfg);
	if (r->insecure & NOVERIFYTIME)
		tls_config_insecure_noverifytime(ccfg);
	if (r->insecure & NOVERIFYCERT)
		tls_config_insecure_noverifycert(ccfg);
	conn_pair_open(&cp, 65536, ccfg, scfg, r->servername);

	switch (r->mode) {
	case M_NORMAL:
		drive_handshakes(&cp, &co, &so);
		break;
	case M_EOF_AFTER_CH:
		CHECK_RC(cp.client, tls_handshake(cp.client), TLS_WANT_POLLIN);
		CHECK(cp.pipe.c2s.len > 0); /* the ClientHello */
		ring_discard(&cp.pipe.c2s);
		cp.pipe.s2c.eof = 1;
		cp.pipe.c2s.reader_gone = 1;
		co = client_alone(cp.client);
		break;
	case M_EOF_MID_FLIGHT:
		CHECK_RC(cp.client, tls_handshake(cp.client), TLS_WANT_POLLIN);
		(void)tls_handshake(cp.server);
		if (cp.pipe.s2c.len < 100)
			FAILF("the server's first flight is %zu bytes", cp.pipe.s2c.len);
		else
			cp.pipe.s2c.len = 60; /* cut inside the ServerHello */
		cp.pipe.s2c.eof = 1;
		cp.pipe.c2s.reader_gone = 1;
		co = client_alone(cp.client);
		break;
	}

	/* The client. */
	if (r->client[0] == OK) {
		if (co != HS_OK) {
			FAILF("client handshake %s, expected success; code %s, tls_error: %s",
			    hs_outcome_name(co), capi_code_name(tls_error_code(cp.client)),
			    capi_str(tls_error(cp.client)));
			ok = 0;
		}
	} else if (co != HS_FAILED) {
		FAILF("client handshake %s, expected -1 with %s", hs_outcome_name(co),
		    expect_name(r->client));
		ok = 0;
	} else {
		int code = tls_error_code(cp.client), match = 0;
		for (int i = 0; i < 3 && r->client[i] != 0; i++)
			match |= code == r->client[i];
		if (!match) {
			FAILF("client tls_error_code = %s, expected %s; tls_error: %s",
			    capi_code_name(code), expect_name(r->client),
			    capi_str(tls_error(cp.client)));
			ok = 0;
		}
		if (tls_error(cp.client) == NULL || tls_error(cp.client)[0] == '\0')
			FAILF("client failed without a tls_error() message");
		/* A failed context stays failed. */
		{
			unsigned char b[8];
			CHECK_RC(cp.client, tls_read(cp.client, b, sizeof(b)), -1);
		}
	}

	/* The server. */
	if (r->mode == M_NORMAL) {
		if (r->client[0] == OK) {
			if (so != HS_OK)
				FAILF("server handshake %s, expected success; tls_error: %s",
				    hs_outcome_name(so), capi_str(tls_error(cp.server)));
		} else if (so != HS_FAILED) {
			FAILF("server handshake %s, expected -1 (the client's alert); client "
			    "wrote %llu bytes in all, server read %llu; server wrote %llu, client "
			    "read %llu", hs_outcome_name(so),
			    (unsigned long long)cp.pipe.c2s.total_in,
			    (unsigned long long)cp.pipe.c2s.total_out,
			    (unsigned long long)cp.pipe.s2c.total_in,
			    (unsigned long long)cp.pipe.s2c.total_out);
		} else {
			int code = tls_error_code(cp.server);
			if (code != TLS_ERROR_PEER_ALERT && code != TLS_ERROR_PROTOCOL)
				FAILF("server tls_error_code = %s, expected PEER_ALERT or "
				    "PROTOCOL; tls_error: %s", capi_code_name(code),
				    capi_str(tls_error(cp.server)));
			if (code == TLS_ERROR_PEER_ALERT) {
				int alert = tls_error_alert(cp.server);
				if (r->server_alert != 0 ? alert != r->server_alert : alert <= 0)
					FAILF("server tls_error_alert = %d, expected %d", alert,
					    r->server_alert);
			}
			if (tls_error(cp.server) == NULL)
				FAILF("server failed without a tls_error() message");
		}
	}
	(void)ok;
	printf("  %-34s %-15s client %-26s got %-22s server %-22s %s\n", r->name,
	    r->cproto ? "fixed versions" : proto_name(proto), expect_name(r->client),
	    result_name(co, cp.client),
	    r->mode == M_NORMAL ? result_name(so, cp.server) : "(gone)",
	    capi_failures == before ? "ok" : "FAIL");
	if (co == HS_FAILED)
		printf("      client: %s\n", capi_str(tls_error(cp.client)));
	conn_pair_close(&cp);
	tls_config_free(ccfg);
	tls_config_free(scfg);
	capi_case = "";
}

/* ----------------------------------------------------------- config rows */

/*
 * Sets the server keypair from memory and configures a listener with it: one of the two
 * must fail with a message. Returns 1 when it failed as it must.
 */
static void
bad_keypair(const char *name, const unsigned char *cert, size_t cert_len,
    const unsigned char *key, size_t key_len)
{
	struct tls_config *cfg = tls_config_new();
	struct tls *srv = tls_server();
	const char *where = NULL, *msg = NULL;
	int rc, code = 0;

	capi_case = name;
	REQUIRE(cfg != NULL && srv != NULL);
	rc = tls_config_set_keypair_mem(cfg, cert, cert_len, key, key_len);
	if (rc == -1) {
		where = "tls_config_set_keypair_mem";
		msg = tls_config_error(cfg);
		code = tls_config_error_code(cfg);
		if (msg == NULL || msg[0] == '\0')
			FAILF("tls_config_set_keypair_mem = -1 without a tls_config_error()");
	} else if (rc != 0) {
		FAILF("tls_config_set_keypair_mem = %d", rc);
	} else {
		rc = tls_configure(srv, cfg);
		if (rc == -1) {
			where = "tls_configure";
			msg = tls_error(srv);
			code = tls_error_code(srv);
			if (msg == NULL || msg[0] == '\0')
				FAILF("tls_configure = -1 without a tls_error()");
		} else {
			FAILF("the bad keypair was accepted: tls_config_set_keypair_mem = 0, "
			    "tls_configure = %d", rc);
		}
	}
	printf("  %-34s fails in %-27s code %-16s %s: %s\n", name, capi_str(where),
	    capi_code_name(code), where != NULL ? "ok" : "FAIL", capi_str(msg));
	tls_free(srv);
	tls_config_free(cfg);
	capi_case = "";
}

static void
config_rows(void)
{
	static const unsigned char garbage[] = "this is not a certificate";
	static const unsigned char bad_b64[] =
	    "-----BEGIN CERTIFICATE-----\n%%%%not*base64%%%%\n-----END CERTIFICATE-----\n";
	size_t cert_len, key_len, other_len, rsa_len;
	unsigned char *cert = cert_read("server.pem", &cert_len);
	unsigned char *key = cert_read("server.key", &key_len);
	unsigned char *other = cert_read("untrusted.key", &other_len);
	unsigned char *rsa = cert_read("server-rsa.key", &rsa_len);
	unsigned char *trunc_cert = malloc(cert_len);
	struct tls_config *cfg = tls_config_new();

	REQUIRE(trunc_cert != NULL && cfg != NULL);
	memcpy(trunc_cert, cert, cert_len);
	printf("config rows:\n");

	/* A setter that parses memory may fail at once, or leave it to tls_configure. */
	bad_keypair("garbage certificate", garbage, sizeof(garbage) - 1, key, key_len);
	bad_keypair("certificate with bad base64", bad_b64, sizeof(bad_b64) - 1, key, key_len);
	bad_keypair("truncated certificate", trunc_cert, cert_len / 2, key, key_len);
	bad_keypair("garbage key", cert, cert_len, garbage, sizeof(garbage) - 1);
	bad_keypair("key of another certificate", cert, cert_len, other, other_len);
	bad_keypair("RSA key for an ECDSA cert", cert, cert_len, rsa, rsa_len);

	/* tls_config_set_cert_mem alone with garbage: -1 now or at tls_configure. */
	{
		struct tls *srv = tls_server();
		int rc = tls_config_set_cert_mem(cfg, garbage, sizeof(garbage) - 1);
		capi_case = "tls_config_set_cert_mem(garbage)";
		if (rc == 0) {
			CHECK_CFG(cfg, tls_config_set_key_mem(cfg, key, key_len));
			CHECK_RC(srv, tls_configure(srv, cfg), -1);
		} else {
			CHECK_RC(NULL, rc, -1);
			CHECK(tls_config_error(cfg) != NULL);
		}
		printf("  %-34s %s\n", capi_case, rc == 0 ? "fails in tls_configure" :
		    "fails in the setter");
		tls_free(srv);
		capi_case = "";
	}

	/* Files that do not exist. */
	capi_case = "missing files";
	CHECK_RC(NULL, tls_config_set_ca_file(cfg, "/nonexistent/ca.pem"), -1);
	CHECK(tls_config_error(cfg) != NULL);
	CHECK_RC(NULL, tls_config_set_keypair_file(cfg, "/nonexistent/c.pem",
	    "/nonexistent/c.key"), -1);
	CHECK(tls_config_error(cfg) != NULL);
	printf("  %-34s %s: %s\n", "missing files", "fail in the setter",
	    capi_str(tls_config_error(cfg)));
	capi_case = "";

	tls_config_free(cfg);
	free(trunc_cert);
	free(cert);
	free(key);
	free(other);
	free(rsa);
}

int
main(int argc, char **argv)
{
	capi_init(argc, argv);
	config_rows();
	printf("handshake rows (row, versions, expected client code, got, server got):\n");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (rows[i].cproto != 0) {
			run_row(&rows[i], 0);
		} else {
			run_row(&rows[i], T12);
			run_row(&rows[i], T13);
		}
	}
	return capi_finish("failures");
}
