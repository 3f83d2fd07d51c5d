/*
 * robust_feed.c: the fuzz seed corpora of server_bytes and client_bytes, fed through the C
 * API's memory transport (tls_accept_mem / tls_connect_mem, tls_feed, tls_feed_eof,
 * tls_drain), so the hostile inputs the Rust replay runs also cross the FFI boundary under
 * AddressSanitizer and valgrind.
 *
 * Each input is [variant, chunk, bytes...] (fuzz/src/targets.rs); here the variant's low bits
 * choose the protocols and the chunk byte the feed size. Every call must return a value of its
 * documented set: tls_feed 0..len or -1, tls_drain 0..len or -1, tls_handshake 0, -1 or a WANT,
 * tls_read 0..len, -1 or a WANT, tls_write 1..len, -1 or a WANT; a -1 leaves a message and a
 * code other than TLS_ERROR_INTERNAL (no caught panic), and a failed context stays failed.
 * The captured transcripts must get past the first flight: at least one input per target must
 * make its context answer (drain bytes), so a test that fed nothing would fail.
 */
/* capi: nbtls-only */
#include "common.h"

#include <dirent.h>

static struct tls_config *ccfg[3], *scfg[3];
static long answered[2], inputs[2];

static void
check_failure(struct tls *ctx, const char *call)
{
	if (tls_error(ctx) == NULL)
		FAILF("%s = -1 without a message", call);
	if (tls_error_code(ctx) == TLS_ERROR_INTERNAL)
		FAILF("%s: internal error (a caught panic): %s", call, capi_str(tls_error(ctx)));
}

static void
drain_all(struct tls *ctx, int server)
{
	unsigned char out[4096];

	for (int i = 0; i < 10000; i++) {
		ssize_t n = tls_drain(ctx, out, sizeof(out));
		if (n < 0) {
			check_failure(ctx, "tls_drain");
			return;
		}
		if (n > (ssize_t)sizeof(out))
			FAILF("tls_drain = %zd for %zu bytes", n, sizeof(out));
		if (n == 0)
			return;
		answered[server]++;
	}
	FAILF("tls_drain never runs dry");
}

/* One handshake or read (and a small write once open); returns 0 once the context failed. */
static int
poke(struct tls *ctx, int server, int *open)
{
	unsigned char buf[1024];
	ssize_t n;

	if (!*open) {
		int rc = tls_handshake(ctx);
		if (rc == 0)
			*open = 1;
		else if (rc == -1)
			return check_failure(ctx, "tls_handshake"), drain_all(ctx, server), 0;
		else if (rc != TLS_WANT_POLLIN && rc != TLS_WANT_POLLOUT)
			FAILF("tls_handshake = %d", rc);
	}
	if (*open) {
		n = tls_read(ctx, buf, sizeof(buf));
		if (n == -1)
			return check_failure(ctx, "tls_read"), drain_all(ctx, server), 0;
		if (n != TLS_WANT_POLLIN && n != TLS_WANT_POLLOUT && (n < 0 || n > (ssize_t)sizeof(buf)))
			FAILF("tls_read = %zd", n);
		n = tls_write(ctx, "ping", 4);
		if (n == -1)
			return check_failure(ctx, "tls_write"), drain_all(ctx, server), 0;
		if (n != TLS_WANT_POLLIN && n != TLS_WANT_POLLOUT && (n < 1 || n > 4))
			FAILF("tls_write = %zd", n);
	}
	drain_all(ctx, server);
	return 1;
}

static void
feed_one(const unsigned char *data, size_t len, int server)
{
	struct tls *ctx = server ? tls_server() : tls_client(), *conn = NULL;
	size_t chunk, off = 2;
	int alive = 1, open = 0, v;

	if (len < 2)
		return;
	v = data[0] & 3; /* 0/3 both, 1 TLS 1.2, 2 TLS 1.3 */
	v = v == 3 ? 0 : v;
	chunk = (size_t)(data[1] ? data[1] : 1) * 37;
	REQUIRE(ctx != NULL);
	if (server) {
		REQUIRE_RC(ctx, tls_configure(ctx, scfg[v]), 0);
		REQUIRE_RC(ctx, tls_accept_mem(ctx, &conn), 0);
	} else {
		REQUIRE_RC(ctx, tls_configure(ctx, ccfg[v]), 0);
		REQUIRE_RC(ctx, tls_connect_mem(ctx, "localhost"), 0);
		conn = ctx;
	}
	inputs[server]++;
	alive = poke(conn, server, &open);
	for (int stuck = 0; alive && off < len;) {
		size_t k = len - off < chunk ? len - off : chunk;
		ssize_t n = tls_feed(conn, data + off, k);
		if (n == -1) {
			check_failure(conn, "tls_feed");
			drain_all(conn, server);
			alive = 0;
			break;
		}
		if (n < 0 || (size_t)n > k)
			FAILF("tls_feed = %zd for %zu bytes", n, k);
		off += (size_t)(n > 0 ? n : 0);
		stuck = n == 0 ? stuck + 1 : 0;
		if (stuck > 3) {
			FAILF("tls_feed accepts nothing although everything was read and drained");
			break;
		}
		alive = poke(conn, server, &open);
	}
	if (alive) {
		if (tls_feed_eof(conn) == -1)
			check_failure(conn, "tls_feed_eof");
		else
			alive = poke(conn, server, &open);
	}
	if (!alive) {
		CHECK_RC(conn, tls_handshake(conn), -1);
		CHECK_RC(conn, tls_write(conn, "x", 1), -1);
	}
	(void)tls_close(conn);
	drain_all(conn, server);
	if (conn != ctx)
		tls_free(conn);
	tls_free(ctx);
}

static void
feed_dir(const char *corpus, const char *target, int server)
{
	char path[2048];
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "%s/%s", corpus, target);
	d = opendir(path);
	REQUIRE(d != NULL);
	while ((e = readdir(d)) != NULL) {
		char file[4096];
		FILE *f;
		unsigned char *buf;
		long n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		f = fopen(file, "rb");
		REQUIRE(f != NULL);
		REQUIRE(fseek(f, 0, SEEK_END) == 0);
		n = ftell(f);
		rewind(f);
		buf = malloc(n > 0 ? (size_t)n : 1);
		REQUIRE(buf != NULL);
		REQUIRE(n == 0 || fread(buf, 1, (size_t)n, f) == (size_t)n);
		fclose(f);
		capi_case = e->d_name;
		feed_one(buf, (size_t)n, server);
		free(buf);
	}
	closedir(d);
	capi_case = target;
}

int
main(int argc, char **argv)
{
	static const uint32_t protos[3] = { TLS_PROTOCOLS_DEFAULT, TLS_PROTOCOL_TLSv1_2,
		TLS_PROTOCOL_TLSv1_3 };
	char corpus[1024], *slash;

	capi_init(argc, argv);
	for (int i = 0; i < 3; i++) {
		ccfg[i] = client_config(protos[i], NULL);
		scfg[i] = server_config("server", protos[i], NULL);
	}
	snprintf(corpus, sizeof(corpus), "%s", __FILE__);
	slash = strrchr(corpus, '/');
	REQUIRE(slash != NULL);
	snprintf(slash, sizeof(corpus) - (size_t)(slash - corpus), "/../fuzz/corpus");
	feed_dir(corpus, "server_bytes", 1);
	feed_dir(corpus, "client_bytes", 0);
	printf("inputs: server %ld, client %ld; drained answers: server %ld, client %ld\n",
	    inputs[1], inputs[0], answered[1], answered[0]);
	CHECK(inputs[0] >= 10 && inputs[1] >= 10);
	CHECK(answered[0] > 0 && answered[1] > 0);
	for (int i = 0; i < 3; i++) {
		tls_config_free(ccfg[i]);
		tls_config_free(scfg[i]);
	}
	return capi_finish("robust_feed");
}
