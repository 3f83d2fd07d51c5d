/*
 * verify_switches.c: what each tls_config_insecure_* switch means on a server and on a
 * client, as libtls defines it (tls_config_verify(3), tls_config_verify_client(3)); the same
 * table runs against Debian's libtls (LIBTLS=1) and nbtls.
 *
 * Server rows: a server asks for a client certificate (tls_config_verify_client_optional or
 * tls_config_verify_client, CA file ca.pem) with some switches; the client sends a
 * certificate or none. With noverifycert any certificate (self-signed, unknown issuer,
 * expired) is accepted and left to the program, whose tls_peer_cert_provided() is 1 and
 * tls_peer_cert_hash() the certificate's SHA-256 (checked against `openssl x509
 * -fingerprint`); verify_client still requires one. noverifytime forgives only an expired
 * certificate; noverifyname means nothing on a server.
 *
 * Client rows: noverifycert skips the chain and the times but not the name, which only
 * noverifyname forgives; a NULL server name needs noverifyname.
 * Extra certificates come from tests/gen-extra-certs.sh (argv[1] holds gen-certs.sh's).
 * Both protocol versions run every row.
 */
#include "common.h"

#define NOCERT 1
#define NOTIME 2
#define NONAME 4

enum { REQUIRED = 1, OPTIONAL = 2 };

struct srow {
	const char *name;
	int mode;          /* REQUIRED or OPTIONAL */
	int insecure;      /* the server's switches */
	const char *cert;  /* the client's certificate: NULL none, "x:" prefix = extra dir */
	int ok;            /* the server's handshake succeeds */
};

static const struct srow srows[] = {
	{ "optional+noverifycert: self-signed", OPTIONAL, NOCERT, "x:selfclient", 1 },
	{ "optional+noverifycert: unknown issuer", OPTIONAL, NOCERT, "untrusted", 1 },
	{ "optional+noverifycert: expired", OPTIONAL, NOCERT, "x:clientexp", 1 },
	{ "optional+noverifycert: valid", OPTIONAL, NOCERT, "client", 1 },
	{ "optional+noverifycert: none", OPTIONAL, NOCERT, NULL, 1 },
	{ "optional: self-signed refused", OPTIONAL, 0, "x:selfclient", 0 },
	{ "optional: unknown issuer refused", OPTIONAL, 0, "untrusted", 0 },
	{ "optional: valid", OPTIONAL, 0, "client", 1 },
	{ "optional: none", OPTIONAL, 0, NULL, 1 },
	{ "required+noverifycert: self-signed", REQUIRED, NOCERT, "x:selfclient", 1 },
	{ "required+noverifycert: none refused", REQUIRED, NOCERT, NULL, 0 },
	{ "required: self-signed refused", REQUIRED, 0, "x:selfclient", 0 },
	{ "required: expired refused", REQUIRED, 0, "x:clientexp", 0 },
	{ "required+noverifytime: expired", REQUIRED, NOTIME, "x:clientexp", 1 },
	{ "required+noverifytime: self-signed refused", REQUIRED, NOTIME, "x:selfclient", 0 },
	{ "required+noverifyname: expired refused", REQUIRED, NONAME, "x:clientexp", 0 },
	{ "required+noverifyname: self-signed refused", REQUIRED, NONAME, "x:selfclient", 0 },
};

struct crow {
	const char *name;
	const char *cert;       /* the server's keypair */
	const char *servername; /* NULL: tls_connect_cbs must fail unless noverifyname */
	int insecure;           /* the client's switches */
	int ok;
};

static const struct crow crows[] = {
	{ "noverifycert: untrusted", "untrusted", "localhost", NOCERT, 1 },
	{ "noverifycert: expired", "expired", "localhost", NOCERT, 1 },
	{ "noverifycert: wrong name refused", "wrongname", "localhost", NOCERT, 0 },
	{ "noverifycert: by IP address", "untrusted", "127.0.0.1", NOCERT, 1 },
	{ "noverifycert+noverifyname: wrong name", "wrongname", "localhost", NOCERT | NONAME,
	    1 },
	{ "noverifycert: NULL name refused", "server", NULL, NOCERT, 0 },
	{ "noverifycert+noverifyname: NULL name", "server", NULL, NOCERT | NONAME, 1 },
};

static char extra_dir[256];

static const char *
path_of(const char *cert, const char *ext)
{
	static char buf[4][1024];
	static int i;
	char *p = buf[i++ % 4];

	if (strncmp(cert, "x:", 2) == 0)
		snprintf(p, sizeof(buf[0]), "%s/%s%s", extra_dir, cert + 2, ext);
	else
		snprintf(p, sizeof(buf[0]), "%s/%s%s", capi_certdir, cert, ext);
	return p;
}

/* "SHA256:" and the lowercase hex of the certificate's SHA-256, as libtls formats it. */
static void
expected_hash(const char *pem, char *out, size_t len)
{
	char cmd[1200], line[256], *eq;
	size_t o;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "openssl x509 -in '%s' -noout -fingerprint -sha256", pem);
	f = popen(cmd, "r");
	REQUIRE(f != NULL);
	REQUIRE(fgets(line, sizeof(line), f) != NULL);
	pclose(f);
	eq = strchr(line, '=');
	REQUIRE(eq != NULL);
	snprintf(out, len, "SHA256:");
	o = strlen(out);
	for (eq++; *eq != '\0' && *eq != '\n' && o + 1 < len; eq++)
		if (*eq != ':')
			out[o++] = (char)(*eq >= 'A' && *eq <= 'F' ? *eq - 'A' + 'a' : *eq);
	out[o] = '\0';
}

static void
apply(struct tls_config *cfg, int insecure)
{
	if (insecure & NOCERT)
		tls_config_insecure_noverifycert(cfg);
	if (insecure & NOTIME)
		tls_config_insecure_noverifytime(cfg);
	if (insecure & NONAME)
		tls_config_insecure_noverifyname(cfg);
}

static void
server_row(const struct srow *r, uint32_t proto)
{
	static char casename[160];
	struct tls_config *scfg = server_config("server", proto, NULL);
	struct tls_config *ccfg = client_config(proto, NULL);
	struct conn_pair cp;
	int co, so, before = capi_failures;

	snprintf(casename, sizeof(casename), "%s, %s", r->name, proto_name(proto));
	capi_case = casename;
	CHECK_CFG(scfg, tls_config_set_ca_file(scfg, cert_path("ca.pem")));
	if (r->mode == REQUIRED)
		tls_config_verify_client(scfg);
	else
		tls_config_verify_client_optional(scfg);
	apply(scfg, r->insecure);
	if (r->cert != NULL)
		CHECK_CFG(ccfg, tls_config_set_keypair_file(ccfg, path_of(r->cert, ".pem"),
		    path_of(r->cert, ".key")));
	conn_pair_open(&cp, 65536, ccfg, scfg, "localhost");
	drive_handshakes(&cp, &co, &so);
	if (r->ok) {
		if (co != HS_OK || so != HS_OK)
			FAILF("handshake: client %s (%s), server %s (%s); expected success",
			    hs_outcome_name(co), capi_str(tls_error(cp.client)),
			    hs_outcome_name(so), capi_str(tls_error(cp.server)));
		else if (r->cert == NULL) {
			CHECK(tls_peer_cert_provided(cp.server) == 0);
		} else {
			char want[128];
			const char *got = tls_peer_cert_hash(cp.server);

			expected_hash(path_of(r->cert, ".pem"), want, sizeof(want));
			CHECK(tls_peer_cert_provided(cp.server) == 1);
			if (got == NULL || strcmp(got, want) != 0)
				FAILF("tls_peer_cert_hash = %s, expected %s", capi_str(got), want);
			CHECK(tls_peer_cert_subject(cp.server) != NULL);
			CHECK(tls_peer_cert_notafter(cp.server) > 0);
		}
	} else if (so != HS_FAILED) {
		FAILF("server handshake %s, expected -1", hs_outcome_name(so));
	} else if (tls_error(cp.server) == NULL) {
		FAILF("server failed without a tls_error() message");
	}
	printf("  %-44s %-8s client %-12s server %-12s %s\n", r->name, proto_name(proto),
	    hs_outcome_name(co), hs_outcome_name(so), capi_failures == before ? "ok" : "FAIL");
	if (so == HS_FAILED)
		printf("      server: %s\n", capi_str(tls_error(cp.server)));
	conn_pair_close(&cp);
	tls_config_free(ccfg);
	tls_config_free(scfg);
}

static void
client_row(const struct crow *r, uint32_t proto)
{
	static char casename[160];
	struct tls_config *scfg = server_config(r->cert, proto, NULL);
	struct tls_config *ccfg = client_config(proto, NULL);
	struct conn_pair cp;
	int co = HS_FAILED, so = HS_STALLED, before = capi_failures;

	snprintf(casename, sizeof(casename), "%s, %s", r->name, proto_name(proto));
	capi_case = casename;
	apply(ccfg, r->insecure);
	if (r->servername == NULL && !r->ok) {
		/* libtls refuses the connect itself: "server name not specified". */
		struct tls *c = tls_client();

		REQUIRE(c != NULL);
		REQUIRE_RC(c, tls_configure(c, ccfg), 0);
		memset(&cp, 0, sizeof(cp));
		pipe2_init(&cp.pipe, 1024);
		CHECK_RC(c, tls_connect_cbs(c, ep_read_cb, ep_write_cb, &cp.pipe.cli, NULL), -1);
		CHECK(tls_error(c) != NULL);
		printf("  %-44s %-8s tls_connect_cbs: %s %s\n", r->name, proto_name(proto),
		    capi_str(tls_error(c)), capi_failures == before ? "ok" : "FAIL");
		tls_free(c);
		pipe2_free(&cp.pipe);
		tls_config_free(ccfg);
		tls_config_free(scfg);
		return;
	}
	conn_pair_open(&cp, 65536, ccfg, scfg, r->servername);
	drive_handshakes(&cp, &co, &so);
	if (r->ok ? co != HS_OK : co != HS_FAILED)
		FAILF("client handshake %s, expected %s; tls_error: %s", hs_outcome_name(co),
		    r->ok ? "success" : "-1", capi_str(tls_error(cp.client)));
	printf("  %-44s %-8s client %-12s %s\n", r->name, proto_name(proto),
	    hs_outcome_name(co), capi_failures == before ? "ok" : "FAIL");
	if (co == HS_FAILED)
		printf("      client: %s\n", capi_str(tls_error(cp.client)));
	conn_pair_close(&cp);
	tls_config_free(ccfg);
	tls_config_free(scfg);
}

int
main(int argc, char **argv)
{
	static const uint32_t protos[] = { TLS_PROTOCOL_TLSv1_2, TLS_PROTOCOL_TLSv1_3 };
	char cmd[2048], here[1024];
	char *slash;

	capi_init(argc, argv);
	snprintf(extra_dir, sizeof(extra_dir), "/tmp/nbtls-certs-XXXXXX");
	REQUIRE(mkdtemp(extra_dir) != NULL);
	snprintf(here, sizeof(here), "%s", __FILE__);
	slash = strrchr(here, '/');
	if (slash != NULL)
		*slash = '\0';
	else
		snprintf(here, sizeof(here), ".");
	snprintf(cmd, sizeof(cmd), "sh '%s/../tests/gen-extra-certs.sh' '%s' '%s'", here,
	    capi_certdir, extra_dir);
	REQUIRE(system(cmd) == 0);

	for (size_t p = 0; p < 2; p++) {
		for (size_t i = 0; i < sizeof(srows) / sizeof(srows[0]); i++)
			server_row(&srows[i], protos[p]);
		for (size_t i = 0; i < sizeof(crows) / sizeof(crows[0]); i++)
			client_row(&crows[i], protos[p]);
	}

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", extra_dir);
	CHECK(system(cmd) == 0);
	return capi_finish("verify_switches");
}
