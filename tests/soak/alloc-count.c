/*
 * alloc-count.so: counts the heap allocations a process holds, for `make soak`.
 *
 * Preloaded (LD_PRELOAD) into examples-c/echo-server-epoll, it replaces malloc and friends
 * with glibc's own implementations (__libc_malloc and the rest) plus two atomic counters:
 * the allocations made and the ones freed.  The server looks up soak_live_allocations()
 * with dlsym and prints it on SIGUSR1; the soak compares the figure at idle before and
 * after thousands of connections.  Everything the process allocates goes through here:
 * nbtls, rustls and ring (Rust's System allocator calls malloc, calloc, realloc and
 * posix_memalign), libc and the server itself.
 *
 * glibc documents replacing malloc this way ("Replacing malloc" in its manual): malloc,
 * free, calloc and realloc are required, and the aligned variants are provided so that
 * no allocation escapes the count.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static unsigned long long made, freed;

static void *
counted(void *p)
{
	if (p != NULL)
		__atomic_fetch_add(&made, 1, __ATOMIC_RELAXED);
	return p;
}

/* Allocations the process holds right now. */
long long
soak_live_allocations(void)
{
	return (long long)(__atomic_load_n(&made, __ATOMIC_SEQ_CST) -
	    __atomic_load_n(&freed, __ATOMIC_SEQ_CST));
}

void *
malloc(size_t n)
{
	return counted(__libc_malloc(n));
}

void *
calloc(size_t n, size_t size)
{
	return counted(__libc_calloc(n, size));
}

void
free(void *p)
{
	if (p != NULL) {
		__atomic_fetch_add(&freed, 1, __ATOMIC_RELAXED);
		__libc_free(p);
	}
}

void *
realloc(void *p, size_t n)
{
	void *q;

	if (p == NULL)
		return malloc(n);
	if (n == 0) {	/* glibc frees p and returns NULL */
		free(p);
		return NULL;
	}
	q = __libc_realloc(p, n);	/* on failure p stays allocated: no change */
	return q;
}

void *
memalign(size_t align, size_t n)
{
	return counted(__libc_memalign(align, n));
}

void *
aligned_alloc(size_t align, size_t n)
{
	return memalign(align, n);
}

int
posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)) != 0)
		return EINVAL;
	if ((p = memalign(align, n)) == NULL)
		return ENOMEM;
	*out = p;
	return 0;
}

void *
valloc(size_t n)
{
	return memalign(4096, n);
}

void *
pvalloc(size_t n)
{
	return memalign(4096, (n + 4095) & ~(size_t)4095);
}
