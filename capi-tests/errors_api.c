/* capi: nbtls-only */
/*
 * errors_api: the error contract of the C API.
 *   - NULL where a context, a config, a buffer with a length, a callback or an out
 *     pointer is required gets the function's failure value (-1 / NULL / 0) and never a
 *     crash, and leaves a message in tls_last_error() when there is no object to hold it;
 *     tls_error(NULL), tls_config_free(NULL), tls_free(NULL), tls_reset(NULL) are fine;
 *   - calls in the wrong state (I/O before connect, tls_configure after connect or on an
 *     accepted connection) are -1 with TLS_ERROR_WRONG_STATE; tls_configure(ctx, NULL) is
 *     the default config, as in libtls;
 *   - on a connected pair: tls_read(len 0) is 0; (NULL, n) and a length over SSIZE_MAX are
 *     -1 with TLS_ERROR_INVALID_ARGUMENT and do not break the connection; the next I/O call
 *     clears tls_error(); accessors neither clear the error nor touch errno; every I/O call
 *     leaves errno 0 when it returns (also after WANT and after success);
 *   - a transport failure is -1 with TLS_ERROR_IO and tls_error_errno() = the errno.
 */
#include "common.h"

#include <limits.h>

#define CHECK_NULLP(call)                                                      \
	do {                                                                   \
		const void *capi_p_ = (const void *)(call);                    \
		if (capi_p_ != NULL)                                           \
			FAILF("%s = %p, expected NULL", #call, capi_p_);       \
	} while (0)

/* The call failed with no object to hold the error: tls_last_error() must say why. */
#define CHECK_LAST_ERROR(what)                                                 \
	do {                                                                   \
		const char *capi_m_ = tls_last_error();                        \
		if (capi_m_ == NULL || capi_m_[0] == '\0')                     \
			FAILF("no tls_last_error() message after %s", what);   \
	} while (0)

#define CHECK_NO_ERROR(ctx)                                                    \
	do {                                                                   \
		const char *capi_m_ = tls_error(ctx);                          \
		if (capi_m_ != NULL)                                           \
			FAILF("tls_error(%s) = \"%s\", expected NULL (cleared)", \
			    #ctx, capi_m_);                                    \
	} while (0)

#define CHECK_ERRNO0(call)                                                     \
	do {                                                                   \
		errno = EBADF;                                                 \
		(void)(call);                                                  \
		if (errno != 0)                                                \
			FAILF("errno = %d (%s) after %s, expected 0", errno,   \
			    strerror(errno), #call);                           \
	} while (0)

static void
null_arguments(void)
{
	struct tls_config *cfg = tls_config_new();
	struct tls *cli = tls_client(), *srv = tls_server(), *cctx;
	struct ring r1, r2;
	struct endpoint ep = { "x", &r1, &r2, NULL, 0, 0, 0, 0 };
	unsigned char buf[16] = { 0 };
	int sv[2];

	capi_case = "NULL arguments";
	REQUIRE(cfg != NULL && cli != NULL && srv != NULL);
	ring_init(&r1, 64);
	ring_init(&r2, 64);
	make_socketpair(sv, 1, 0);

	/* Configs. */
	CHECK_RC(NULL, tls_config_set_ca_file(NULL, cert_path("ca.pem")), -1);
	CHECK_LAST_ERROR("tls_config_set_ca_file(NULL, …)");
	CHECK_RC(NULL, tls_config_set_ca_mem(NULL, buf, 1), -1);
	CHECK_RC(NULL, tls_config_set_cert_mem(NULL, buf, 1), -1);
	CHECK_RC(NULL, tls_config_set_key_mem(NULL, buf, 1), -1);
	CHECK_RC(NULL, tls_config_set_keypair_file(NULL, cert_path("server.pem"),
	    cert_path("server.key")), -1);
	CHECK_RC(NULL, tls_config_set_keypair_mem(NULL, buf, 1, buf, 1), -1);
	CHECK_RC(NULL, tls_config_set_protocols(NULL, TLS_PROTOCOL_TLSv1_2), -1);
	CHECK_RC(NULL, tls_config_set_alpn(NULL, "http/1.1"), -1);
	CHECK_RC(NULL, tls_config_set_buffer_limit(NULL, 65536), -1);
	CHECK_LAST_ERROR("tls_config_set_buffer_limit(NULL, …)");
	tls_config_insecure_noverifycert(NULL);
	tls_config_insecure_noverifyname(NULL);
	tls_config_insecure_noverifytime(NULL);
	tls_config_verify(NULL);
	tls_config_set_strict_eof(NULL);
	printf("  tls_config_error(NULL) = %s, tls_config_error_code(NULL) = %s\n",
	    capi_str(tls_config_error(NULL)), capi_code_name(tls_config_error_code(NULL)));

	/* (NULL, n) buffers and NULL strings on a real config. */
	CHECK_RC(NULL, tls_config_set_ca_mem(cfg, NULL, 10), -1);
	CHECK(tls_config_error(cfg) != NULL);
	CHECK_RC(NULL, tls_config_set_cert_mem(cfg, NULL, 10), -1);
	CHECK_RC(NULL, tls_config_set_key_mem(cfg, NULL, 10), -1);
	CHECK_RC(NULL, tls_config_set_keypair_mem(cfg, NULL, 10, NULL, 10), -1);
	CHECK_RC(NULL, tls_config_set_keypair_file(cfg, NULL, NULL), -1);
	CHECK_RC(NULL, tls_config_set_ca_file(cfg, NULL), -1);
	CHECK_RC(NULL, tls_config_set_alpn(cfg, NULL), -1);
	CHECK(tls_config_error(cfg) != NULL);

	/* Contexts. */
	CHECK_RC(NULL, tls_configure(NULL, cfg), -1);
	CHECK_LAST_ERROR("tls_configure(NULL, cfg)");
	CHECK_RC(NULL, tls_connect_cbs(NULL, ep_read_cb, ep_write_cb, &ep, "localhost"), -1);
	CHECK_RC(NULL, tls_connect_socket(NULL, sv[0], "localhost"), -1);
	cctx = NULL;
	CHECK_RC(NULL, tls_accept_cbs(NULL, &cctx, ep_read_cb, ep_write_cb, &ep), -1);
	CHECK(cctx == NULL);
	CHECK_RC(NULL, tls_accept_socket(NULL, &cctx, sv[1]), -1);
	CHECK(cctx == NULL);
	CHECK_RC(NULL, tls_handshake(NULL), -1);
	CHECK_LAST_ERROR("tls_handshake(NULL)");
	CHECK_RC(NULL, tls_read(NULL, buf, sizeof(buf)), -1);
	CHECK_RC(NULL, tls_write(NULL, buf, sizeof(buf)), -1);
	CHECK_RC(NULL, tls_close(NULL), -1);
	CHECK_RC(NULL, tls_flush(NULL), -1);
	CHECK_LAST_ERROR("tls_flush(NULL)");
	CHECK_NULLP(tls_conn_version(NULL));
	CHECK_NULLP(tls_conn_cipher(NULL));
	CHECK_NULLP(tls_conn_alpn_selected(NULL));
	CHECK_NULLP(tls_conn_servername(NULL));
	CHECK(tls_pending_read(NULL) == 0);
	CHECK(tls_pending_write(NULL) == 0);
	CHECK(tls_pending_deferred(NULL) == 0);
	CHECK(tls_events(NULL) <= 0);
	printf("  tls_error(NULL) = %s, tls_error_code(NULL) = %s, tls_error_errno(NULL) = %d, "
	    "tls_error_alert(NULL) = %d, tls_events(NULL) = %d\n", capi_str(tls_error(NULL)),
	    capi_code_name(tls_error_code(NULL)), tls_error_errno(NULL),
	    tls_error_alert(NULL), tls_events(NULL));
	printf("  tls_last_error() = %s\n", capi_str(tls_last_error()));
	tls_config_free(NULL);
	tls_free(NULL);
	tls_reset(NULL);

	/* NULL callbacks and out pointers on real contexts. */
	REQUIRE_RC(cli, tls_configure(cli, cfg), 0);
	CHECK_RC(cli, tls_connect_cbs(cli, NULL, ep_write_cb, &ep, "localhost"), -1);
	CHECK_RC(cli, tls_connect_cbs(cli, ep_read_cb, NULL, &ep, "localhost"), -1);
	{
		struct tls_config *scfg = server_config("server", 0, NULL);
		REQUIRE_RC(srv, tls_configure(srv, scfg), 0);
		CHECK_RC(srv, tls_accept_cbs(srv, NULL, ep_read_cb, ep_write_cb, &ep), -1);
		CHECK_RC(srv, tls_accept_cbs(srv, &cctx, NULL, ep_write_cb, &ep), -1);
		CHECK(cctx == NULL);
		CHECK_RC(srv, tls_accept_socket(srv, NULL, sv[1]), -1);
		tls_free(cctx);
		tls_config_free(scfg);
	}

	tls_free(cli);
	tls_free(srv);
	tls_config_free(cfg);
	ring_free(&r1);
	ring_free(&r2);
	close(sv[0]);
	close(sv[1]);
	capi_case = "";
}

static void
wrong_state(void)
{
	struct tls_config *ccfg = client_config(0, NULL);
	struct tls_config *scfg = server_config("server", 0, NULL);
	struct tls *cli = tls_client(), *dflt = tls_client();
	unsigned char buf[16] = { 0 };
	struct conn_pair cp;

	capi_case = "wrong state";
	REQUIRE(cli != NULL && dflt != NULL);
	CHECK_RC(dflt, tls_configure(dflt, NULL), 0);
	REQUIRE_RC(cli, tls_configure(cli, ccfg), 0);

	CHECK_RC(cli, tls_read(cli, buf, sizeof(buf)), -1);
	CHECK_CODE(cli, TLS_ERROR_WRONG_STATE);
	CHECK(tls_error(cli) != NULL);
	CHECK_RC(cli, tls_write(cli, buf, sizeof(buf)), -1);
	CHECK_CODE(cli, TLS_ERROR_WRONG_STATE);
	CHECK_RC(cli, tls_handshake(cli), -1);
	CHECK_CODE(cli, TLS_ERROR_WRONG_STATE);
	printf("  tls_read before connect: %s\n", capi_str(tls_error(cli)));

	conn_pair_open(&cp, 4096, ccfg, scfg, "localhost");
	CHECK_RC(cp.client, tls_configure(cp.client, ccfg), -1);
	CHECK_CODE(cp.client, TLS_ERROR_WRONG_STATE);
	CHECK_RC(cp.server, tls_configure(cp.server, scfg), -1);
	CHECK_CODE(cp.server, TLS_ERROR_WRONG_STATE);
	/* I/O on a listener. */
	CHECK_RC(cp.listener, tls_read(cp.listener, buf, sizeof(buf)), -1);
	CHECK(tls_error(cp.listener) != NULL);
	printf("  tls_read on a listener: %s (%s)\n", capi_str(tls_error(cp.listener)),
	    capi_code_name(tls_error_code(cp.listener)));
	conn_pair_close(&cp);

	tls_free(cli);
	tls_free(dflt);
	tls_config_free(ccfg);
	tls_config_free(scfg);
	capi_case = "";
}

static void
connected(void)
{
	struct tls_config *ccfg = client_config(0, NULL);
	struct tls_config *scfg = server_config("server", 0, NULL);
	struct conn_pair cp;
	unsigned char buf[16] = { 0 };
	const char *msg;
	int co, so;

	capi_case = "connected";
	conn_pair_open(&cp, 4096, ccfg, scfg, "localhost");
	drive_handshakes(&cp, &co, &so);
	REQUIRE(co == HS_OK && so == HS_OK);

	/* Length 0 reads nothing. */
	CHECK_RC(cp.client, tls_read(cp.client, buf, 0), 0);

	/* A bad argument fails alone; the next I/O call clears the error. */
	CHECK_RC(cp.client, tls_read(cp.client, NULL, 10), -1);
	CHECK_CODE(cp.client, TLS_ERROR_INVALID_ARGUMENT);
	msg = tls_error(cp.client);
	CHECK(msg != NULL);
	/* Accessors neither clear the error nor touch errno. */
	errno = EBADF;
	CHECK(tls_conn_version(cp.client) != NULL);
	CHECK(tls_error(cp.client) != NULL);
	CHECK_CODE(cp.client, TLS_ERROR_INVALID_ARGUMENT);
	CHECK(errno == EBADF);
	CHECK_RC(cp.client, tls_read(cp.client, buf, sizeof(buf)), TLS_WANT_POLLIN);
	CHECK_NO_ERROR(cp.client);

	CHECK_RC(cp.client, tls_write(cp.client, NULL, 10), -1);
	CHECK_CODE(cp.client, TLS_ERROR_INVALID_ARGUMENT);
	CHECK_RC(cp.client, tls_write(cp.client, "x", 1), 1);
	CHECK_NO_ERROR(cp.client);

	CHECK_RC(cp.client, tls_read(cp.client, buf, (size_t)SSIZE_MAX + 1), -1);
	CHECK_CODE(cp.client, TLS_ERROR_INVALID_ARGUMENT);
	CHECK_RC(cp.client, tls_write(cp.client, buf, (size_t)SSIZE_MAX + 1), -1);
	CHECK_CODE(cp.client, TLS_ERROR_INVALID_ARGUMENT);
	/* As libtls: a second tls_handshake fails and leaves the connection usable. */
	CHECK_RC(cp.client, tls_handshake(cp.client), -1);
	CHECK_CODE(cp.client, TLS_ERROR_UNKNOWN);
	CHECK(tls_error(cp.client) != NULL &&
	    strcmp(tls_error(cp.client), "handshake already completed") == 0);

	/* errno is 0 when an I/O call returns: data, WANT, 0, flush. */
	CHECK_ERRNO0(tls_read(cp.server, buf, sizeof(buf)));  /* the "x" */
	CHECK(buf[0] == 'x');
	CHECK_ERRNO0(tls_read(cp.server, buf, sizeof(buf)));  /* WANT_POLLIN */
	CHECK_ERRNO0(tls_read(cp.client, buf, sizeof(buf)));  /* WANT_POLLIN */
	CHECK_ERRNO0(tls_write(cp.server, "yz", 2));
	CHECK_ERRNO0(tls_handshake(cp.client));
	CHECK_ERRNO0(tls_flush(cp.client));
	CHECK_ERRNO0(tls_read(cp.client, NULL, 10));          /* -1: bad argument */
	CHECK_RC(cp.client, tls_read(cp.client, buf, sizeof(buf)), 2);
	CHECK(memcmp(buf, "yz", 2) == 0);

	/* A transport failure: -1, TLS_ERROR_IO, and the errno. */
	cp.pipe.c2s.reader_gone = 1;
	CHECK_RC(cp.client, tls_write(cp.client, "abc", 3), -1);
	CHECK_CODE(cp.client, TLS_ERROR_IO);
	CHECK_RC(cp.client, tls_error_errno(cp.client), EPIPE);
	CHECK(errno == 0);
	printf("  write to a gone peer: %s (errno %d)\n", capi_str(tls_error(cp.client)),
	    tls_error_errno(cp.client));

	conn_pair_close(&cp);
	tls_config_free(ccfg);
	tls_config_free(scfg);
	capi_case = "";
}

int
main(int argc, char **argv)
{
	capi_init(argc, argv);
	null_arguments();
	wrong_state();
	connected();
	return capi_finish("errors_api");
}
