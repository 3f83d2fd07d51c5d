/* capi: nbtls-only */
/*
 * keylog.c: key logging through the C API, over in-memory rings.
 *
 * - off by default: no callback call and no SSLKEYLOGFILE line without an opt-in, even with
 *   SSLKEYLOGFILE set;
 * - tls_config_set_keylog_cb on a client config and on a server config: every line is
 *   "LABEL <64 hex> <hex>", without a newline; TLS 1.3 gives CLIENT_HANDSHAKE_TRAFFIC_SECRET,
 *   SERVER_HANDSHAKE_TRAFFIC_SECRET, CLIENT_TRAFFIC_SECRET_0, SERVER_TRAFFIC_SECRET_0 and
 *   EXPORTER_SECRET once each (secrets as long as the suite's hash), TLS 1.2 one
 *   CLIENT_RANDOM with a 48-byte master secret; client and server log the same lines; the
 *   client random is the one in the ClientHello on the wire; a resumed connection logs too;
 *   a NULL callback turns it off;
 * - tls_config_set_keylog_file_from_env: with SSLKEYLOGFILE set at tls_configure the file
 *   (mode 0600) gets the callback's lines plus newlines, appended; unset or empty logs
 *   nothing; a file that cannot be opened makes tls_configure fail.
 */
#include <ctype.h>
#include <sys/stat.h>

#include "common.h"

#define MAX_LINES 32

struct log {
	int n;
	char *line[MAX_LINES];
};

static void
collect(const char *line, void *arg)
{
	struct log *l = arg;

	CHECK(strchr(line, '\n') == NULL);
	if (l->n < MAX_LINES)
		l->line[l->n++] = strdup(line);
}

static void
log_clear(struct log *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		free(l->line[i]);
	l->n = 0;
}

static int
is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return s[n] == '\0' || s[n] == ' ';
}

/* Checks one line's format; returns the label's length, 0 when malformed. */
static size_t
check_line(const char *line, const char *random_hex, size_t secret_hex)
{
	const char *sp1 = strchr(line, ' '), *sp2;

	if (sp1 == NULL || (sp2 = strchr(sp1 + 1, ' ')) == NULL) {
		FAILF("malformed key log line \"%s\"", line);
		return 0;
	}
	CHECK(sp2 - sp1 - 1 == 64 && is_hex(sp1 + 1, 64));
	CHECK(strncmp(sp1 + 1, random_hex, 64) == 0);
	CHECK(strlen(sp2 + 1) == secret_hex && is_hex(sp2 + 1, secret_hex));
	return (size_t)(sp1 - line);
}

static int
count_label(const struct log *l, const char *label)
{
	int i, n = 0;
	size_t len = strlen(label);

	for (i = 0; i < l->n; i++)
		if (strncmp(l->line[i], label, len) == 0 && l->line[i][len] == ' ')
			n++;
	return n;
}

/*
 * Both logs hold the same lines (in any order), except that b (a server resuming a TLS 1.3
 * session) may also hold CLIENT_EARLY_TRAFFIC_SECRET when early is set: rustls's server
 * derives it for every PSK handshake, although nbtls keeps 0-RTT off.
 */
static void
same_lines(const struct log *a, const struct log *b, int early)
{
	int i, j, found, extra = early ? count_label(b, "CLIENT_EARLY_TRAFFIC_SECRET") : 0;

	CHECK(extra <= 1);
	if (a->n + extra != b->n)
		FAILF("%d lines on one side, %d on the other", a->n, b->n);
	for (i = 0; i < a->n; i++) {
		for (j = 0, found = 0; j < b->n; j++)
			found |= strcmp(a->line[i], b->line[j]) == 0;
		if (!found)
			FAILF("line \"%s\" logged by one side only", a->line[i]);
	}
}

/*
 * Connects, reads the client random out of the ClientHello the client wrote (record header
 * 5 bytes, handshake header 4, legacy_version 2, then random 32), finishes both
 * handshakes, moves a byte and closes. Returns 1 when both handshakes succeeded.
 */
static int
session(struct tls_config *ccfg, struct tls_config *scfg, char random_hex[65], int *resumed)
{
	struct conn_pair cp;
	int co, so, ok, i;
	char buf[4];

	conn_pair_open(&cp, 1 << 16, ccfg, scfg, "localhost");
	CHECK_RC(cp.client, tls_handshake(cp.client), TLS_WANT_POLLIN);
	REQUIRE(cp.pipe.c2s.len > 43 && cp.pipe.c2s.head == 0);
	CHECK(cp.pipe.c2s.buf[0] == 0x16 && cp.pipe.c2s.buf[5] == 0x01);
	for (i = 0; i < 32; i++)
		snprintf(random_hex + 2 * i, 3, "%02x", cp.pipe.c2s.buf[11 + i]);
	drive_handshakes(&cp, &co, &so);
	ok = co == HS_OK && so == HS_OK;
	if (ok) {
		CHECK_RC(cp.server, tls_write(cp.server, "k", 1), 1);
		CHECK_RC(cp.client, tls_read(cp.client, buf, sizeof(buf)), 1);
		if (resumed != NULL)
			*resumed = tls_conn_session_resumed(cp.client);
		tls_close(cp.client);
		tls_close(cp.server);
	}
	conn_pair_close(&cp);
	return ok;
}

static const char *const tls13_labels[] = {
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
	"CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET",
};

static char path[] = "/tmp/nbtls-keylog-XXXXXX";

static off_t
file_size(void)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void
off_by_default(void)
{
	struct tls_config *c = client_config(0, NULL), *s = server_config("server", 0, NULL);
	char r[65];

	capi_case = "off by default";
	REQUIRE(setenv("SSLKEYLOGFILE", path, 1) == 0);
	CHECK(session(c, s, r, NULL));
	CHECK(file_size() == 0);
	tls_config_free(c);
	tls_config_free(s);
}

/* The five TLS 1.3 secrets under each suite (hash length 32 or 48), then TLS 1.2. */
static void
callback_lines(void)
{
	static const struct {
		uint32_t proto;
		const char *cipher;
		size_t secret_hex;
	} cases[] = {
		{ TLS_PROTOCOL_TLSv1_3, "TLS_AES_128_GCM_SHA256", 64 },
		{ TLS_PROTOCOL_TLSv1_3, "TLS_AES_256_GCM_SHA384", 96 },
		{ TLS_PROTOCOL_TLSv1_2, "ECDHE-ECDSA-AES128-GCM-SHA256", 96 },
	};
	size_t i, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tls_config *c = client_config(cases[i].proto, NULL);
		struct tls_config *s = server_config("server", cases[i].proto, NULL);
		struct log cl = { 0 }, sl = { 0 };
		char r[65], r2[65];
		int j, resumed = -1;

		capi_case = cases[i].cipher;
		CHECK_CFG(c, tls_config_set_ciphers(c, cases[i].cipher));
		CHECK_CFG(c, tls_config_set_keylog_cb(c, collect, &cl));
		CHECK_CFG(s, tls_config_set_keylog_cb(s, collect, &sl));
		CHECK(session(c, s, r, &resumed) && resumed == 0);
		if (cases[i].proto == TLS_PROTOCOL_TLSv1_3) {
			CHECK(cl.n == 5);
			for (k = 0; k < 5; k++)
				CHECK(count_label(&cl, tls13_labels[k]) == 1);
		} else {
			CHECK(cl.n == 1 && count_label(&cl, "CLIENT_RANDOM") == 1);
		}
		for (j = 0; j < cl.n; j++)
			CHECK(check_line(cl.line[j], r, cases[i].secret_hex) > 0);
		same_lines(&cl, &sl, 0);
		/* Distinct secrets under distinct labels. */
		for (j = 1; j < cl.n; j++)
			CHECK(strcmp(strrchr(cl.line[j], ' '), strrchr(cl.line[0], ' ')) != 0);

		/* A resumed connection logs its own secrets under its own client random. */
		log_clear(&cl);
		log_clear(&sl);
		CHECK(session(c, s, r2, &resumed) && resumed == 1);
		CHECK(strcmp(r, r2) != 0);
		CHECK(cl.n == (cases[i].proto == TLS_PROTOCOL_TLSv1_3 ? 5 : 1));
		for (j = 0; j < cl.n; j++)
			CHECK(check_line(cl.line[j], r2, cases[i].secret_hex) > 0);
		same_lines(&cl, &sl, 1);

		/* A NULL callback turns it off for later tls_configure calls. */
		log_clear(&cl);
		log_clear(&sl);
		CHECK_CFG(c, tls_config_set_keylog_cb(c, NULL, NULL));
		CHECK(session(c, s, r2, NULL));
		CHECK(cl.n == 0 && sl.n >= 1);
		log_clear(&sl);
		tls_config_free(c);
		tls_config_free(s);
	}
}

/* Reads the key log file into a log (one entry per line, newline stripped). */
static void
read_file(struct log *l)
{
	FILE *f = fopen(path, "r");
	char buf[512];

	REQUIRE(f != NULL);
	while (fgets(buf, sizeof(buf), f) != NULL) {
		size_t n = strlen(buf);
		CHECK(n > 0 && buf[n - 1] == '\n');
		buf[strcspn(buf, "\n")] = '\0';
		collect(buf, l);
	}
	fclose(f);
}

static void
file_from_env(void)
{
	struct tls_config *c = client_config(0, NULL), *s = server_config("server", 0, NULL);
	struct log cl = { 0 }, fl = { 0 };
	struct tls *t;
	struct stat st;
	char r[65];
	int j;

	capi_case = "SSLKEYLOGFILE";
	unlink(path);
	REQUIRE(setenv("SSLKEYLOGFILE", path, 1) == 0);
	CHECK_CFG(c, tls_config_set_keylog_file_from_env(c));
	CHECK_CFG(c, tls_config_set_keylog_cb(c, collect, &cl));
	CHECK(session(c, s, r, NULL));
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	read_file(&fl);
	CHECK(fl.n == 5);
	same_lines(&cl, &fl, 0);
	for (j = 0; j < fl.n; j++)
		CHECK(check_line(fl.line[j], r, strlen(strrchr(fl.line[j], ' ') + 1)) > 0 &&
		    strlen(strrchr(fl.line[j], ' ') + 1) % 32 == 0);

	/* Appended: a second connection adds its lines. */
	log_clear(&fl);
	CHECK(session(c, s, r, NULL));
	read_file(&fl);
	CHECK(fl.n == 10);
	log_clear(&fl);
	log_clear(&cl);

	/* Unset or empty at tls_configure (after a change): nothing, and no error. */
	{
		off_t before = file_size();
		REQUIRE(unsetenv("SSLKEYLOGFILE") == 0);
		CHECK_CFG(c, tls_config_set_keylog_cb(c, NULL, NULL));
		CHECK(session(c, s, r, NULL));
		REQUIRE(setenv("SSLKEYLOGFILE", "", 1) == 0);
		CHECK_CFG(c, tls_config_set_keylog_file_from_env(c));
		CHECK(session(c, s, r, NULL));
		CHECK(file_size() == before);
	}

	/* A file that cannot be opened: tls_configure fails and says why. */
	REQUIRE(setenv("SSLKEYLOGFILE", "/nonexistent-nbtls-dir/keys.log", 1) == 0);
	CHECK_CFG(c, tls_config_set_keylog_file_from_env(c));
	REQUIRE((t = tls_client()) != NULL);
	CHECK_RC(t, tls_configure(t, c), -1);
	CHECK(strstr(capi_str(tls_error(t)), "SSLKEYLOGFILE") != NULL);
	tls_free(t);

	CHECK(tls_config_set_keylog_cb(NULL, collect, NULL) == -1);
	CHECK(tls_config_set_keylog_file_from_env(NULL) == -1);
	REQUIRE(unsetenv("SSLKEYLOGFILE") == 0);
	tls_config_free(c);
	tls_config_free(s);
}

int
main(int argc, char **argv)
{
	int fd;

	capi_init(argc, argv);
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	close(fd);
	off_by_default();
	callback_lines();
	file_from_env();
	unlink(path);
	return capi_finish("keylog");
}
