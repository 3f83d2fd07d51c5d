/*
 * iocount.so: an LD_PRELOAD shim that counts read system calls (read, recv, recvfrom,
 * recvmsg, readv, and fortify's __read_chk), whatever they return, EAGAIN included, for
 * the reads_per_record figures. The harnesses look up bench_io_reads() with
 * dlsym(RTLD_DEFAULT, ...). The harnesses are single-threaded; the counter is atomic anyway.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

static long long reads;

long long bench_io_reads(void) { return __atomic_load_n(&reads, __ATOMIC_RELAXED); }

/* Counts one call; returns libc's function of that name, looked up once per entry point. */
static void *next(void **cache, const char *name)
{
	__atomic_add_fetch(&reads, 1, __ATOMIC_RELAXED);
	if (*cache == NULL)
		*cache = dlsym(RTLD_NEXT, name);
	return *cache;
}

ssize_t read(int fd, void *buf, size_t n)
{
	static void *cache;
	ssize_t (*f)(int, void *, size_t) = (ssize_t (*)(int, void *, size_t))next(&cache, "read");
	return f(fd, buf, n);
}

ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	(void)buflen;
	return read(fd, buf, n);
}

ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	static void *cache;
	ssize_t (*f)(int, void *, size_t, int) = (ssize_t (*)(int, void *, size_t, int))next(&cache, "recv");
	return f(fd, buf, n, flags);
}

ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a, socklen_t *alen)
{
	static void *cache;
	ssize_t (*f)(int, void *, size_t, int, struct sockaddr *, socklen_t *) = (ssize_t (*)(int, void *, size_t, int, struct sockaddr *, socklen_t *))next(&cache, "recvfrom");
	return f(fd, buf, n, flags, a, alen);
}

ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	static void *cache;
	ssize_t (*f)(int, struct msghdr *, int) = (ssize_t (*)(int, struct msghdr *, int))next(&cache, "recvmsg");
	return f(fd, m, flags);
}

ssize_t readv(int fd, const struct iovec *iov, int n)
{
	static void *cache;
	ssize_t (*f)(int, const struct iovec *, int) = (ssize_t (*)(int, const struct iovec *, int))next(&cache, "readv");
	return f(fd, iov, n);
}
