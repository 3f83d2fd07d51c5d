/*
 * robust_threads.c: one config shared by many threads; accepts racing a reconfiguration;
 * configs freed while their contexts live; a connection moving between threads.
 *
 * - Shared config: 8 threads each run 12 connections (a client and a server context each,
 *   configured from the same two tls_configs, over a nonblocking socketpair driven by the
 *   thread): handshake, 20 000 bytes each way checked byte for byte, close_notify both ways,
 *   free. Meanwhile another thread keeps calling setters on the client config that change
 *   nothing the handshake depends on (a new generation each time), so snapshots are built
 *   and dropped while contexts are being configured from them.
 * - One listener, 4 threads calling tls_accept_socket on it at once while a fifth thread
 *   calls tls_configure on the same listener in a loop, alternating an ECDSA and an RSA
 *   keypair. Every accepted connection must complete its handshake (a torn snapshot would
 *   pair a certificate with the wrong key) and both keypairs must have been served.
 * - tls_config_free right after tls_configure (client, listener), then handshakes, accepts
 *   and data: the contexts keep what they need (ASan/valgrind catch a use after free).
 *   Also with worker threads mid-connection when the last config reference goes.
 * - A connection whose handshake runs in one thread and whose reads and writes run in
 *   another.
 * The threads synchronise with joins, barriers and atomics only; no sleeps.
 */
/* capi: nbtls-only */
#include "common.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

static struct tls_config *shared_client_cfg, *shared_server_cfg;

/* Handshake, an exchange of `len` bytes each way, close_notify both ways. Returns 0. */
static int
exchange(struct tls *client, struct tls *server, size_t len, uint32_t seed)
{
	unsigned char buf[8192];
	size_t cw = 0, sw = 0;
	struct stream_check at_server, at_client;
	int cclosed = 0, sclosed = 0, ceof = 0, seof = 0;

	if (fd_handshakes(client, server) != 0)
		return -1;
	stream_check_init(&at_server, seed);
	stream_check_init(&at_client, seed + 1);
	for (long round = 0; round < 1000000; round++) {
		ssize_t n;
		int progress = 0;

		if (cw < len) {
			size_t k = len - cw < sizeof(buf) ? len - cw : sizeof(buf);
			pattern_fill(seed, cw, buf, k);
			n = tls_write(client, buf, k);
			if (n > 0)
				cw += (size_t)n, progress = 1;
			else if (n != TLS_WANT_POLLOUT && n != TLS_WANT_POLLIN)
				return FAILF("client write: %s", capi_str(tls_error(client))), -1;
		}
		if (sw < len) {
			size_t k = len - sw < sizeof(buf) ? len - sw : sizeof(buf);
			pattern_fill(seed + 1, sw, buf, k);
			n = tls_write(server, buf, k);
			if (n > 0)
				sw += (size_t)n, progress = 1;
			else if (n != TLS_WANT_POLLOUT && n != TLS_WANT_POLLIN)
				return FAILF("server write: %s", capi_str(tls_error(server))), -1;
		}
		if (!seof) {
			n = tls_read(server, buf, sizeof(buf));
			if (n > 0)
				stream_check_add(&at_server, buf, (size_t)n), progress = 1;
			else if (n == 0)
				seof = 1;
			else if (n != TLS_WANT_POLLIN)
				return FAILF("server read: %s", capi_str(tls_error(server))), -1;
		}
		if (!ceof && !cclosed) {
			n = tls_read(client, buf, sizeof(buf));
			if (n > 0)
				stream_check_add(&at_client, buf, (size_t)n), progress = 1;
			else if (n == 0)
				ceof = 1;
			else if (n != TLS_WANT_POLLIN)
				return FAILF("client read: %s", capi_str(tls_error(client))), -1;
		}
		if (cw == len && at_client.got == len && !cclosed) {
			int rc = tls_close(client);
			if (rc == 0)
				cclosed = 1;
			else if (rc != TLS_WANT_POLLOUT && rc != TLS_WANT_POLLIN)
				return FAILF("client close: %s", capi_str(tls_error(client))), -1;
		}
		if (sw == len && seof && !sclosed) {
			int rc = tls_close(server);
			if (rc == 0)
				sclosed = 1;
			else if (rc != TLS_WANT_POLLOUT && rc != TLS_WANT_POLLIN)
				return FAILF("server close: %s", capi_str(tls_error(server))), -1;
		}
		if (cclosed && sclosed && seof)
			break;
		(void)progress;
	}
	CHECK_STREAM(&at_server, len);
	CHECK_STREAM(&at_client, len);
	if (!(cclosed && sclosed && seof)) {
		FAILF("exchange did not finish");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ shared config */

static atomic_int workers_left;
static atomic_int connections_ok;

static void *
shared_config_worker(void *arg)
{
	uint32_t id = (uint32_t)(uintptr_t)arg;

	for (int i = 0; i < 12; i++) {
		int sv[2];
		struct tls *c = tls_client(), *l = tls_server(), *s = NULL;

		make_socketpair(sv, 1, 0);
		if (c == NULL || l == NULL || tls_configure(c, shared_client_cfg) != 0 ||
		    tls_configure(l, shared_server_cfg) != 0 ||
		    tls_connect_socket(c, sv[0], "localhost") != 0 ||
		    tls_accept_socket(l, &s, sv[1]) != 0) {
			FAILF("worker %u: set-up failed: %s / %s", id, capi_str(tls_error(c)),
			    capi_str(tls_error(l)));
		} else if (exchange(c, s, 20000, id * 100 + (uint32_t)i) == 0) {
			atomic_fetch_add(&connections_ok, 1);
		}
		tls_free(s);
		tls_free(l);
		tls_free(c);
		close(sv[0]);
		close(sv[1]);
	}
	atomic_fetch_sub(&workers_left, 1);
	return NULL;
}

static void *
config_editor(void *arg)
{
	long edits = 0;

	(void)arg;
	/* Setters that leave the handshake unchanged; each starts a config generation. */
	while (atomic_load(&workers_left) > 0) {
		if (tls_config_set_ca_file(shared_client_cfg, cert_path("ca.pem")) != 0)
			FAILF("set_ca_file: %s", capi_str(tls_config_error(shared_client_cfg)));
		tls_config_verify(shared_client_cfg);
		edits++;
		/* Let the workers run: under valgrind threads take turns, and an editor that never
		 * yields makes every worker's tls_configure rebuild for ever. */
		sched_yield();
	}
	return (void *)(intptr_t)edits;
}

static void
shared_config_many_threads(void)
{
	enum { N = 8 };
	pthread_t t[N], ed;
	void *edits = NULL;

	capi_case = "one config, many threads";
	shared_client_cfg = client_config(0, NULL);
	shared_server_cfg = server_config("server", 0, NULL);
	atomic_store(&workers_left, N);
	atomic_store(&connections_ok, 0);
	for (int i = 0; i < N; i++)
		REQUIRE(pthread_create(&t[i], NULL, shared_config_worker, (void *)(uintptr_t)i) == 0);
	REQUIRE(pthread_create(&ed, NULL, config_editor, NULL) == 0);
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	pthread_join(ed, &edits);
	CHECK(atomic_load(&connections_ok) == N * 12);
	CHECK((intptr_t)edits > 0);
	tls_config_free(shared_client_cfg);
	tls_config_free(shared_server_cfg);
}

/* ------------------------------------ accepts racing a listener reconfigure */

static struct tls *listener;
static struct tls_config *ec_cfg, *rsa_cfg, *accept_client_cfg;
static atomic_int acceptors_left, served_ok, saw_ec, saw_rsa, attempts, reconfigures;

static void *
acceptor(void *arg)
{
	(void)arg;
	while (atomic_load(&reconfigures) < 2)
		sched_yield(); /* the reconfigurer is running */
	/* At least 25 accepts, and on until both keypairs have been served (bounded). */
	for (int i = 0; i < 2000 && (i < 25 || atomic_load(&saw_ec) == 0 ||
	    atomic_load(&saw_rsa) == 0); i++) {
		int sv[2];
		struct tls *c = tls_client(), *s = NULL;
		const char *cipher;

		atomic_fetch_add(&attempts, 1);

		make_socketpair(sv, 1, 0);
		REQUIRE(c != NULL);
		if (tls_configure(c, accept_client_cfg) != 0 ||
		    tls_connect_socket(c, sv[0], "localhost") != 0) {
			FAILF("client set-up: %s", capi_str(tls_error(c)));
		} else if (tls_accept_socket(listener, &s, sv[1]) != 0) {
			FAILF("tls_accept_socket: %s", capi_str(tls_error(listener)));
		} else if (fd_handshakes(c, s) == 0) {
			atomic_fetch_add(&served_ok, 1);
			/* TLS 1.2 suites name the key type: which keypair served this one. */
			cipher = tls_conn_cipher(c);
			if (cipher != NULL && strstr(cipher, "ECDSA") != NULL)
				atomic_fetch_add(&saw_ec, 1);
			else if (cipher != NULL && strstr(cipher, "RSA") != NULL)
				atomic_fetch_add(&saw_rsa, 1);
			else
				FAILF("unexpected cipher %s", capi_str(cipher));
		}
		tls_free(s);
		tls_free(c);
		close(sv[0]);
		close(sv[1]);
	}
	atomic_fetch_sub(&acceptors_left, 1);
	return NULL;
}

static void *
reconfigurer(void *arg)
{
	long n = 0;

	(void)arg;
	while (atomic_load(&acceptors_left) > 0 || n < 2) {
		struct tls_config *cfg = n % 2 == 0 ? rsa_cfg : ec_cfg;
		if (tls_configure(listener, cfg) != 0)
			FAILF("reconfigure: %s", capi_str(tls_error(listener)));
		n++;
		atomic_fetch_add(&reconfigures, 1);
		sched_yield();
	}
	return NULL;
}

static void
accept_while_reconfiguring(void)
{
	enum { N = 4 };
	pthread_t t[N], r;

	capi_case = "accepts racing a reconfigure";
	ec_cfg = server_config("server", 0, NULL);
	rsa_cfg = server_config("server-rsa", 0, NULL);
	/* TLS 1.2, so the negotiated suite tells which keypair was used. */
	accept_client_cfg = client_config(TLS_PROTOCOL_TLSv1_2, NULL);
	listener = tls_server();
	REQUIRE(listener != NULL);
	REQUIRE_RC(listener, tls_configure(listener, ec_cfg), 0);
	atomic_store(&acceptors_left, N);
	atomic_store(&served_ok, 0);
	atomic_store(&saw_ec, 0);
	atomic_store(&saw_rsa, 0);
	atomic_store(&attempts, 0);
	atomic_store(&reconfigures, 0);
	REQUIRE(pthread_create(&r, NULL, reconfigurer, NULL) == 0);
	for (int i = 0; i < N; i++)
		REQUIRE(pthread_create(&t[i], NULL, acceptor, NULL) == 0);
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	pthread_join(r, NULL);
	CHECK(atomic_load(&served_ok) == atomic_load(&attempts));
	CHECK(atomic_load(&attempts) >= N * 25);
	/* Both keypairs were live during the race. */
	CHECK(atomic_load(&saw_ec) > 0 && atomic_load(&saw_rsa) > 0);
	/* The last configure wins for later accepts. */
	REQUIRE_RC(listener, tls_configure(listener, rsa_cfg), 0);
	{
		int sv[2];
		struct tls *c = tls_client(), *s = NULL;
		make_socketpair(sv, 1, 0);
		REQUIRE_RC(c, tls_configure(c, accept_client_cfg), 0);
		REQUIRE_RC(c, tls_connect_socket(c, sv[0], "localhost"), 0);
		REQUIRE_RC(listener, tls_accept_socket(listener, &s, sv[1]), 0);
		REQUIRE(fd_handshakes(c, s) == 0);
		CHECK(strstr(capi_str(tls_conn_cipher(c)), "RSA") != NULL &&
		    strstr(capi_str(tls_conn_cipher(c)), "ECDSA") == NULL);
		tls_free(s);
		tls_free(c);
		close(sv[0]);
		close(sv[1]);
	}
	printf("accepts: %d (ECDSA %d, RSA %d) during %d reconfigures\n", atomic_load(&attempts),
	    atomic_load(&saw_ec), atomic_load(&saw_rsa), atomic_load(&reconfigures));
	tls_free(listener);
	tls_config_free(ec_cfg);
	tls_config_free(rsa_cfg);
	tls_config_free(accept_client_cfg);
}

/* ---------------------------------------------- configs freed under contexts */

static void
config_freed_while_contexts_live(void)
{
	struct tls_config *cc = client_config(0, NULL), *sc = server_config("server", 0, NULL);
	struct tls *c1 = tls_client(), *c2 = tls_client(), *l = tls_server(), *s1 = NULL,
		   *s2 = NULL;
	int a[2], b[2];

	capi_case = "config freed while contexts live";
	REQUIRE_RC(c1, tls_configure(c1, cc), 0);
	REQUIRE_RC(c2, tls_configure(c2, cc), 0);
	REQUIRE_RC(l, tls_configure(l, sc), 0);
	tls_config_free(cc);
	tls_config_free(sc);
	/* Both configs are gone; the contexts connect, accept and talk. */
	make_socketpair(a, 1, 0);
	make_socketpair(b, 1, 0);
	REQUIRE_RC(c1, tls_connect_socket(c1, a[0], "localhost"), 0);
	REQUIRE_RC(l, tls_accept_socket(l, &s1, a[1]), 0);
	CHECK(exchange(c1, s1, 5000, 41) == 0);
	REQUIRE_RC(c2, tls_connect_socket(c2, b[0], "localhost"), 0);
	REQUIRE_RC(l, tls_accept_socket(l, &s2, b[1]), 0);
	CHECK(exchange(c2, s2, 5000, 43) == 0);
	/* The second client resumed the first one's session: the cache outlived the config. */
	CHECK(tls_conn_session_resumed(c2) == 1);
	tls_free(s1);
	tls_free(s2);
	tls_free(l);
	tls_free(c1);
	tls_free(c2);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
}

static pthread_barrier_t gate;
static struct tls_config *doomed_client, *doomed_server;

static void *
doomed_worker(void *arg)
{
	int sv[2];
	struct tls *c = tls_client(), *l = tls_server(), *s = NULL;

	(void)arg;
	make_socketpair(sv, 1, 0);
	REQUIRE_RC(c, tls_configure(c, doomed_client), 0);
	REQUIRE_RC(l, tls_configure(l, doomed_server), 0);
	REQUIRE_RC(c, tls_connect_socket(c, sv[0], "localhost"), 0);
	REQUIRE_RC(l, tls_accept_socket(l, &s, sv[1]), 0);
	CHECK_RC(c, tls_handshake(c), TLS_WANT_POLLIN); /* mid-handshake when the config goes */
	pthread_barrier_wait(&gate);                    /* configured */
	pthread_barrier_wait(&gate);                    /* the main thread freed both configs */
	CHECK(exchange(c, s, 3000, 51) == 0);
	tls_free(s);
	tls_free(l);
	tls_free(c);
	close(sv[0]);
	close(sv[1]);
	return NULL;
}

static void
config_freed_under_threads(void)
{
	enum { N = 4 };
	pthread_t t[N];

	capi_case = "config freed under running threads";
	doomed_client = client_config(0, NULL);
	doomed_server = server_config("server", 0, NULL);
	REQUIRE(pthread_barrier_init(&gate, NULL, N + 1) == 0);
	for (int i = 0; i < N; i++)
		REQUIRE(pthread_create(&t[i], NULL, doomed_worker, NULL) == 0);
	pthread_barrier_wait(&gate);
	tls_config_free(doomed_client);
	tls_config_free(doomed_server);
	pthread_barrier_wait(&gate);
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&gate);
}

/* ------------------------------------- a connection moving between threads */

struct moved {
	struct tls *c, *s;
	int ok;
};

static void *
handshake_thread(void *arg)
{
	struct moved *m = arg;

	m->ok = fd_handshakes(m->c, m->s) == 0;
	return NULL;
}

static void *
data_thread(void *arg)
{
	struct moved *m = arg;
	unsigned char buf[64];
	ssize_t n = 0;

	if (tls_write(m->c, "moved", 5) != 5) {
		FAILF("write in the second thread: %s", capi_str(tls_error(m->c)));
		return NULL;
	}
	for (int i = 0; i < 100000 && (n = tls_read(m->s, buf, sizeof(buf))) == TLS_WANT_POLLIN; i++)
		;
	m->ok = n == 5 && memcmp(buf, "moved", 5) == 0;
	return NULL;
}

static void
connection_moves_between_threads(void)
{
	struct tls_config *cc = client_config(0, NULL), *sc = server_config("server", 0, NULL);
	struct tls *l = tls_server();
	struct moved m = { tls_client(), NULL, 0 };
	pthread_t t;
	int sv[2];

	capi_case = "a connection moves between threads";
	make_socketpair(sv, 1, 0);
	REQUIRE_RC(m.c, tls_configure(m.c, cc), 0);
	REQUIRE_RC(l, tls_configure(l, sc), 0);
	REQUIRE_RC(m.c, tls_connect_socket(m.c, sv[0], "localhost"), 0);
	REQUIRE_RC(l, tls_accept_socket(l, &m.s, sv[1]), 0);
	REQUIRE(pthread_create(&t, NULL, handshake_thread, &m) == 0);
	pthread_join(t, NULL);
	CHECK(m.ok);
	m.ok = 0;
	REQUIRE(pthread_create(&t, NULL, data_thread, &m) == 0);
	pthread_join(t, NULL);
	CHECK(m.ok);
	tls_free(m.s);
	tls_free(m.c);
	tls_free(l);
	tls_config_free(cc);
	tls_config_free(sc);
	close(sv[0]);
	close(sv[1]);
}

int
main(int argc, char **argv)
{
	capi_init(argc, argv);
	shared_config_many_threads();
	accept_while_reconfiguring();
	config_freed_while_contexts_live();
	config_freed_under_threads();
	connection_moves_between_threads();
	return capi_finish("robust_threads");
}
