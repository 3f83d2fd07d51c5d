/* capi: nbtls-only */
/*
 * nullability.c: calls every nbtls export with NULL in each pointer argument (the cases are
 * generated from include/nbtls.h by gen.py into cases.h) and checks the documented answer:
 * the failure value and a message in tls_last_error() where NULL is rejected, no failure
 * blamed on the NULL where libtls accepts it. Then the NULLs libtls accepts, in use, a few
 * calls in the wrong state, and a second tls_close returning 0.
 *
 *   nullability CERTDIR   (built by tests/nullability/run.sh)
 */
#include "common.h"

struct env {
	struct tls *ctx;
	struct tls *out;
	struct tls_config *cfg;
	char chars[8];
	unsigned char bytes[8];
	size_t size;
	uint32_t u32;
};

static ssize_t
env_read_cb(struct tls *ctx, void *buf, size_t len, void *arg)
{
	(void)ctx, (void)buf, (void)len, (void)arg;
	return TLS_WANT_POLLIN;
}

static ssize_t
env_write_cb(struct tls *ctx, const void *buf, size_t len, void *arg)
{
	(void)ctx, (void)buf, (void)arg;
	return (ssize_t)len;
}

struct null_case {
	const char *func, *arg;
	long long (*call)(struct env *);
	const char *kind; /* "num", "ptr" (0 means NULL was returned) or "void" */
	long long fail;
	int accepted, message;
};

#include "cases.h"

static const char *SENTINEL = "nullability-sentinel";

static void
set_sentinel(void)
{
	uint32_t p;

	/* Leaves "invalid protocol string 'nullability-sentinel'" as the last error. */
	CHECK(tls_config_parse_protocols(&p, SENTINEL) == -1);
}

static int
sentinel_still(void)
{
	const char *m = tls_last_error();

	return m != NULL && strstr(m, SENTINEL) != NULL;
}

static void
null_cases_run(void)
{
	size_t i;

	for (i = 0; i < sizeof(null_cases) / sizeof(null_cases[0]); i++) {
		const struct null_case *c = &null_cases[i];
		struct env e;
		long long r;

		memset(&e, 0, sizeof(e));
		strcpy(e.chars, "x");
		e.ctx = tls_client();
		e.cfg = tls_config_new();
		REQUIRE(e.ctx != NULL && e.cfg != NULL);
		set_sentinel();
		r = c->call(&e);
		if (c->accepted) {
			const char *m = tls_last_error();
			if (!sentinel_still() && m != NULL && strstr(m, " is NULL") != NULL)
				FAILF("%s(%s = NULL): NULL is accepted, but: %s", c->func, c->arg, m);
		} else if (strcmp(c->kind, "void") != 0) {
			if (r != c->fail)
				FAILF("%s(%s = NULL) = %lld, want %lld", c->func, c->arg, r, c->fail);
			if (c->message && sentinel_still())
				FAILF("%s(%s = NULL) left no message", c->func, c->arg);
		}
		tls_free(e.out);
		tls_free(e.ctx);
		tls_config_free(e.cfg);
	}
	printf("nullability: %zu NULL cases\n", i);
}

static void
accepted_nulls(void)
{
	struct tls *ctx = tls_client();
	struct tls_config *cfg = tls_config_new();
	int sv[2];
	size_t len = 0;
	uint8_t *buf;

	REQUIRE(ctx != NULL && cfg != NULL);
	CHECK_RC(ctx, tls_configure(ctx, NULL), 0);
	tls_config_insecure_noverifyname(cfg);
	CHECK_RC(ctx, tls_configure(ctx, cfg), 0);
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK_RC(ctx, tls_connect_socket(ctx, sv[0], NULL), 0);
	tls_free(ctx);
	close(sv[0]);
	close(sv[1]);

	buf = tls_load_file(cert_path("ca.pem"), &len, NULL);
	CHECK(buf != NULL && len > 0);
	tls_unload_file(buf, len);
	CHECK(tls_config_set_ciphers(cfg, NULL) == 0);
	CHECK(tls_config_set_ecdhecurves(cfg, NULL) == 0);
	CHECK(tls_config_set_dheparams(cfg, NULL) == 0);
	tls_config_free(cfg);
}

static void
wrong_states(void)
{
	struct tls_config *scfg = server_config("server", 0, NULL);
	struct tls_config *ccfg = client_config(0, NULL);
	struct conn_pair cp;
	int co, so;
	struct tls *client = tls_client(), *server = tls_server(), *cctx = NULL;

	REQUIRE(client != NULL && server != NULL);
	CHECK_RC(client, tls_handshake(client), -1);  /* not connected */
	CHECK_RC(server, tls_handshake(server), -1);  /* a listener does no I/O */
	CHECK_RC(server, tls_accept_cbs(server, &cctx, env_read_cb, env_write_cb, NULL), -1);
	CHECK_RC(client, tls_accept_cbs(client, &cctx, env_read_cb, env_write_cb, NULL), -1);
	CHECK_RC(server, tls_connect_cbs(server, env_read_cb, env_write_cb, NULL, "localhost"), -1);
	CHECK(cctx == NULL);
	tls_free(client);
	tls_free(server);

	conn_pair_open(&cp, 4096, ccfg, scfg, "localhost");
	drive_handshakes(&cp, &co, &so);
	CHECK(co == HS_OK && so == HS_OK);
	CHECK_RC(cp.server, tls_configure(cp.server, scfg), -1); /* an accepted connection */
	CHECK_RC(cp.client, tls_configure(cp.client, ccfg), -1); /* a connected client */
	CHECK_RC(cp.client, tls_close(cp.client), 0);
	CHECK_RC(cp.client, tls_close(cp.client), 0); /* a second tls_close is 0 */
	conn_pair_close(&cp);
	tls_config_free(scfg);
	tls_config_free(ccfg);
}

int
main(int argc, char **argv)
{
	capi_init(argc, argv);
	null_cases_run();
	accepted_nulls();
	wrong_states();
	return capi_finish("nullability");
}
