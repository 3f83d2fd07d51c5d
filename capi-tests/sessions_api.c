/* capi: nbtls-only */
/*
 * sessions_api.c: sessions, client certificates, SNI and the peer accessors through the
 * C API, over in-memory rings.
 *
 * - resumption with one client config (TLS 1.3 and 1.2), and across two server configs
 *   ("processes") given the same tls_config_add_ticket_key; a foreign key falls back to a
 *   full handshake without error; the key list's errors;
 * - tls_config_set_session_fd's checks, tls_config_set_session_id's limit;
 * - client certificates: required, optional, missing;
 * - SNI with tls_config_add_keypair_file, and tls_conn_servername;
 * - every tls_peer_cert_* accessor compared with what `openssl x509` prints.
 */
#include <sys/stat.h>
#include <time.h>

#include "common.h"

/* Connects, drives both handshakes, moves "hi" from server to client and closes. Returns
 * 1 when both handshakes succeeded; *resumed gets tls_conn_session_resumed(client). */
static int
session(struct tls_config *ccfg, struct tls_config *scfg, const char *name, int *resumed,
    void (*inspect)(struct conn_pair *))
{
	struct conn_pair cp;
	int co, so, ok;
	char buf[8];

	conn_pair_open(&cp, 1 << 16, ccfg, scfg, name);
	drive_handshakes(&cp, &co, &so);
	ok = co == HS_OK && so == HS_OK;
	*resumed = -1;
	if (ok) {
		CHECK_RC(cp.server, tls_write(cp.server, "hi", 2), 2);
		CHECK_RC(cp.client, tls_read(cp.client, buf, sizeof(buf)), 2);
		*resumed = tls_conn_session_resumed(cp.client);
		CHECK(tls_conn_session_resumed(cp.server) == *resumed);
		if (inspect != NULL)
			inspect(&cp);
		tls_close(cp.client);
		tls_close(cp.server);
	}
	conn_pair_close(&cp);
	return ok;
}

static void
resumption(void)
{
	static const uint32_t protos[] = { TLS_PROTOCOL_TLSv1_3, TLS_PROTOCOL_TLSv1_2 };
	unsigned char key[TLS_TICKET_KEY_SIZE], other[TLS_TICKET_KEY_SIZE];
	size_t i;
	int r;

	memset(key, 0x42, sizeof(key));
	memset(other, 0x24, sizeof(other));
	for (i = 0; i < 2; i++) {
		struct tls_config *c = client_config(protos[i], NULL);
		struct tls_config *a = server_config("server", protos[i], NULL);
		struct tls_config *b = server_config("server", protos[i], NULL);
		struct tls_config *f = server_config("server", protos[i], NULL);

		capi_case = proto_name(protos[i]);
		CHECK(session(c, a, "localhost", &r, NULL) && r == 0);
		CHECK(session(c, a, "localhost", &r, NULL) && r == 1);
		/* Two processes given the same key resume each other's sessions. */
		CHECK_CFG(a, tls_config_add_ticket_key(a, 1, key, sizeof(key)));
		CHECK_CFG(b, tls_config_add_ticket_key(b, 1, key, sizeof(key)));
		CHECK_CFG(f, tls_config_add_ticket_key(f, 1, other, sizeof(other)));
		CHECK(session(c, a, "localhost", &r, NULL) && r == 0);
		CHECK(session(c, b, "localhost", &r, NULL) && r == 1);
		/* A foreign key: a full handshake, no error. */
		CHECK(session(c, f, "localhost", &r, NULL) && r == 0);
		/* Rotation on b: a ticket of key 1 (from a) still resumes there. */
		CHECK(session(c, a, "localhost", &r, NULL));
		CHECK_CFG(b, tls_config_add_ticket_key(b, 2, other, sizeof(other)));
		CHECK(session(c, b, "localhost", &r, NULL) && r == 1);
		tls_config_free(c);
		tls_config_free(a);
		tls_config_free(b);
		tls_config_free(f);
	}

	capi_case = "ticket key errors";
	{
		struct tls_config *s = tls_config_new();
		CHECK(tls_config_add_ticket_key(s, 1, key, 47) == -1);
		CHECK(tls_config_error_code(s) == TLS_ERROR_INVALID_ARGUMENT);
		CHECK_CFG(s, tls_config_add_ticket_key(s, 1, key, sizeof(key)));
		CHECK_CFG(s, tls_config_add_ticket_key(s, 1, key, sizeof(key))); /* newest again */
		CHECK(tls_config_add_ticket_key(s, 1, other, sizeof(other)) == -1);
		CHECK(strstr(capi_str(tls_config_error(s)), "exists") != NULL);
		CHECK_CFG(s, tls_config_add_ticket_key(s, 2, other, sizeof(other)));
		CHECK(tls_config_add_ticket_key(s, 1, key, sizeof(key)) == -1); /* not the newest */
		CHECK(tls_config_set_session_cache_size(s, 0) == 0);
		tls_config_free(s);
	}
}

static void
session_options(void)
{
	struct tls_config *c = tls_config_new();
	char path[] = "/tmp/nbtls-session-XXXXXX";
	unsigned char id[33];
	int fd, p[2];

	capi_case = "session fd";
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	CHECK(fchmod(fd, 0600) == 0);
	CHECK_CFG(c, tls_config_set_session_fd(c, fd));
	CHECK(fchmod(fd, 0644) == 0);
	CHECK(tls_config_set_session_fd(c, fd) == -1);
	CHECK(strstr(capi_str(tls_config_error(c)), "permissions") != NULL);
	close(fd);
	unlink(path);
	REQUIRE(pipe(p) == 0);
	CHECK(tls_config_set_session_fd(c, p[0]) == -1);
	CHECK(strstr(capi_str(tls_config_error(c)), "regular file") != NULL);
	close(p[0]);
	close(p[1]);
	CHECK(tls_config_set_session_fd(c, p[0]) == -1); /* closed: fstat fails */
	CHECK_CFG(c, tls_config_set_session_fd(c, -1));

	capi_case = "session id";
	memset(id, 7, sizeof(id));
	CHECK_CFG(c, tls_config_set_session_id(c, id, 32));
	CHECK(tls_config_set_session_id(c, id, 33) == -1);
	tls_config_free(c);
}

static void
client_subject(struct conn_pair *cp)
{
	CHECK_RC(cp->server, tls_peer_cert_provided(cp->server), 1);
	CHECK(strcmp(capi_str(tls_peer_cert_subject(cp->server)), "/CN=client.example") == 0);
	CHECK(strcmp(capi_str(tls_peer_cert_common_name(cp->server)), "client.example") == 0);
	CHECK_RC(cp->server, tls_peer_cert_contains_name(cp->server, "client.example"), 1);
}

static void
no_client_cert(struct conn_pair *cp)
{
	CHECK_RC(cp->server, tls_peer_cert_provided(cp->server), 0);
	CHECK(tls_peer_cert_subject(cp->server) == NULL);
}

static void
client_certs(void)
{
	struct tls_config *with = client_config(0, NULL), *without = client_config(0, NULL);
	struct tls_config *req = server_config("server", 0, NULL);
	struct tls_config *opt = server_config("server", 0, NULL);
	int r;

	capi_case = "client certificates";
	CHECK_CFG(with, tls_config_set_keypair_file(with, cert_path("client.pem"), cert_path("client.key")));
	CHECK_CFG(req, tls_config_set_ca_file(req, cert_path("ca.pem")));
	CHECK_CFG(opt, tls_config_set_ca_file(opt, cert_path("ca.pem")));
	tls_config_verify_client(req);
	tls_config_verify_client_optional(opt);
	CHECK(session(with, req, "localhost", &r, client_subject));
	CHECK(!session(without, req, "localhost", &r, NULL));
	CHECK(session(without, opt, "localhost", &r, no_client_cert));
	CHECK(session(with, opt, "localhost", &r, client_subject));
	tls_config_free(with);
	tls_config_free(without);
	tls_config_free(req);
	tls_config_free(opt);
}

static void
wrong_example(struct conn_pair *cp)
{
	CHECK(strcmp(capi_str(tls_peer_cert_subject(cp->client)), "/CN=wrong.example") == 0);
	CHECK(strcmp(capi_str(tls_conn_servername(cp->server)), "wrong.example") == 0);
}

static void
localhost(struct conn_pair *cp)
{
	CHECK_RC(cp->client, tls_peer_cert_contains_name(cp->client, "localhost"), 1);
	CHECK(strcmp(capi_str(tls_conn_servername(cp->server)), "localhost") == 0);
}

static void
sni(void)
{
	struct tls_config *c = client_config(0, NULL), *s = server_config("server", 0, NULL);
	int r;

	capi_case = "SNI";
	CHECK_CFG(s, tls_config_add_keypair_file(s, cert_path("wrongname.pem"), cert_path("wrongname.key")));
	CHECK(session(c, s, "wrong.example", &r, wrong_example));
	CHECK(session(c, s, "localhost", &r, localhost));
	tls_config_free(c);
	tls_config_free(s);
}

/* The first line `openssl x509 -in CERTDIR/server.pem ARGS` prints, after any "name=". */
static char *
openssl_x509(const char *args, char *out, size_t len)
{
	char cmd[1024];
	FILE *f;
	char *eq;

	snprintf(cmd, sizeof(cmd), "openssl x509 -in '%s' -noout %s 2>/dev/null", cert_path("server.pem"), args);
	f = popen(cmd, "r");
	REQUIRE(f != NULL);
	out[0] = '\0';
	if (fgets(out, (int)len, f) == NULL)
		out[0] = '\0';
	pclose(f);
	out[strcspn(out, "\n")] = '\0';
	eq = strchr(out, '=');
	return eq != NULL ? eq + 1 : out;
}

static time_t
gmt(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (strptime(s, "%b %d %H:%M:%S %Y GMT", &tm) == NULL)
		return -2;
	return timegm(&tm);
}

static void
accessors(struct conn_pair *cp)
{
	char o[512], hash[128];
	const uint8_t *pem;
	unsigned char *file;
	size_t len = 0, flen, i, j;
	char *fp;

	CHECK(strcmp(capi_str(tls_peer_cert_subject(cp->client)), openssl_x509("-subject -nameopt compat", o, sizeof(o))) == 0);
	CHECK(strcmp(capi_str(tls_peer_cert_issuer(cp->client)), openssl_x509("-issuer -nameopt compat", o, sizeof(o))) == 0);
	CHECK(tls_peer_cert_notbefore(cp->client) == gmt(openssl_x509("-startdate", o, sizeof(o))));
	CHECK(tls_peer_cert_notafter(cp->client) == gmt(openssl_x509("-enddate", o, sizeof(o))));
	/* "AB:CD:…" becomes "SHA256:abcd…" */
	fp = openssl_x509("-fingerprint -sha256", o, sizeof(o));
	strcpy(hash, "SHA256:");
	for (i = 0, j = 7; fp[i] != '\0' && j < sizeof(hash) - 1; i++)
		if (fp[i] != ':')
			hash[j++] = (char)(fp[i] >= 'A' && fp[i] <= 'F' ? fp[i] - 'A' + 'a' : fp[i]);
	hash[j] = '\0';
	CHECK(strcmp(capi_str(tls_peer_cert_hash(cp->client)), hash) == 0);
	CHECK(strcmp(capi_str(tls_peer_cert_common_name(cp->client)), "localhost,IP:127.0.0.1") == 0);
	CHECK_RC(cp->client, tls_peer_cert_contains_name(cp->client, "127.0.0.1"), 1);
	CHECK_RC(cp->client, tls_peer_cert_contains_name(cp->client, "other.example"), 0);
	pem = tls_peer_cert_chain_pem(cp->client, &len);
	file = cert_read("server.pem", &flen);
	CHECK(pem != NULL && len == flen && memcmp(pem, file, len) == 0);
	free(file);
	/* The server asked no certificate. */
	CHECK_RC(cp->server, tls_peer_cert_provided(cp->server), 0);
	CHECK(tls_peer_cert_hash(cp->server) == NULL);
	CHECK(tls_peer_cert_chain_pem(cp->server, &len) == NULL && len == 0);
	CHECK(tls_peer_cert_notbefore(cp->server) == -1);
	CHECK(tls_error(cp->client) == NULL); /* accessors leave the context's error alone */
}

static void
peer_accessors(void)
{
	struct tls_config *c = client_config(0, NULL), *s = server_config("server", 0, NULL);
	int r;

	capi_case = "peer accessors";
	CHECK(session(c, s, "localhost", &r, accessors));
	tls_config_free(c);
	tls_config_free(s);
}

int
main(int argc, char **argv)
{
	capi_init(argc, argv);
	resumption();
	session_options();
	client_certs();
	sni();
	peer_accessors();
	return capi_finish("sessions_api");
}
