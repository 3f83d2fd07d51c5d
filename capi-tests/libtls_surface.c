/* capi: nbtls-only */
/*
 * libtls_surface.c: the libtls functions whose nbtls behaviour is a mapping or a documented
 * difference (the README's "Differences from libtls"): cipher strings and curves mapped onto rustls, DHE
 * parameters accepted and ignored, the verification depth, prefer-ciphers, clear_keys,
 * tls_load_file, the sticky errors of void setters asking for the unsupported, and the issue-6
 * stubs.
 */
#include "common.h"

/* Handshakes a client and a server made from the two configs; returns 1 if both succeed. */
static int
pair_handshake(struct tls_config *ccfg, struct tls_config *scfg, struct conn_pair *cp)
{
	int co, so;

	conn_pair_open(cp, 4096, ccfg, scfg, "localhost");
	drive_handshakes(cp, &co, &so);
	return co == HS_OK && so == HS_OK;
}

static void
ciphers(void)
{
	struct tls_config *c = client_config(TLS_PROTOCOL_TLSv1_2, NULL);
	struct tls_config *s = server_config("server", 0, NULL);
	struct conn_pair cp;

	capi_case = "ciphers";
	CHECK_CFG(c, tls_config_set_ciphers(c, "ECDHE-ECDSA-AES128-GCM-SHA256"));
	CHECK(pair_handshake(c, s, &cp));
	CHECK_STR(tls_conn_cipher(cp.client), "ECDHE-ECDSA-AES128-GCM-SHA256");
	CHECK_RC(cp.client, tls_conn_cipher_strength(cp.client), 128);
	conn_pair_close(&cp);

	/* The server picks by its own order unless it prefers the client's. */
	CHECK_CFG(c, tls_config_set_ciphers(c, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"));
	CHECK_CFG(s, tls_config_set_ciphers(s, "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256"));
	CHECK(pair_handshake(c, s, &cp));
	CHECK_STR(tls_conn_cipher(cp.client), "ECDHE-ECDSA-AES256-GCM-SHA384");
	conn_pair_close(&cp);
	tls_config_prefer_ciphers_client(s);
	CHECK(pair_handshake(c, s, &cp));
	CHECK_STR(tls_conn_cipher(cp.client), "ECDHE-ECDSA-AES128-GCM-SHA256");
	conn_pair_close(&cp);
	tls_config_prefer_ciphers_server(s);

	/* TLS 1.3 suites follow the string when it names one. */
	CHECK_CFG(c, tls_config_set_protocols(c, TLS_PROTOCOLS_DEFAULT));
	CHECK_CFG(c, tls_config_set_ciphers(c, "TLS_CHACHA20_POLY1305_SHA256"));
	CHECK_CFG(s, tls_config_set_ciphers(s, "secure"));
	CHECK(pair_handshake(c, s, &cp));
	CHECK_STR(tls_conn_cipher(cp.client), "TLS_CHACHA20_POLY1305_SHA256");
	CHECK_RC(cp.client, tls_conn_cipher_strength(cp.client), 256);
	conn_pair_close(&cp);

	for (const char **k = (const char *[]){ "secure", "default", "compat", "legacy", "insecure", "all",
	    "HIGH:!aNULL", "TLSv1.3:TLSv1.2+AEAD+ECDHE:TLSv1.2+AEAD+DHE", NULL }; *k != NULL; k++)
		CHECK_CFG(c, tls_config_set_ciphers(c, *k));
	CHECK(tls_config_set_ciphers(c, "NOPE") == -1);
	CHECK(tls_config_error_code(c) == TLS_ERROR_INVALID_ARGUMENT);
	CHECK(tls_config_set_ciphers(c, "RC4:3DES") == -1);
	CHECK(tls_config_error_code(c) == TLS_ERROR_UNSUPPORTED);
	tls_config_free(c);
	tls_config_free(s);
}

static void
curves(void)
{
	struct tls_config *c = client_config(0, NULL);
	struct tls_config *s = server_config("server", 0, NULL);
	struct conn_pair cp;

	capi_case = "curves";
	CHECK_CFG(c, tls_config_set_ecdhecurves(c, "secp384r1"));
	CHECK_CFG(s, tls_config_set_ecdhecurves(s, "P-384,P-521"));
	CHECK(pair_handshake(c, s, &cp));
	conn_pair_close(&cp);
	CHECK_CFG(c, tls_config_set_ecdhecurve(c, "X25519"));
	CHECK(!pair_handshake(c, s, &cp)); /* no group in common */
	conn_pair_close(&cp);
	CHECK_CFG(c, tls_config_set_ecdhecurves(c, "default"));
	CHECK_CFG(c, tls_config_set_ecdhecurve(c, "auto"));
	CHECK(tls_config_set_ecdhecurves(c, "P-521") == -1);
	CHECK(tls_config_set_ecdhecurves(c, "bogus") == -1);
	CHECK(tls_config_set_ecdhecurve(c, "X25519,P-256") == -1);
	CHECK_CFG(c, tls_config_set_dheparams(c, "auto"));
	CHECK_CFG(c, tls_config_set_dheparams(c, "legacy"));
	CHECK(tls_config_set_dheparams(c, "bogus") == -1);
	tls_config_free(c);
	tls_config_free(s);
}

static void
verify_depth(void)
{
	struct tls_config *c = client_config(0, NULL);
	struct tls_config *s = tls_config_new();
	struct conn_pair cp;
	size_t n1, n2, kn;
	uint8_t *a = cert_read("server.pem", &n1), *b = cert_read("other-ca.pem", &n2);
	uint8_t *key = cert_read("server.key", &kn);
	uint8_t *chain = malloc(n1 + n2);

	capi_case = "verify_depth";
	/* The server sends one extra (unrelated) certificate: one intermediate by count. */
	memcpy(chain, a, n1);
	memcpy(chain + n1, b, n2);
	CHECK_CFG(s, tls_config_set_keypair_mem(s, chain, n1 + n2, key, kn));
	CHECK_CFG(c, tls_config_set_verify_depth(c, 0));
	CHECK(!pair_handshake(c, s, &cp));
	CHECK(strstr(capi_str(tls_error(cp.client)), "chain too long") != NULL);
	conn_pair_close(&cp);
	CHECK_CFG(c, tls_config_set_verify_depth(c, 1));
	CHECK(pair_handshake(c, s, &cp));
	conn_pair_close(&cp);
	CHECK(tls_config_set_verify_depth(c, -1) == -1);
	free(a), free(b), free(key), free(chain);
	tls_config_free(c);
	tls_config_free(s);
}

static void
keys_and_files(void)
{
	struct tls_config *c = client_config(0, NULL);
	struct tls_config *s = server_config("server", 0, NULL);
	struct tls *l2 = tls_server();
	struct conn_pair cp;
	char tmp[] = "/tmp/nbtls-surface-XXXXXX";
	const char *enc = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBAA==\n-----END ENCRYPTED PRIVATE KEY-----\n";
	char pw[] = "secret";
	size_t len;
	uint8_t *buf;
	int fd;

	capi_case = "keys_and_files";
	CHECK_STR(tls_default_ca_cert_file(), "/etc/ssl/certs/ca-certificates.crt");
	tls_config_skip_private_key_check(s);
	conn_pair_open(&cp, 4096, c, s, "localhost");
	tls_config_clear_keys(s);
	{
		int co, so;
		drive_handshakes(&cp, &co, &so);
		CHECK(co == HS_OK && so == HS_OK); /* configured before the keys were cleared */
	}
	CHECK_RC(l2, tls_configure(l2, s), -1);  /* no key any more */
	conn_pair_close(&cp);
	tls_free(l2);

	buf = tls_load_file(cert_path("server.key"), &len, pw);
	CHECK(buf != NULL && len > 0);
	tls_unload_file(buf, len);
	errno = 0;
	CHECK(tls_load_file("/nonexistent/nbtls", &len, NULL) == NULL);
	CHECK(errno == ENOENT);
	fd = mkstemp(tmp);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, enc, strlen(enc)) == (ssize_t)strlen(enc));
	close(fd);
	CHECK(tls_load_file(tmp, &len, pw) == NULL);
	CHECK(strstr(capi_str(tls_last_error()), "encrypted") != NULL);
	buf = tls_load_file(tmp, &len, NULL); /* without a password: the bytes as they are */
	CHECK(buf != NULL && len == strlen(enc));
	tls_unload_file(buf, len);
	unlink(tmp);
	tls_config_free(c);
	tls_config_free(s);
}

static void
sticky_and_stubs(void)
{
	struct tls_config *c = client_config(0, NULL);
	struct tls_config *s = server_config("server", 0, NULL);
	struct tls *ctx;
	struct conn_pair cp;
	/* verify_client(_optional) are real: see sessions_api.c */
	void (*const sticky[])(struct tls_config *) = { tls_config_ocsp_require_stapling,
	    tls_config_use_fake_private_key };
	size_t i, len = 1;

	capi_case = "sticky";
	for (i = 0; i < sizeof(sticky) / sizeof(sticky[0]); i++) {
		struct tls_config *x = server_config("server", 0, NULL);
		ctx = tls_server();
		sticky[i](x);
		CHECK_RC(ctx, tls_configure(ctx, x), -1);
		CHECK(tls_error_code(ctx) == TLS_ERROR_UNSUPPORTED);
		CHECK(strstr(capi_str(tls_error(ctx)), "supported by nbtls") != NULL);
		tls_free(ctx);
		tls_config_free(x);
	}

	capi_case = "stubs";
	/* keypairs, session options and peer accessors are real (sessions_api.c);
	 * OCSP processing stays unsupported. */
	CHECK(tls_config_set_session_id(s, (const unsigned char *)"id", 2) == 0);
	CHECK(tls_config_add_ticket_key(s, 1, (unsigned char *)"k", 1) == -1);
	CHECK(tls_config_error_code(s) == TLS_ERROR_INVALID_ARGUMENT);
	CHECK(tls_config_set_crl_file(s, cert_path("ca.pem")) == -1); /* no CRL in it */
	CHECK(tls_config_set_session_fd(c, -1) == 0);
	CHECK(pair_handshake(c, s, &cp));
	CHECK_RC(cp.client, tls_peer_cert_provided(cp.client), 1);
	CHECK_RC(cp.server, tls_peer_cert_provided(cp.server), 0);
	CHECK_RC(cp.client, tls_peer_cert_contains_name(cp.client, "localhost"), 1);
	CHECK(tls_peer_cert_hash(cp.server) == NULL);
	CHECK(tls_error(cp.server) == NULL); /* accessors leave the context's error alone */
	CHECK(tls_peer_cert_subject(cp.server) == NULL && tls_peer_cert_issuer(cp.server) == NULL);
	CHECK(tls_peer_cert_notbefore(cp.server) == -1 && tls_peer_cert_notafter(cp.server) == -1);
	CHECK(tls_peer_cert_chain_pem(cp.server, &len) == NULL && len == 0);
	CHECK(tls_peer_ocsp_response_status(cp.client) == -1 && tls_peer_ocsp_cert_status(cp.client) == -1);
	CHECK(tls_peer_ocsp_crl_reason(cp.client) == -1 && tls_peer_ocsp_result(cp.client) == NULL);
	CHECK(tls_peer_ocsp_this_update(cp.client) == -1 && tls_peer_ocsp_next_update(cp.client) == -1);
	CHECK(tls_peer_ocsp_revocation_time(cp.client) == -1 && tls_peer_ocsp_url(cp.client) == NULL);
	CHECK_RC(cp.client, tls_ocsp_process_response(cp.client, (const unsigned char *)"x", 1), -1);
	CHECK(tls_error_code(cp.client) == TLS_ERROR_UNSUPPORTED);
	conn_pair_close(&cp);
	tls_config_free(c);
	tls_config_free(s);
}

int
main(int argc, char **argv)
{
	capi_init(argc, argv);
	ciphers();
	curves();
	verify_depth();
	keys_and_files();
	sticky_and_stubs();
	return capi_finish("libtls_surface");
}
