/*
 * pipe_cbs: a client and a server in one thread, joined by two in-memory circular buffers
 * of capacity C through tls_connect_cbs()/tls_accept_cbs(). The callbacks return
 * TLS_WANT_POLLIN when their buffer is empty and TLS_WANT_POLLOUT when it is full, so every
 * WANT path of the handshake, of reads, writes and close runs deterministically.
 *
 * For each protocol (TLS 1.2, TLS 1.3) and each C, both sides are driven in turn:
 * handshake, then DATA_LEN bytes each way (written in chunks, read and checked byte by
 * byte), then the client closes, the server reads the end of stream (0) and closes.
 * Every call must return 0, a positive count, a WANT code or the value expected; a round in
 * which neither side moved (no byte through a ring, no phase change) is a deadlock.
 * After the handshake: tls_conn_version(), tls_conn_cipher(), ALPN ("h2,http/1.1" offered,
 * "http/1.1" configured on the server) and the server's tls_conn_servername().
 */
#include "common.h"

#define DATA_LEN 40000
#define WCHUNK 9001
#define RBUF 7000
#define SEED_C2S 0x1234u
#define SEED_S2C 0x9876u

enum phase { P_HANDSHAKE, P_DATA, P_READ_EOF, P_CLOSE, P_DONE };

static const char *phase_name[] = { "handshake", "data", "read-eof", "close", "done" };

struct side {
	const char *name;
	struct tls *ctx;
	enum phase phase;
	uint32_t wseed;
	size_t wdone;
	struct stream_check rx;
	int want_eof; /* the server reads the client's close_notify before closing */
	long wants;   /* WANT codes seen */
};

/* One round of work for a side; returns -1 on a failure (already reported). */
static int
side_step(struct side *s)
{
	unsigned char buf[RBUF > WCHUNK ? RBUF : WCHUNK];
	ssize_t rc = -1;

	switch (s->phase) {
	case P_HANDSHAKE:
		rc = tls_handshake(s->ctx);
		if (rc == 0) {
			s->phase = P_DATA;
			return 0;
		}
		break;
	case P_DATA:
		if (s->wdone < DATA_LEN) {
			size_t n = DATA_LEN - s->wdone;
			if (n > WCHUNK)
				n = WCHUNK;
			pattern_fill(s->wseed, s->wdone, buf, n);
			rc = tls_write(s->ctx, buf, n);
			if (rc > 0) {
				if ((size_t)rc > n) {
					FAILF("%s tls_write(%zu) = %zd", s->name, n, rc);
					return -1;
				}
				s->wdone += (size_t)rc;
			} else if (rc == TLS_WANT_POLLIN || rc == TLS_WANT_POLLOUT) {
				s->wants++;
			} else {
				FAILF("%s tls_write(%zu) = %s at %zu; tls_error: %s", s->name, n,
				    capi_rc_name(rc), s->wdone, capi_str(tls_error(s->ctx)));
				return -1;
			}
		}
		if (s->rx.got < DATA_LEN) {
			size_t want = DATA_LEN - s->rx.got;
			if (want > RBUF)
				want = RBUF;
			rc = tls_read(s->ctx, buf, want);
			if (rc > 0) {
				if ((size_t)rc > want) {
					FAILF("%s tls_read(%zu) = %zd", s->name, want, rc);
					return -1;
				}
				stream_check_add(&s->rx, buf, (size_t)rc);
			} else if (rc == TLS_WANT_POLLIN || rc == TLS_WANT_POLLOUT) {
				s->wants++;
			} else {
				FAILF("%s tls_read = %s at %zu; tls_error: %s", s->name,
				    capi_rc_name(rc), s->rx.got, capi_str(tls_error(s->ctx)));
				return -1;
			}
		}
		if (s->wdone == DATA_LEN && s->rx.got == DATA_LEN)
			s->phase = s->want_eof ? P_READ_EOF : P_CLOSE;
		return 0;
	case P_READ_EOF:
		rc = tls_read(s->ctx, buf, sizeof(buf));
		if (rc == 0) {
			s->phase = P_CLOSE;
			return 0;
		}
		if (rc > 0) {
			FAILF("%s tls_read after the data = %zd, expected end of stream",
			    s->name, rc);
			return -1;
		}
		break;
	case P_CLOSE:
		rc = tls_close(s->ctx);
		if (rc == 0) {
			s->phase = P_DONE;
			return 0;
		}
		break;
	case P_DONE:
		return 0;
	}
	if (rc == TLS_WANT_POLLIN || rc == TLS_WANT_POLLOUT) {
		s->wants++;
		return 0;
	}
	FAILF("%s in phase %s: call returned %s; tls_error: %s", s->name, phase_name[s->phase],
	    capi_rc_name(rc), capi_str(tls_error(s->ctx)));
	return -1;
}

static void
check_conn_info(struct tls *ctx, const char *who, const char *version)
{
	const char *v = tls_conn_version(ctx);
	const char *c = tls_conn_cipher(ctx);
	const char *a = tls_conn_alpn_selected(ctx);

	if (v == NULL || strcmp(v, version) != 0)
		FAILF("%s tls_conn_version = %s, expected %s", who, capi_str(v), version);
	if (c == NULL || c[0] == '\0')
		FAILF("%s tls_conn_cipher = %s", who, capi_str(c));
	if (a == NULL || strcmp(a, "http/1.1") != 0)
		FAILF("%s tls_conn_alpn_selected = %s, expected http/1.1", who, capi_str(a));
}

static void
run_case(uint32_t proto, size_t cap, struct tls_config *ccfg, struct tls_config *scfg)
{
	static char casename[64];
	struct conn_pair cp;
	struct side cli, srv;
	long rounds = 0;
	int info_checked = 0;
	int before_failures = capi_failures;

	snprintf(casename, sizeof(casename), "%s C=%zu", proto_name(proto), cap);
	capi_case = casename;
	conn_pair_open(&cp, cap, ccfg, scfg, "localhost");

	memset(&cli, 0, sizeof(cli));
	memset(&srv, 0, sizeof(srv));
	cli.name = "client";
	cli.ctx = cp.client;
	cli.wseed = SEED_C2S;
	stream_check_init(&cli.rx, SEED_S2C);
	srv.name = "server";
	srv.ctx = cp.server;
	srv.wseed = SEED_S2C;
	srv.want_eof = 1;
	stream_check_init(&srv.rx, SEED_C2S);

	while (cli.phase != P_DONE || srv.phase != P_DONE) {
		uint64_t before = pipe2_progress(&cp.pipe);
		enum phase cp0 = cli.phase, sp0 = srv.phase;
		size_t cw = cli.wdone, cr = cli.rx.got, sw = srv.wdone, sr = srv.rx.got;

		rounds++;
		if (side_step(&cli) < 0 || side_step(&srv) < 0)
			break;
		/* A closed client is a peer whose kernel still accepts (and drops) bytes. */
		if (cli.phase == P_DONE)
			ring_discard(&cp.pipe.s2c);
		if (!info_checked && cli.phase > P_HANDSHAKE && srv.phase > P_HANDSHAKE) {
			const char *version = proto == TLS_PROTOCOL_TLSv1_2 ? "TLSv1.2" : "TLSv1.3";
			check_conn_info(cp.client, "client", version);
			check_conn_info(cp.server, "server", version);
			CHECK_STR(tls_conn_servername(cp.server), "localhost");
			info_checked = 1;
		}
		if (pipe2_progress(&cp.pipe) == before && cli.phase == cp0 && srv.phase == sp0 &&
		    cli.wdone == cw && cli.rx.got == cr && srv.wdone == sw && srv.rx.got == sr) {
			FAILF("deadlock after %ld rounds: client in %s (wrote %zu, read %zu), "
			    "server in %s (wrote %zu, read %zu), c2s %zu/%zu bytes queued, "
			    "s2c %zu/%zu", rounds, phase_name[cli.phase], cli.wdone, cli.rx.got,
			    phase_name[srv.phase], srv.wdone, srv.rx.got, cp.pipe.c2s.len, cap,
			    cp.pipe.s2c.len, cap);
#ifdef CAPI_NBTLS
			FAILF("  nbtls state: client pending_read %zu pending_write %zu events %#x; "
			    "server pending_read %zu pending_write %zu events %#x",
			    tls_pending_read(cp.client), tls_pending_write(cp.client),
			    (unsigned)tls_events(cp.client), tls_pending_read(cp.server),
			    tls_pending_write(cp.server), (unsigned)tls_events(cp.server));
#endif
			break;
		}
	}
	if (cli.phase == P_DONE && srv.phase == P_DONE) {
		CHECK(info_checked);
		CHECK_STREAM(&cli.rx, DATA_LEN);
		CHECK_STREAM(&srv.rx, DATA_LEN);
	}
	printf("  %-8s C=%-6zu %-4s rounds=%-7ld wants: client %ld, server %ld\n",
	    proto_name(proto), cap, capi_failures == before_failures ? "ok" : "FAIL", rounds,
	    cli.wants, srv.wants);
	conn_pair_close(&cp);
	capi_case = "";
}

int
main(int argc, char **argv)
{
	static const size_t caps[] = { 1, 2, 3, 5, 7, 16, 100, 1000, 4096, 17000, 70000 };
	static const uint32_t protos[] = { TLS_PROTOCOL_TLSv1_2, TLS_PROTOCOL_TLSv1_3 };

	capi_init(argc, argv);
	for (size_t p = 0; p < sizeof(protos) / sizeof(protos[0]); p++) {
		struct tls_config *ccfg = client_config(protos[p], "h2,http/1.1");
		struct tls_config *scfg = server_config("server", protos[p], "http/1.1");

		for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
			run_case(protos[p], caps[i], ccfg, scfg);
		tls_config_free(ccfg);
		tls_config_free(scfg);
	}
	return capi_finish("pipe_cbs");
}
