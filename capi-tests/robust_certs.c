/*
 * robust_certs.c: certificate validation negatives, from a table.
 *
 * Each row gives the server a certificate chain and key, the client its checks (verify
 * depth, insecure switches), and the outcome: the client's tls_handshake is 0, or -1 with
 * the exact tls_error_code; when the client refuses, the server's handshake is -1 with
 * TLS_ERROR_PEER_ALERT and the alert rustls sends for that failure (certificate_expired 45,
 * bad_certificate 42, unsupported_certificate 43, certificate_unknown 46, unknown_ca 48,
 * decrypt_error 51 for a signature algorithm webpki refuses). Rows with a valid chain
 * are controls, so a test that refused everything would fail. Extra certificates (chains of
 * intermediates, an expired intermediate, a self-signed leaf, an ECDSA-SHA1 leaf, a CA
 * certificate used as a leaf) are made at test time by tests/gen-extra-certs.sh into a
 * temporary directory; the rest comes from tests/gen-certs.sh (argv[1]).
 * A mismatched certificate and key must be refused when the server is configured.
 * Both protocol versions run every row (TLS 1.2 verifies in the client's second flight,
 * TLS 1.3 after decrypting the server's).
 */
/* capi: nbtls-only */
#include "common.h"

#include <sys/stat.h>

enum { EXTRA = 1 };
#define F_NONAME 1
#define F_NOTIME 2

struct cert_case {
	const char *name;
	int dir;           /* 0: gen-certs.sh's directory, EXTRA: gen-extra-certs.sh's */
	const char *cert, *key;
	int depth;         /* tls_config_set_verify_depth, or -1 for the default */
	int flags;         /* F_NONAME, F_NOTIME */
	int client_code;   /* 0: the handshake succeeds */
	int alert;         /* the alert the server receives when the client refuses */
};

static const struct cert_case cases[] = {
	{ "valid leaf (control)", 0, "server.pem", "server.key", -1, 0, 0, 0 },
	{ "leaf with its intermediate (control)", EXTRA, "leaf1-chain.pem", "leaf1.key", -1, 0, 0,
	    0 },
	{ "3 intermediates, depth 3 (control)", EXTRA, "leaf3-chain.pem", "leaf3.key", 3, 0, 0, 0 },
	{ "expired", 0, "expired.pem", "expired.key", -1, 0, TLS_ERROR_CERT_EXPIRED, 45 },
	{ "not yet valid", 0, "notyet.pem", "notyet.key", -1, 0, TLS_ERROR_CERT_NOT_YET_VALID, 45 },
	{ "wrong name", 0, "wrongname.pem", "wrongname.key", -1, 0, TLS_ERROR_CERT_NAME_MISMATCH,
	    42 },
	{ "wrong EKU (clientAuth only)", 0, "client.pem", "client.key", -1, 0,
	    TLS_ERROR_CERT_BAD_USAGE, 43 },
	{ "self-signed leaf", EXTRA, "selfsigned.pem", "selfsigned.key", -1, 0,
	    TLS_ERROR_CERT_UNKNOWN_CA, 48 },
	{ "signed by an untrusted CA", 0, "untrusted.pem", "untrusted.key", -1, 0,
	    TLS_ERROR_CERT_UNKNOWN_CA, 48 },
	{ "unknown intermediate (not sent)", EXTRA, "leaf1.pem", "leaf1.key", -1, 0,
	    TLS_ERROR_CERT_UNKNOWN_CA, 48 },
	{ "expired intermediate", EXTRA, "leafexp-chain.pem", "leafexp.key", -1, 0,
	    TLS_ERROR_CERT_EXPIRED, 45 },
	{ "3 intermediates, depth 2 (too long)", EXTRA, "leaf3-chain.pem", "leaf3.key", 2, 0,
	    TLS_ERROR_CERT_OTHER, 46 },
	{ "1 intermediate, depth 0 (too long)", EXTRA, "leaf1-chain.pem", "leaf1.key", 0, 0,
	    TLS_ERROR_CERT_OTHER, 46 },
	{ "weak signature (ECDSA-SHA1)", EXTRA, "sha1.pem", "sha1.key", -1, 0, TLS_ERROR_CERT_OTHER,
	    51 },
	{ "CA certificate as the leaf", EXTRA, "caleaf.pem", "caleaf.key", -1, 0,
	    TLS_ERROR_CERT_OTHER, 46 },
	/* The insecure switches forgive only their own check. */
	{ "expired, noverifytime", 0, "expired.pem", "expired.key", -1, F_NOTIME, 0, 0 },
	{ "wrong name, noverifyname", 0, "wrongname.pem", "wrongname.key", -1, F_NONAME, 0, 0 },
	{ "untrusted, noverifyname+time", 0, "untrusted.pem", "untrusted.key", -1,
	    F_NONAME | F_NOTIME, TLS_ERROR_CERT_UNKNOWN_CA, 48 },
	{ "wrong EKU, noverifyname+time", 0, "client.pem", "client.key", -1, F_NONAME | F_NOTIME,
	    TLS_ERROR_CERT_BAD_USAGE, 43 },
};

static char extra_dir[256];

static char *
path_in(int dir, const char *name)
{
	static char buf[4][1024];
	static int i;
	char *p = buf[i++ % 4];

	if (dir == EXTRA)
		snprintf(p, sizeof(buf[0]), "%s/%s", extra_dir, name);
	else
		snprintf(p, sizeof(buf[0]), "%s/%s", capi_certdir, name);
	return p;
}

static void
run_case(const struct cert_case *c, uint32_t proto)
{
	struct tls_config *ccfg = client_config(proto, NULL), *scfg = tls_config_new();
	struct conn_pair cp;
	int cout, sout;
	char label[160];

	snprintf(label, sizeof(label), "%s, %s", c->name, proto_name(proto));
	capi_case = label;
	REQUIRE(scfg != NULL);
	CHECK_CFG(scfg, tls_config_set_keypair_file(scfg, path_in(c->dir, c->cert),
	    path_in(c->dir, c->key)));
	if (c->depth >= 0)
		CHECK_CFG(ccfg, tls_config_set_verify_depth(ccfg, c->depth));
	if (c->flags & F_NONAME)
		tls_config_insecure_noverifyname(ccfg);
	if (c->flags & F_NOTIME)
		tls_config_insecure_noverifytime(ccfg);
	conn_pair_open(&cp, 4096, ccfg, scfg, "localhost");
	drive_handshakes(&cp, &cout, &sout);
	if (c->client_code == 0) {
		if (cout != HS_OK || sout != HS_OK)
			FAILF("handshake: client %s (%s), server %s (%s)", hs_outcome_name(cout),
			    capi_str(tls_error(cp.client)), hs_outcome_name(sout),
			    capi_str(tls_error(cp.server)));
	} else {
		if (cout != HS_FAILED)
			FAILF("client handshake %s, expected a failure", hs_outcome_name(cout));
		else
			CHECK_CODE(cp.client, c->client_code);
		CHECK(tls_error(cp.client) != NULL);
		if (sout != HS_FAILED) {
			FAILF("server handshake %s, expected a failure", hs_outcome_name(sout));
		} else {
			CHECK_CODE(cp.server, TLS_ERROR_PEER_ALERT);
			CHECK_RC(cp.server, tls_error_alert(cp.server), c->alert);
		}
		/* A failed context stays failed. */
		CHECK_RC(cp.client, tls_handshake(cp.client), -1);
		CHECK_RC(cp.client, tls_write(cp.client, "x", 1), -1);
	}
	conn_pair_close(&cp);
	tls_config_free(ccfg);
	tls_config_free(scfg);
}

/*
 * A certificate with another certificate's key: loading the files succeeds (as in libtls,
 * nothing is checked yet), tls_configure refuses the pair with a message and
 * TLS_ERROR_INVALID_ARGUMENT, and the listener accepts nothing.
 */
static void
mismatched_key(void)
{
	struct tls_config *scfg = tls_config_new();
	struct tls *l = tls_server(), *cctx = NULL;
	int sv[2];

	capi_case = "mismatched key";
	REQUIRE(scfg != NULL && l != NULL);
	CHECK_CFG(scfg, tls_config_set_keypair_file(scfg, cert_path("server.pem"),
	    cert_path("expired.key")));
	CHECK_RC(l, tls_configure(l, scfg), -1);
	CHECK(tls_error(l) != NULL);
	CHECK_CODE(l, TLS_ERROR_INVALID_ARGUMENT);
	make_socketpair(sv, 1, 0);
	CHECK_RC(l, tls_accept_socket(l, &cctx, sv[1]), -1);
	CHECK(cctx == NULL);
	close(sv[0]);
	close(sv[1]);
	tls_free(l);
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

	for (size_t p = 0; p < 2; p++)
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			run_case(&cases[i], protos[p]);
	mismatched_key();

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", extra_dir);
	CHECK(system(cmd) == 0);
	return capi_finish("robust_certs");
}
