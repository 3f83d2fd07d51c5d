/*
 * read_record: reads never go past the record in hand (the README's "Reading").
 *
 * 1. Level-triggered server. A server runs tls_handshake() until 0, then waits for POLLIN
 *    before its first tls_read(), as poll(2) and libevent servers do. The client's Finished
 *    and its request leave in ONE send(2), so they arrive in one segment. Right after the
 *    server's handshake returns 0 the request must still be in the kernel (FIONREAD at
 *    least the request record), poll() must report it, and tls_read() must return it.
 *    Over tls_accept_socket and tls_accept_cbs; TLS 1.3, and (nbtls, whose client caches
 *    sessions per config) TLS 1.2 on resumption, where the client's CCS and Finished come
 *    right behind the server's Finished. A poll() timeout is a failure, never a hang.
 * 2. Counted reads. Every read(2)-family call on the server's fd is counted (this program
 *    interposes read, recv, recvfrom, recvmsg and readv), and every read callback call.
 *    Four 16 KiB records cost at most two reads each plus the EAGAIN that ends the drain;
 *    with tls_config_set_read_ahead (nbtls) and a 64 KiB tls_read, fewer reads than records.
 * 3. Counted writes (nbtls). Every handshake flight, both roles, over the fd and the
 *    callback transports, is one write: a TLS 1.3 client's CCS leaves with its Finished.
 * 4. A server's reset-free close. The client sends two requests; the server reads one
 *    (the second stays in its kernel), answers with more than the client's receive buffer
 *    holds, tls_close()s and close()s. The client must then read the whole answer and a
 *    close_notify: closing over unread data would have sent a TCP reset and cut it short.
 */
/* capi: ldflags -rdynamic -ldl */
#include "common.h"

#include <dlfcn.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#define REQ "GET /level-triggered HTTP/1.1\r\nHost: localhost\r\n\r\n"
#define RECORD 16384
#define POLL_MS 3000 /* a bound on a wait that must succeed at once, never a verdict */

/* ------------------------------------------------ counting system calls */

/* Calls on counted_fd (-1: none) since the last reset. */
static int counted_fd = -1;
static long fd_reads, fd_writes;

#define REAL(name) real_##name
#define LOOKUP(name)                                                           \
	do {                                                                   \
		if (REAL(name) == NULL)                                        \
			*(void **)&REAL(name) = dlsym(RTLD_NEXT, #name);        \
	} while (0)

static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_recv)(int, void *, size_t, int);
static ssize_t (*real_recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static ssize_t (*real_readv)(int, const struct iovec *, int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static ssize_t (*real_writev)(int, const struct iovec *, int);

ssize_t
read(int fd, void *buf, size_t n)
{
	LOOKUP(read);
	fd_reads += fd == counted_fd;
	return real_read(fd, buf, n);
}

ssize_t
recv(int fd, void *buf, size_t n, int flags)
{
	LOOKUP(recv);
	fd_reads += fd == counted_fd;
	return real_recv(fd, buf, n, flags);
}

ssize_t
recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a, socklen_t *alen)
{
	LOOKUP(recvfrom);
	fd_reads += fd == counted_fd;
	return real_recvfrom(fd, buf, n, flags, a, alen);
}

ssize_t
recvmsg(int fd, struct msghdr *msg, int flags)
{
	LOOKUP(recvmsg);
	fd_reads += fd == counted_fd;
	return real_recvmsg(fd, msg, flags);
}

ssize_t
readv(int fd, const struct iovec *iov, int cnt)
{
	LOOKUP(readv);
	fd_reads += fd == counted_fd;
	return real_readv(fd, iov, cnt);
}

/* ring's AES-GCM output is a memcheck false positive (see valgrind.supp): vouch for it. */
ssize_t
write(int fd, const void *buf, size_t n)
{
	LOOKUP(write);
	fd_writes += fd == counted_fd;
	(void)VALGRIND_MAKE_MEM_DEFINED(buf, n);
	return real_write(fd, buf, n);
}

ssize_t
send(int fd, const void *buf, size_t n, int flags)
{
	LOOKUP(send);
	fd_writes += fd == counted_fd;
	(void)VALGRIND_MAKE_MEM_DEFINED(buf, n);
	return real_send(fd, buf, n, flags);
}

ssize_t
sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a, socklen_t alen)
{
	LOOKUP(sendto);
	fd_writes += fd == counted_fd;
	(void)VALGRIND_MAKE_MEM_DEFINED(buf, n);
	return real_sendto(fd, buf, n, flags, a, alen);
}

ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
	LOOKUP(sendmsg);
	fd_writes += fd == counted_fd;
	for (size_t i = 0; i < msg->msg_iovlen; i++)
		(void)VALGRIND_MAKE_MEM_DEFINED(msg->msg_iov[i].iov_base, msg->msg_iov[i].iov_len);
	return real_sendmsg(fd, msg, flags);
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	LOOKUP(writev);
	fd_writes += fd == counted_fd;
	for (int i = 0; i < cnt; i++)
		(void)VALGRIND_MAKE_MEM_DEFINED(iov[i].iov_base, iov[i].iov_len);
	return real_writev(fd, iov, cnt);
}

/* Accepts a server context over fd, through the socket or (cbs) the callbacks in s. */
static struct tls *
accept_on(struct tls *listener, int fd, int cbs, struct cbsock *s)
{
	struct tls *server = NULL;

	memset(s, 0, sizeof(*s));
	s->fd = fd;
	if (cbs)
		REQUIRE_RC(listener, tls_accept_cbs(listener, &server, cbsock_read,
		    cbsock_write, s), 0);
	else
		REQUIRE_RC(listener, tls_accept_socket(listener, &server, fd), 0);
	REQUIRE(server != NULL);
	return server;
}

/* ---------------------------------------------- 1. level-triggered server */

/* One connection: the client's last flight and REQ leave in one send(2). Returns whether
 * the session was resumed. */
static int
level_triggered(struct tls_config *ccfg, struct tls *listener, int cbs)
{
	unsigned char outbox[65536], buf[512];
	struct cbsock cs, ss;
	struct tls *client, *server;
	int fds[2], cdone = 0, sdone = 0, avail = -1, resumed = -1, client_first = 0;
	ssize_t n;

	tcp_loopback_pair(fds, 0, 0);
	memset(&cs, 0, sizeof(cs));
	cs.fd = fds[0];
	cs.outbox = outbox;
	cs.outcap = sizeof(outbox);
	client = tls_client();
	REQUIRE(client != NULL);
	REQUIRE_RC(client, tls_configure(client, ccfg), 0);
	REQUIRE_RC(client, tls_connect_cbs(client, cbsock_read, cbsock_write, &cs,
	    "localhost"), 0);
	server = accept_on(listener, fds[1], cbs, &ss);
#ifdef CAPI_NBTLS
	CHECK(tls_conn_group(client) == NULL && tls_conn_group(server) == NULL);
#endif

	for (int round = 0; round < 10000 && !(cdone && sdone); round++) {
		if (!cdone) {
			int rc = tls_handshake(client);
			if (rc == 0) {
				cdone = 1;
				/* the request joins the client's last flight in the outbox */
				CHECK_RC(client, tls_write(client, REQ, strlen(REQ)),
				    (ssize_t)strlen(REQ));
			} else if (rc != TLS_WANT_POLLIN && rc != TLS_WANT_POLLOUT) {
				FAILF("client tls_handshake = %s: %s", capi_rc_name(rc),
				    capi_str(tls_error(client)));
				break;
			}
			cbsock_send_outbox(&cs);
		}
		if (!sdone) {
			int rc = tls_handshake(server);
			if (rc == 0) {
				sdone = 1;
				/* a full TLS 1.2 handshake ends on the server first: the
				 * client's request comes later, in a segment of its own */
				client_first = cdone;
				REQUIRE(ioctl(fds[1], FIONREAD, &avail) == 0);
			} else if (rc != TLS_WANT_POLLIN && rc != TLS_WANT_POLLOUT) {
				FAILF("server tls_handshake = %s: %s", capi_rc_name(rc),
				    capi_str(tls_error(server)));
				break;
			}
		}
	}
	CHECK(cdone && sdone);
	if (cdone && sdone) {
		/* the request record: a header, the request, at least a 16-byte tag */
		if (client_first && avail < (int)(5 + strlen(REQ) + 16))
			FAILF("after the server's handshake returned 0 the kernel holds %d bytes; "
			    "the request record (at least %zu) was read with the Finished",
			    avail, 5 + strlen(REQ) + 16);
		if (!readable_within(fds[1], POLL_MS))
			FAILF("the server's fd is not readable: a level-triggered server would "
			    "wait forever for a request that is already inside the library");
		n = tls_read(server, buf, sizeof(buf));
		if (n != (ssize_t)strlen(REQ) || memcmp(buf, REQ, strlen(REQ)) != 0)
			FAILF("server tls_read = %s: %s", capi_rc_name(n),
			    capi_str(tls_error(server)));
		resumed = tls_conn_session_resumed(server);
#ifdef CAPI_NBTLS
		{
			/* the hybrid group on TLS 1.3; X25519 on TLS 1.2, whose resumption makes no
			 * key exchange at all */
			const char *g = tls_conn_group(server), *want = "X25519MLKEM768";

			if (strcmp(tls_conn_version(server), "TLSv1.2") == 0)
				want = resumed ? NULL : "X25519";
			if (want == NULL ? g != NULL : g == NULL || strcmp(g, want) != 0)
				FAILF("tls_conn_group = %s, expected %s", capi_str(g), capi_str(want));
			CHECK(g == tls_conn_group(client) ||
			    (g != NULL && tls_conn_group(client) != NULL &&
				strcmp(g, tls_conn_group(client)) == 0));
		}
#endif
		/* the reply comes back, and nothing more was read than that one record */
		CHECK_RC(server, tls_write(server, "ok", 2), 2);
		CHECK(readable_within(fds[0], POLL_MS));
		cs.outbox = NULL;
		do {
			n = tls_read(client, buf, sizeof(buf));
		} while (n == TLS_WANT_POLLIN && readable_within(fds[0], POLL_MS));
		CHECK(n == 2 && memcmp(buf, "ok", 2) == 0);
	}
	tls_free(server);
	tls_free(client);
	close(fds[0]);
	close(fds[1]);
	return resumed;
}

static void
level_triggered_cases(void)
{
	for (int cbs = 0; cbs < 2; cbs++) {
		struct tls_config *ccfg = client_config(TLS_PROTOCOL_TLSv1_3, NULL);
		struct tls_config *scfg = server_config("server", TLS_PROTOCOL_TLSv1_3, NULL);
		struct tls *listener = tls_server();

		REQUIRE(listener != NULL);
		REQUIRE_RC(listener, tls_configure(listener, scfg), 0);
		capi_case = cbs ? "level-triggered TLSv1.3 tls_accept_cbs"
				: "level-triggered TLSv1.3 tls_accept_socket";
		level_triggered(ccfg, listener, cbs);
		tls_free(listener);
		tls_config_free(scfg);
		tls_config_free(ccfg);
	}
#ifdef CAPI_NBTLS
	/* TLS 1.2 resumption: the client's CCS and Finished follow the server's Finished,
	 * and the request can share their segment (libtls's client resumes only through
	 * session files, so this runs on nbtls only). */
	for (int cbs = 0; cbs < 2; cbs++) {
		struct tls_config *ccfg = client_config(TLS_PROTOCOL_TLSv1_2, NULL);
		struct tls_config *scfg = server_config("server", TLS_PROTOCOL_TLSv1_2, NULL);
		struct tls *listener = tls_server();

		REQUIRE(listener != NULL);
		REQUIRE_RC(listener, tls_configure(listener, scfg), 0);
		capi_case = cbs ? "TLSv1.2 first connection, cbs" : "TLSv1.2 first connection";
		CHECK(level_triggered(ccfg, listener, cbs) == 0);
		capi_case = cbs ? "level-triggered TLSv1.2 resumption tls_accept_cbs"
				: "level-triggered TLSv1.2 resumption tls_accept_socket";
		CHECK(level_triggered(ccfg, listener, cbs) == 1);
		tls_free(listener);
		tls_config_free(scfg);
		tls_config_free(ccfg);
	}
#endif
}

/* ---------------------------------------------------- 2. counted reads */

static void
counted_reads(int cbs, int read_ahead, int records)
{
	struct tls_config *ccfg = client_config(TLS_PROTOCOL_TLSv1_3, NULL);
	struct tls_config *scfg = server_config("server", TLS_PROTOCOL_TLSv1_3, NULL);
	static unsigned char wbuf[RECORD], rbuf[65536];
	struct tls *client, *listener, *server;
	struct cbsock ss;
	int sv[2];
	long reads;
	size_t got = 0;
	ssize_t n;

	(void)read_ahead;
#ifdef CAPI_NBTLS
	if (read_ahead)
		CHECK_CFG(scfg, tls_config_set_read_ahead(scfg, 1));
#endif
	make_socketpair(sv, 1, 4 << 20);
	client = tls_client();
	listener = tls_server();
	REQUIRE(client != NULL && listener != NULL);
	REQUIRE_RC(client, tls_configure(client, ccfg), 0);
	REQUIRE_RC(listener, tls_configure(listener, scfg), 0);
	REQUIRE_RC(client, tls_connect_socket(client, sv[0], "localhost"), 0);
	server = accept_on(listener, sv[1], cbs, &ss);
	REQUIRE(fd_handshakes(client, server) == 0);
	/* the server speaks first, so its tickets go and the client has read them */
	CHECK_RC(server, tls_write(server, "x", 1), 1);
	wait_for(sv[0], POLLIN);
	do {
		n = tls_read(client, rbuf, sizeof(rbuf));
	} while (n == TLS_WANT_POLLIN && readable_within(sv[0], POLL_MS));
	REQUIRE(n == 1);

	memset(wbuf, 'r', sizeof(wbuf));
	for (int i = 0; i < records; i++)
		REQUIRE_RC(client, tls_write(client, wbuf, sizeof(wbuf)), RECORD);
	wait_for(sv[1], POLLIN);
	counted_fd = sv[1];
	fd_reads = 0;
	ss.reads = 0;
	while ((n = tls_read(server, rbuf, sizeof(rbuf))) > 0)
		got += (size_t)n;
	counted_fd = -1;
	CHECK(n == TLS_WANT_POLLIN);
	CHECK(got == (size_t)records * RECORD);
	reads = cbs ? ss.reads : fd_reads;
	printf("%s: %d records of 16 KiB: %ld reads\n", capi_case, records, reads);
	if (read_ahead) {
		if (reads >= records)
			FAILF("%ld reads for %d records: read-ahead should take several at once",
			    reads, records);
	} else if (reads > 2L * records + 1) {
		FAILF("%ld reads for %d records: at most a header and a body per record and "
		    "the EAGAIN that ends the drain (%d)", reads, records, 2 * records + 1);
	}
	tls_free(server);
	tls_free(listener);
	tls_free(client);
	tls_config_free(scfg);
	tls_config_free(ccfg);
	close(sv[0]);
	close(sv[1]);
}

static void
counted_reads_cases(void)
{
	capi_case = "counted reads, fd";
	counted_reads(0, 0, 4);
	capi_case = "counted reads, callbacks";
	counted_reads(1, 0, 4);
#ifdef CAPI_NBTLS
	capi_case = "counted reads, fd, read-ahead";
	counted_reads(0, 1, 8);
	capi_case = "counted reads, callbacks, read-ahead";
	counted_reads(1, 1, 8);
#endif
}

#ifdef CAPI_NBTLS
/* Read-ahead on two server connections of one thread, interleaved: A reads one record and
 * keeps the rest it read ahead (its buffer stays with it), B then reads all of its own (its
 * buffer goes back to the thread when empty), then A the rest. Every byte arrives in order on
 * the right connection, tls_pending_read() counts what A holds, and nothing is held once
 * both are drained. */
struct ra_side {
	struct tls *client, *server;
	struct cbsock cs;
	int sv[2];
};

static void
ra_open(struct ra_side *r, struct tls *listener, struct tls_config *ccfg)
{
	make_socketpair(r->sv, 1, 4 << 20);
	r->client = tls_client();
	REQUIRE(r->client != NULL);
	REQUIRE_RC(r->client, tls_configure(r->client, ccfg), 0);
	REQUIRE_RC(r->client, tls_connect_socket(r->client, r->sv[0], "localhost"), 0);
	r->server = accept_on(listener, r->sv[1], 0, &r->cs);
	REQUIRE(fd_handshakes(r->client, r->server) == 0);
}

/* Record k of connection c: its length and byte pattern. */
static size_t
ra_len(int c, int k)
{
	return (size_t)(1000 + 3000 * k + 77 * c);
}

static unsigned char
ra_byte(int c, int k, size_t i)
{
	return (unsigned char)(c * 101 + k * 31 + i % 251);
}

/* Reads until `want` bytes of connection c's records from record k0 on have arrived. */
static void
ra_drain(struct ra_side *r, int c, int k0, int records, size_t want)
{
	static unsigned char buf[65536];
	size_t got = 0, at = 0;
	int k = k0;
	ssize_t n;

	while (got < want) {
		n = tls_read(r->server, buf, sizeof(buf));
		if (n == TLS_WANT_POLLIN) {
			REQUIRE(readable_within(r->sv[1], POLL_MS));
			continue;
		}
		REQUIRE(n > 0);
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != ra_byte(c, k, at)) {
				FAILF("connection %d, record %d, byte %zu: 0x%02x, want 0x%02x", c, k,
				    at, buf[i], ra_byte(c, k, at));
				return;
			}
			if (++at == ra_len(c, k) && k < records - 1) {
				k++;
				at = 0;
			}
		}
		got += (size_t)n;
	}
	CHECK(got == want);
}

static void
read_ahead_two_connections(void)
{
	struct tls_config *ccfg = client_config(TLS_PROTOCOL_TLSv1_3, NULL);
	struct tls_config *scfg = server_config("server", TLS_PROTOCOL_TLSv1_3, NULL);
	static unsigned char wbuf[16384];
	struct ra_side r[2];
	struct tls *listener;
	enum { RECORDS = 5 };
	size_t total[2] = { 0, 0 };

	capi_case = "read-ahead, two connections of one thread, interleaved";
	CHECK_CFG(scfg, tls_config_set_read_ahead(scfg, 1));
	listener = tls_server();
	REQUIRE(listener != NULL);
	REQUIRE_RC(listener, tls_configure(listener, scfg), 0);
	for (int c = 0; c < 2; c++) {
		ra_open(&r[c], listener, ccfg);
		for (int k = 0; k < RECORDS; k++) {
			for (size_t i = 0; i < ra_len(c, k); i++)
				wbuf[i] = ra_byte(c, k, i);
			REQUIRE_RC(r[c].client, tls_write(r[c].client, wbuf, ra_len(c, k)),
			    (ssize_t)ra_len(c, k));
			total[c] += ra_len(c, k);
		}
		wait_for(r[c].sv[1], POLLIN);
	}
	/* A: the first record only, the rest read ahead and held. */
	ra_drain(&r[0], 0, 0, RECORDS, ra_len(0, 0));
	CHECK(tls_pending_read(r[0].server) > 0);
	/* B: everything, while A holds its buffer. */
	ra_drain(&r[1], 1, 0, RECORDS, total[1]);
	CHECK_RC(r[1].server, tls_read(r[1].server, wbuf, sizeof(wbuf)), TLS_WANT_POLLIN);
	CHECK(tls_pending_read(r[1].server) == 0);
	/* A: the rest. */
	ra_drain(&r[0], 0, 1, RECORDS, total[0] - ra_len(0, 0));
	CHECK_RC(r[0].server, tls_read(r[0].server, wbuf, sizeof(wbuf)), TLS_WANT_POLLIN);
	CHECK(tls_pending_read(r[0].server) == 0);
	for (int c = 0; c < 2; c++) {
		tls_free(r[c].server);
		tls_free(r[c].client);
		close(r[c].sv[0]);
		close(r[c].sv[1]);
	}
	tls_free(listener);
	tls_config_free(scfg);
	tls_config_free(ccfg);
}
#endif

/* --------------------------------------------------- 3. counted writes */

#ifdef CAPI_NBTLS
/* Counts the writes of each side's handshake: over sockets by counting send(2) and friends
 * on each fd (one fd at a time, so each side's handshake calls run with its own fd
 * counted), over callbacks by counting write callback calls. */
static void
counted_writes(uint32_t proto, int cbs, int resume, long want_client, long want_server)
{
	struct tls_config *ccfg = client_config(proto, NULL);
	struct tls_config *scfg = server_config("server", proto, NULL);
	struct tls *listener = tls_server();

	REQUIRE(listener != NULL);
	REQUIRE_RC(listener, tls_configure(listener, scfg), 0);
	for (int conn = 0; conn <= resume; conn++) {
		struct cbsock cs, ss;
		struct tls *client = tls_client(), *server;
		int sv[2], cdone = 0, sdone = 0;
		long cw = 0, sw = 0;

		make_socketpair(sv, 1, 1 << 20);
		memset(&cs, 0, sizeof(cs));
		cs.fd = sv[0];
		REQUIRE(client != NULL);
		REQUIRE_RC(client, tls_configure(client, ccfg), 0);
		if (cbs)
			REQUIRE_RC(client, tls_connect_cbs(client, cbsock_read, cbsock_write,
			    &cs, "localhost"), 0);
		else
			REQUIRE_RC(client, tls_connect_socket(client, sv[0], "localhost"), 0);
		server = accept_on(listener, sv[1], cbs, &ss);
		for (int round = 0; round < 10000 && !(cdone && sdone); round++) {
			int rc;

			if (!cdone) {
				counted_fd = sv[0];
				fd_writes = 0;
				rc = tls_handshake(client);
				cw += fd_writes;
				counted_fd = -1;
				if (rc == 0)
					cdone = 1;
				else if (rc == -1)
					FAILF("client: %s", capi_str(tls_error(client)));
				if (rc == -1)
					break;
			}
			if (!sdone) {
				counted_fd = sv[1];
				fd_writes = 0;
				rc = tls_handshake(server);
				sw += fd_writes;
				counted_fd = -1;
				if (rc == 0)
					sdone = 1;
				else if (rc == -1)
					FAILF("server: %s", capi_str(tls_error(server)));
				if (rc == -1)
					break;
			}
		}
		CHECK(cdone && sdone);
		if (cbs) {
			cw = cs.writes;
			sw = ss.writes;
		}
		if (conn == resume) {
			CHECK(tls_conn_session_resumed(client) == resume);
			printf("%s: client %ld write(s), server %ld\n", capi_case, cw, sw);
			if (cw != want_client || sw != want_server)
				FAILF("client %ld write(s), server %ld; one per flight is %ld and %ld",
				    cw, sw, want_client, want_server);
		}
		tls_free(server);
		tls_free(client);
		close(sv[0]);
		close(sv[1]);
	}
	tls_free(listener);
	tls_config_free(scfg);
	tls_config_free(ccfg);
}

static void
counted_writes_cases(void)
{
	for (int cbs = 0; cbs < 2; cbs++) {
		/* TLS 1.3: ClientHello; CCS + Finished. Server: one flight (tickets deferred). */
		capi_case = cbs ? "writes TLSv1.3 callbacks" : "writes TLSv1.3 fd";
		counted_writes(TLS_PROTOCOL_TLSv1_3, cbs, 0, 2, 1);
		/* TLS 1.2: ClientHello; key exchange + CCS + Finished. Server: hello flight;
		 * CCS + Finished. */
		capi_case = cbs ? "writes TLSv1.2 callbacks" : "writes TLSv1.2 fd";
		counted_writes(TLS_PROTOCOL_TLSv1_2, cbs, 0, 2, 2);
		/* TLS 1.2 resumed: ClientHello; CCS + Finished. Server: hello, CCS, Finished. */
		capi_case = cbs ? "writes TLSv1.2 resumed callbacks" : "writes TLSv1.2 resumed fd";
		counted_writes(TLS_PROTOCOL_TLSv1_2, cbs, 1, 2, 1);
	}
}
#endif

/* ------------------------------------------- 4. a server's reset-free close */

#define ANSWER (512 * 1024)

static CAPI_UNUSED void
server_close_case(void)
{
	struct tls_config *ccfg = client_config(TLS_PROTOCOL_TLSv1_3, NULL);
	struct tls_config *scfg = server_config("server", TLS_PROTOCOL_TLSv1_3, NULL);
	static unsigned char answer[ANSWER], buf[65536];
	struct tls *client, *listener, *server;
	struct cbsock ss;
	size_t got = 0, sent = 0;
	int fds[2];
	ssize_t n;

	capi_case = "server close with the next request unread";
	/* the client's small receive buffer keeps most of the answer in the server's send
	 * queue when the server closes: a reset would discard it */
	tcp_loopback_pair(fds, 4096, 4 << 20);
	client = tls_client();
	listener = tls_server();
	REQUIRE(client != NULL && listener != NULL);
	REQUIRE_RC(client, tls_configure(client, ccfg), 0);
	REQUIRE_RC(listener, tls_configure(listener, scfg), 0);
	REQUIRE_RC(client, tls_connect_socket(client, fds[0], "localhost"), 0);
	server = accept_on(listener, fds[1], 0, &ss);
	REQUIRE(fd_handshakes(client, server) == 0);
	REQUIRE_RC(client, tls_write(client, "first", 5), 5);
	REQUIRE_RC(client, tls_write(client, "second", 6), 6);
	wait_for(fds[1], POLLIN);
	do {
		n = tls_read(server, buf, sizeof(buf));
	} while (n == TLS_WANT_POLLIN && readable_within(fds[1], POLL_MS));
	CHECK(n == 5);
	memset(answer, 'a', sizeof(answer));
	while (sent < sizeof(answer)) {
		n = tls_write(server, answer + sent, sizeof(answer) - sent);
		if (n == TLS_WANT_POLLOUT) {
			/* the client must read for the server to go on */
			ssize_t m = tls_read(client, buf, sizeof(buf));
			if (m > 0)
				got += (size_t)m;
			else if (m != TLS_WANT_POLLIN)
				break;
			continue;
		}
		REQUIRE(n > 0);
		sent += (size_t)n;
	}
	n = tls_close(server);
	CHECK(n == 0);
	close(fds[1]);
	for (int i = 0; i < 100000; i++) {
		n = tls_read(client, buf, sizeof(buf));
		if (n > 0)
			got += (size_t)n;
		else if (n == TLS_WANT_POLLIN)
			readable_within(fds[0], POLL_MS);
		else
			break;
	}
	if (n != 0 || got != sizeof(answer))
		FAILF("the client read %zu of %zu bytes and then %s (%s): the server's close "
		    "was not clean", got, sizeof(answer), capi_rc_name(n),
		    capi_str(tls_error(client)));
	tls_free(server);
	tls_free(listener);
	tls_free(client);
	tls_config_free(scfg);
	tls_config_free(ccfg);
	close(fds[0]);
}

int
main(int argc, char **argv)
{
	capi_init(argc, argv);
	level_triggered_cases();
	counted_reads_cases();
#ifdef CAPI_NBTLS
	read_ahead_two_connections();
	counted_writes_cases();
#endif
#ifdef CAPI_NBTLS
	/* Debian's libtls closes over the unread request: the client gets a reset */
	server_close_case();
#endif
	return capi_finish("read_record");
}
