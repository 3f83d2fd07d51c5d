/*
 * robust_records.c: hostile and unusual record streams over real sockets (AF_UNIX pairs).
 *
 * - Records split at every byte boundary: a relay between a client's socket and a server's
 *   socket forwards K bytes at a time, and only when the receiver has taken everything before
 *   (FIONREAD is 0), so with K = 1 every read of either side sees exactly one byte. A full
 *   exchange (handshake, 3000 bytes each way, close_notify) must complete with every byte in
 *   order, for TLS 1.2 and 1.3 and K in 1, 2, 3, 7, 64.
 * - Oversized and malformed records written raw into a client's socket after a valid
 *   handshake (the "server" end writes bytes the server context never made): -1 with
 *   TLS_ERROR_PROTOCOL, and one fatal alert goes back to the peer.
 * - A fatal alert from a raw server mid-handshake: -1, TLS_ERROR_PEER_ALERT, the alert number.
 * - Floods: warning alerts (4 are tolerated, the 5th is -1 TLS_ERROR_PROTOCOL), empty
 *   records (32 tolerated, the 33rd fails), KeyUpdate requests from a real peer (32 between
 *   two data records tolerated, the 33rd is -1 TLS_ERROR_PROTOCOL). Each limit is tested on
 *   both sides of it, so the test fails if a flood were accepted or a legal stream refused.
 */
/* capi: nbtls-only */
#include "common.h"

#include <sys/ioctl.h>

static struct tls_config *ccfg, *scfg;

static int
queued_in(int fd)
{
	int n = 0;

	REQUIRE(ioctl(fd, FIONREAD, &n) == 0);
	return n;
}

/* ------------------------------------------------------------ split relay */

struct hop {
	int from, to;             /* relay's source fd, relay's destination fd */
	int watch;                /* the receiving context's own fd (FIONREAD) */
	unsigned char buf[65536];
	size_t len;
	uint64_t moved;
};

/* Moves up to k bytes when the receiver has taken everything; returns bytes moved. */
static size_t
hop_step(struct hop *h, size_t k)
{
	ssize_t n;

	if (h->len < sizeof(h->buf)) {
		n = recv(h->from, h->buf + h->len, sizeof(h->buf) - h->len, 0);
		if (n > 0)
			h->len += (size_t)n;
	}
	if (h->len == 0 || queued_in(h->watch) != 0)
		return 0;
	n = send(h->to, h->buf, h->len < k ? h->len : k, MSG_NOSIGNAL);
	if (n <= 0)
		return 0;
	memmove(h->buf, h->buf + n, h->len - (size_t)n);
	h->len -= (size_t)n;
	h->moved += (uint64_t)n;
	return (size_t)n;
}

static void
split_relay(uint32_t proto, size_t k)
{
	int a[2], b[2]; /* a: client <-> relay, b: relay <-> server */
	struct tls *client, *listener, *server = NULL;
	struct hop c2s, s2c;
	static const struct xstep csteps[] = {
		{ XS_HANDSHAKE, 0, 0 }, { XS_WRITE, 3000, 0 }, { XS_READ, 0, 3000 }, { XS_CLOSE, 0, 0 },
		{ XS_END, 0, 0 },
	};
	static const struct xstep ssteps[] = {
		{ XS_HANDSHAKE, 0, 0 }, { XS_READ, 0, 3000 }, { XS_WRITE, 3000, 0 },
		{ XS_READ_EOF, 0, 0 }, { XS_CLOSE, 0, 0 }, { XS_END, 0, 0 },
	};
	struct xside xc, xs;
	char name[64];
	int idle = 0, outcome = XO_SPIN;

	snprintf(name, sizeof(name), "split relay %s, %zu byte(s) at a time", proto_name(proto), k);
	capi_case = name;
	make_socketpair(a, 1, 0);
	make_socketpair(b, 1, 0);
	REQUIRE(tls_config_set_protocols(ccfg, proto) == 0);
	client = tls_client();
	listener = tls_server();
	REQUIRE(client != NULL && listener != NULL);
	REQUIRE_RC(client, tls_configure(client, ccfg), 0);
	REQUIRE_RC(listener, tls_configure(listener, scfg), 0);
	REQUIRE_RC(client, tls_connect_socket(client, a[0], "localhost"), 0);
	REQUIRE_RC(listener, tls_accept_socket(listener, &server, b[1]), 0);
	memset(&c2s, 0, sizeof(c2s));
	memset(&s2c, 0, sizeof(s2c));
	c2s.from = a[1], c2s.to = b[0], c2s.watch = b[1];
	s2c.from = b[0], s2c.to = a[1], s2c.watch = a[0];
	xside_init(&xc, "client", client, csteps, 21, 22);
	xside_init(&xs, "server", server, ssteps, 22, 21);
	for (long round = 0; round < 2000000; round++) {
		int mc = xside_step(&xc), ms = xside_step(&xs);
		size_t moved = hop_step(&c2s, k) + hop_step(&s2c, k);

		if (xc.failed || xs.failed) {
			outcome = XO_FAILED;
			break;
		}
		if (xc.done && xs.done) {
			outcome = XO_DONE;
			break;
		}
		if (mc == 0 && ms == 0 && moved == 0) {
			if (++idle >= 3) {
				outcome = XO_DEADLOCK;
				break;
			}
		} else {
			idle = 0;
		}
	}
	if (outcome != XO_DONE)
		FAILF("exchange %s: %s%s", xoutcome_name(outcome), xc.err, xs.err);
	CHECK_STREAM(&xs.rx, 3000);
	CHECK_STREAM(&xc.rx, 3000);
	CHECK(xs.eof_code != TLS_ERROR_TRUNCATED);
	if (k == 1)
		CHECK(c2s.moved > 300 && s2c.moved > 300); /* every byte went alone */
	CHECK_STR(tls_conn_version(client), proto_name(proto));
	tls_free(client);
	tls_free(server);
	tls_free(listener);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}

/* ----------------------------------------- raw bytes after a valid handshake */

struct raw_case {
	const char *name;
	const unsigned char *bytes;
	size_t len;
	int code;
};

static const unsigned char oversized_max[] = { 0x17, 0x03, 0x03, 0xff, 0xff, 0, 0, 0, 0 };
static const unsigned char oversized_by_one[] = { 0x17, 0x03, 0x03, 0x48, 0x01, 0, 0, 0, 0 };
static const unsigned char unknown_type[] = { 0x63, 0x03, 0x03, 0x00, 0x05, 1, 2, 3, 4, 5 };
static const unsigned char bad_ciphertext[] = { 0x17, 0x03, 0x03, 0x00, 0x20, 1, 2, 3, 4, 5, 6,
	7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
	30, 31, 32 };
static const unsigned char empty_ciphertext[] = { 0x17, 0x03, 0x03, 0x00, 0x00 };
static const unsigned char plaintext_handshake[] = { 0x16, 0x03, 0x03, 0x00, 0x04, 0x00, 0x00,
	0x00, 0x00 };
static const unsigned char short_header_then_garbage[] = { 0x17, 0x03, 0x03, 0x00, 0x11, 0xde,
	0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef,
	0x00 };

static const struct raw_case raw_cases[] = {
	{ "record of 65535 bytes", oversized_max, sizeof(oversized_max), TLS_ERROR_PROTOCOL },
	{ "record one byte over the limit", oversized_by_one, sizeof(oversized_by_one),
	    TLS_ERROR_PROTOCOL },
	{ "unknown content type", unknown_type, sizeof(unknown_type), TLS_ERROR_PROTOCOL },
	{ "ciphertext that does not decrypt", bad_ciphertext, sizeof(bad_ciphertext),
	    TLS_ERROR_PROTOCOL },
	{ "empty ciphertext record", empty_ciphertext, sizeof(empty_ciphertext),
	    TLS_ERROR_PROTOCOL },
	{ "plaintext handshake record", plaintext_handshake, sizeof(plaintext_handshake),
	    TLS_ERROR_PROTOCOL },
	{ "short garbage record", short_header_then_garbage, sizeof(short_header_then_garbage),
	    TLS_ERROR_PROTOCOL },
};

static void
raw_after_handshake(const struct raw_case *rc, uint32_t proto)
{
	int sv[2];
	struct tls *client, *listener, *server = NULL;
	unsigned char buf[256];
	char name[128];
	ssize_t n = 0;

	snprintf(name, sizeof(name), "%s, %s", rc->name, proto_name(proto));
	capi_case = name;
	make_socketpair(sv, 1, 0);
	REQUIRE(tls_config_set_protocols(ccfg, proto) == 0);
	client = tls_client();
	listener = tls_server();
	REQUIRE_RC(client, tls_configure(client, ccfg), 0);
	REQUIRE_RC(listener, tls_configure(listener, scfg), 0);
	REQUIRE_RC(client, tls_connect_socket(client, sv[0], "localhost"), 0);
	REQUIRE_RC(listener, tls_accept_socket(listener, &server, sv[1]), 0);
	REQUIRE(fd_handshakes(client, server) == 0);
	CHECK_STR(tls_conn_version(client), proto_name(proto));
	/* A real record first, so the client is reading application data. */
	CHECK_RC(server, tls_write(server, "ok", 2), 2);
	for (int i = 0; i < 100; i++) {
		n = tls_read(client, buf, sizeof(buf));
		if (n != TLS_WANT_POLLIN)
			break;
		wait_for(sv[0], POLLIN);
	}
	CHECK_RC(client, n, 2);
	CHECK(slurp(sv[1]) == 0);
	REQUIRE(send(sv[1], rc->bytes, rc->len, MSG_NOSIGNAL) == (ssize_t)rc->len);
	for (int i = 0; i < 100; i++) {
		n = tls_read(client, buf, sizeof(buf));
		if (n != TLS_WANT_POLLIN)
			break;
		wait_for(sv[0], POLLIN);
	}
	CHECK_RC(client, n, -1);
	CHECK_CODE(client, rc->code);
	CHECK(tls_error(client) != NULL);
	/* The failure is sticky and the peer got a fatal alert (one record). */
	CHECK_RC(client, tls_read(client, buf, sizeof(buf)), -1);
	CHECK_RC(client, tls_write(client, "x", 1), -1);
	n = recv(sv[1], buf, sizeof(buf), 0);
	if (n < 5 || (buf[0] != 0x15 && buf[0] != 0x17))
		FAILF("no alert record reached the peer (recv = %zd, type 0x%02x)", n,
		    n > 0 ? buf[0] : 0);
	tls_free(client);
	tls_free(server);
	tls_free(listener);
	close(sv[0]);
	close(sv[1]);
	REQUIRE(tls_config_set_protocols(ccfg, TLS_PROTOCOLS_DEFAULT) == 0);
}

/* ---------------------------------------------- a raw server mid-handshake */

/*
 * The client sends its ClientHello; the raw server answers with `count` copies of `rec`.
 * Returns tls_handshake's result after everything was read.
 */
static int
raw_server_answers(struct tls **out, int sv[2], const unsigned char *rec, size_t len, int count)
{
	struct tls *client = tls_client();
	static unsigned char flood[65536];
	size_t total = 0;
	int rc = 0;

	REQUIRE(client != NULL);
	make_socketpair(sv, 1, 0);
	REQUIRE_RC(client, tls_configure(client, ccfg), 0);
	REQUIRE_RC(client, tls_connect_socket(client, sv[0], "localhost"), 0);
	CHECK_RC(client, tls_handshake(client), TLS_WANT_POLLIN);
	wait_for(sv[1], POLLIN);
	CHECK(slurp(sv[1]) > 0);
	for (int i = 0; i < count; i++) {
		REQUIRE(total + len <= sizeof(flood));
		memcpy(flood + total, rec, len);
		total += len;
	}
	REQUIRE(send(sv[1], flood, total, MSG_NOSIGNAL) == (ssize_t)total);
	/* Every byte sent is in the client's socket now: read until it is all taken. */
	for (int i = 0; i < 1000; i++) {
		rc = tls_handshake(client);
		if (rc != TLS_WANT_POLLIN || queued_in(sv[0]) == 0)
			break;
	}
	*out = client;
	return rc;
}

static void
raw_flood(const char *name, const unsigned char *rec, size_t len, int tolerated, int code)
{
	struct tls *client;
	int sv[2];
	char label[128];

	if (tolerated > 0) {
		snprintf(label, sizeof(label), "%s x%d (tolerated)", name, tolerated);
		capi_case = label;
		CHECK_RC(NULL, raw_server_answers(&client, sv, rec, len, tolerated),
		    TLS_WANT_POLLIN);
		tls_free(client);
		close(sv[0]);
		close(sv[1]);
	}
	snprintf(label, sizeof(label), "%s x%d (one too many)", name, tolerated + 1);
	capi_case = label;
	CHECK_RC(NULL, raw_server_answers(&client, sv, rec, len, tolerated + 1), -1);
	CHECK_CODE(client, code);
	tls_free(client);
	close(sv[0]);
	close(sv[1]);
}

static void
raw_fatal_alert(void)
{
	static const unsigned char alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40 };
	struct tls *client;
	int sv[2];

	capi_case = "fatal alert mid-handshake";
	CHECK_RC(NULL, raw_server_answers(&client, sv, alert, sizeof(alert), 1), -1);
	CHECK_CODE(client, TLS_ERROR_PEER_ALERT);
	CHECK_RC(client, tls_error_alert(client), 40);
	tls_free(client);
	close(sv[0]);
	close(sv[1]);
}

/* --------------------------------------------------- a KeyUpdate flood */

static void
key_update_flood(int count)
{
	int sv[2];
	struct tls *client, *listener, *server = NULL;
	unsigned char buf[64];
	ssize_t n = 0;
	char name[64];

	snprintf(name, sizeof(name), "%d KeyUpdate requests in a row", count);
	capi_case = name;
	make_socketpair(sv, 1, 0);
	REQUIRE(tls_config_set_protocols(ccfg, TLS_PROTOCOL_TLSv1_3) == 0);
	client = tls_client();
	listener = tls_server();
	REQUIRE_RC(client, tls_configure(client, ccfg), 0);
	REQUIRE_RC(listener, tls_configure(listener, scfg), 0);
	REQUIRE_RC(client, tls_connect_socket(client, sv[0], "localhost"), 0);
	REQUIRE_RC(listener, tls_accept_socket(listener, &server, sv[1]), 0);
	REQUIRE(fd_handshakes(client, server) == 0);
	/* One KeyUpdate per flush: each leaves in its own record, none with data between. */
	for (int i = 0; i < count; i++) {
		CHECK_RC(client, tls_key_update(client), 0);
		CHECK_RC(client, tls_flush(client), 0);
	}
	CHECK_RC(client, tls_write(client, "z", 1), 1);
	for (int i = 0; i < 1000; i++) {
		n = tls_read(server, buf, sizeof(buf));
		if (n != TLS_WANT_POLLIN)
			break;
		wait_for(sv[1], POLLIN);
	}
	if (count <= 32) {
		CHECK_RC(server, n, 1);
	} else {
		CHECK_RC(server, n, -1);
		CHECK_CODE(server, TLS_ERROR_PROTOCOL);
	}
	tls_free(client);
	tls_free(server);
	tls_free(listener);
	close(sv[0]);
	close(sv[1]);
	REQUIRE(tls_config_set_protocols(ccfg, TLS_PROTOCOLS_DEFAULT) == 0);
}

int
main(int argc, char **argv)
{
	static const uint32_t protos[] = { TLS_PROTOCOL_TLSv1_2, TLS_PROTOCOL_TLSv1_3 };
	static const size_t ks[] = { 1, 2, 3, 7, 64 };
	static const unsigned char warn_cancel[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 90 };
	static const unsigned char warn_badcert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 42 };
	static const unsigned char empty_hs[] = { 0x16, 0x03, 0x03, 0x00, 0x00 };
	static const unsigned char empty_alert[] = { 0x15, 0x03, 0x03, 0x00, 0x00 };
	static const unsigned char ccs[] = { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01 };

	capi_init(argc, argv);
	ccfg = client_config(0, NULL);
	scfg = server_config("server", 0, NULL);

	for (size_t p = 0; p < 2; p++)
		for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++)
			split_relay(protos[p], ks[i]);
	REQUIRE(tls_config_set_protocols(ccfg, TLS_PROTOCOLS_DEFAULT) == 0);
	for (size_t p = 0; p < 2; p++)
		for (size_t i = 0; i < sizeof(raw_cases) / sizeof(raw_cases[0]); i++)
			raw_after_handshake(&raw_cases[i], protos[p]);
	raw_fatal_alert();
	raw_flood("warning alert user_canceled", warn_cancel, sizeof(warn_cancel), 4,
	    TLS_ERROR_PROTOCOL);
	raw_flood("warning alert bad_certificate", warn_badcert, sizeof(warn_badcert), 4,
	    TLS_ERROR_PROTOCOL);
	/* Empty plaintext records are refused at once (RFC 8446 5.1): a flood cannot start.
	 * (rustls's limit of 32 consecutive empty records applies to encrypted ones.) */
	raw_flood("empty handshake record", empty_hs, sizeof(empty_hs), 0, TLS_ERROR_PROTOCOL);
	raw_flood("empty alert record", empty_alert, sizeof(empty_alert), 0, TLS_ERROR_PROTOCOL);
	/* Plaintext CCS records before the ServerHello: refused too. */
	raw_flood("change_cipher_spec before ServerHello", ccs, sizeof(ccs), 0,
	    TLS_ERROR_PROTOCOL);
	key_update_flood(32);
	key_update_flood(33);

	tls_config_free(ccfg);
	tls_config_free(scfg);
	return capi_finish("robust_records");
}
