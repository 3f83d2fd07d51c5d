/*
 * big_transfer: 1 MiB each way over a nonblocking AF_UNIX socketpair with a small
 * SO_SNDBUF, client and server in one thread and one poll() loop. Each side keeps one
 * pending read and one pending write; a WANT code from either decides whether that
 * operation waits for POLLIN or POLLOUT on the side's socket. Both streams are checked
 * byte by byte and by checksum. Runs for TLS 1.2 and TLS 1.3, then both sides close.
 * A poll() that times out (10 s) with both sides waiting is a deadlock.
 */
#include "common.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#define TOTAL (1024 * 1024)
#define WCHUNK 20000
#define RBUF 16384
#define POLL_TIMEOUT_MS 10000

struct side {
	const char *name;
	struct tls *ctx;
	int fd;
	int hs_done, closed;
	short hs_wait, w_wait, r_wait, c_wait; /* poll events an operation waits for; 0 = ready */
	uint32_t wseed;
	size_t wdone;
	struct stream_check rx;
	long wants;
};

static short
want_events(ssize_t rc)
{
	return rc == TLS_WANT_POLLIN ? POLLIN : POLLOUT;
}

static int
is_want(ssize_t rc)
{
	return rc == TLS_WANT_POLLIN || rc == TLS_WANT_POLLOUT;
}

/* Runs every operation of the side that is not waiting; -1 on a failure. */
static int
side_run(struct side *s)
{
	unsigned char buf[WCHUNK > RBUF ? WCHUNK : RBUF];
	ssize_t rc;

	if (!s->hs_done) {
		if (s->hs_wait)
			return 0;
		rc = tls_handshake(s->ctx);
		if (rc == 0) {
			s->hs_done = 1;
		} else if (is_want(rc)) {
			s->wants++;
			s->hs_wait = want_events(rc);
			return 0;
		} else {
			FAILF("%s tls_handshake = %s; tls_error: %s", s->name, capi_rc_name(rc),
			    capi_str(tls_error(s->ctx)));
			return -1;
		}
	}
	if (s->wdone < TOTAL && !s->w_wait) {
		size_t n = TOTAL - s->wdone;
		if (n > WCHUNK)
			n = WCHUNK;
		pattern_fill(s->wseed, s->wdone, buf, n);
		rc = tls_write(s->ctx, buf, n);
		if (rc > 0 && (size_t)rc <= n) {
			s->wdone += (size_t)rc;
		} else if (is_want(rc)) {
			s->wants++;
			s->w_wait = want_events(rc);
		} else {
			FAILF("%s tls_write(%zu) = %s at %zu; tls_error: %s", s->name, n,
			    capi_rc_name(rc), s->wdone, capi_str(tls_error(s->ctx)));
			return -1;
		}
	}
	if (s->rx.got < TOTAL && !s->r_wait) {
		size_t n = TOTAL - s->rx.got;
		if (n > RBUF)
			n = RBUF;
		rc = tls_read(s->ctx, buf, n);
		if (rc > 0 && (size_t)rc <= n) {
			stream_check_add(&s->rx, buf, (size_t)rc);
		} else if (is_want(rc)) {
			s->wants++;
			s->r_wait = want_events(rc);
		} else {
			FAILF("%s tls_read(%zu) = %s at %zu; tls_error: %s", s->name, n,
			    capi_rc_name(rc), s->rx.got, capi_str(tls_error(s->ctx)));
			return -1;
		}
	}
	if (s->wdone == TOTAL && s->rx.got == TOTAL && !s->closed && !s->c_wait) {
		rc = tls_close(s->ctx);
		if (rc == 0) {
			s->closed = 1;
		} else if (is_want(rc)) {
			s->wants++;
			s->c_wait = want_events(rc);
		} else {
			FAILF("%s tls_close = %s; tls_error: %s", s->name, capi_rc_name(rc),
			    capi_str(tls_error(s->ctx)));
			return -1;
		}
	}
	return 0;
}

/* The events the side waits for, or -1 when some operation can run now. */
static int
side_events(const struct side *s)
{
	short ev = 0;

	if (s->closed)
		return 0;
	if (!s->hs_done)
		return s->hs_wait ? s->hs_wait : -1;
	if (s->wdone < TOTAL) {
		if (!s->w_wait)
			return -1;
		ev |= s->w_wait;
	}
	if (s->rx.got < TOTAL) {
		if (!s->r_wait)
			return -1;
		ev |= s->r_wait;
	}
	if (s->wdone == TOTAL && s->rx.got == TOTAL) {
		if (!s->c_wait)
			return -1;
		ev |= s->c_wait;
	}
	return ev;
}

static void
side_wake(struct side *s, short revents)
{
	short any = POLLERR | POLLHUP | POLLNVAL;

	if (s->hs_wait & (revents | any))
		s->hs_wait = 0;
	if (revents & any)
		s->hs_wait = s->w_wait = s->r_wait = s->c_wait = 0;
	if (s->w_wait & revents)
		s->w_wait = 0;
	if (s->r_wait & revents)
		s->r_wait = 0;
	if (s->c_wait & revents)
		s->c_wait = 0;
}

static void
run_case(uint32_t proto)
{
	struct tls_config *ccfg = client_config(proto, NULL);
	struct tls_config *scfg = server_config("server", proto, NULL);
	struct tls *client = tls_client(), *listener = tls_server(), *server = NULL;
	struct side sides[2];
	int sv[2], sndbuf = 4096;
	long loops = 0, polls = 0;

	capi_case = proto_name(proto);
	REQUIRE(client != NULL && listener != NULL);
	make_socketpair(sv, 1, sndbuf);
	REQUIRE_RC(client, tls_configure(client, ccfg), 0);
	REQUIRE_RC(listener, tls_configure(listener, scfg), 0);
	REQUIRE_RC(client, tls_connect_socket(client, sv[0], "localhost"), 0);
	REQUIRE_RC(listener, tls_accept_socket(listener, &server, sv[1]), 0);
	REQUIRE(server != NULL);

	memset(sides, 0, sizeof(sides));
	sides[0].name = "client";
	sides[0].ctx = client;
	sides[0].fd = sv[0];
	sides[0].wseed = 0xc11e;
	stream_check_init(&sides[0].rx, 0x5e7e);
	sides[1].name = "server";
	sides[1].ctx = server;
	sides[1].fd = sv[1];
	sides[1].wseed = 0x5e7e;
	stream_check_init(&sides[1].rx, 0xc11e);

	while (!sides[0].closed || !sides[1].closed) {
		struct pollfd pfd[2];
		int nfds = 0, ready = 0, n;

		loops++;
		if (side_run(&sides[0]) < 0 || side_run(&sides[1]) < 0)
			break;
		for (int i = 0; i < 2; i++) {
			int ev = side_events(&sides[i]);
			if (ev < 0)
				ready = 1;
			else if (ev > 0) {
				pfd[nfds].fd = sides[i].fd;
				pfd[nfds].events = (short)ev;
				pfd[nfds].revents = 0;
				nfds++;
			}
		}
		if (nfds == 0)
			continue;
		n = poll(pfd, (nfds_t)nfds, ready ? 0 : POLL_TIMEOUT_MS);
		polls++;
		if (n < 0) {
			FAILF("poll: %s", strerror(errno));
			break;
		}
		if (n == 0 && !ready) {
			FAILF("deadlock: both sides wait; client wrote %zu read %zu (events %d), "
			    "server wrote %zu read %zu (events %d)", sides[0].wdone,
			    sides[0].rx.got, side_events(&sides[0]), sides[1].wdone,
			    sides[1].rx.got, side_events(&sides[1]));
#ifdef CAPI_NBTLS
			FAILF("  nbtls state: client pending_read %zu pending_write %zu events %#x; "
			    "server pending_read %zu pending_write %zu events %#x",
			    tls_pending_read(client), tls_pending_write(client),
			    (unsigned)tls_events(client), tls_pending_read(server),
			    tls_pending_write(server), (unsigned)tls_events(server));
#endif
			break;
		}
		for (int k = 0; k < nfds; k++)
			for (int i = 0; i < 2; i++)
				if (pfd[k].fd == sides[i].fd)
					side_wake(&sides[i], pfd[k].revents);
	}
	if (sides[0].closed && sides[1].closed) {
		CHECK_STREAM(&sides[0].rx, TOTAL);
		CHECK_STREAM(&sides[1].rx, TOTAL);
		CHECK_STR(tls_conn_version(client),
		    proto == TLS_PROTOCOL_TLSv1_2 ? "TLSv1.2" : "TLSv1.3");
	}
	printf("  %s: loops=%ld polls=%ld wants: client %ld, server %ld\n", proto_name(proto),
	    loops, polls, sides[0].wants, sides[1].wants);
	tls_free(server);
	tls_free(listener);
	tls_free(client);
	close(sv[0]);
	close(sv[1]);
	tls_config_free(ccfg);
	tls_config_free(scfg);
	capi_case = "";
}

int
main(int argc, char **argv)
{
	capi_init(argc, argv);
	run_case(TLS_PROTOCOL_TLSv1_2);
	run_case(TLS_PROTOCOL_TLSv1_3);
	return capi_finish("big_transfer");
}
