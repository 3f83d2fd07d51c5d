/*
 * memcount.so: an LD_PRELOAD shim that counts live heap bytes (malloc_usable_size of every
 * block held) and allocation calls, for the mem_per_conn and allocs_* workloads. The
 * harnesses look up bench_heap_live() and bench_heap_allocs() with dlsym(RTLD_DEFAULT, ...).
 * It forwards to glibc's __libc_* entry points, so no dlsym bootstrapping is needed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdint.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static long long live, allocs;

long long bench_heap_live(void) { return __atomic_load_n(&live, __ATOMIC_RELAXED); }
long long bench_heap_allocs(void) { return __atomic_load_n(&allocs, __ATOMIC_RELAXED); }

static void *took(void *p)
{
	if (p != NULL) {
		__atomic_add_fetch(&live, (long long)malloc_usable_size(p), __ATOMIC_RELAXED);
		__atomic_add_fetch(&allocs, 1, __ATOMIC_RELAXED);
	}
	return p;
}

void *malloc(size_t n) { return took(__libc_malloc(n)); }
void *calloc(size_t n, size_t m) { return took(__libc_calloc(n, m)); }

void free(void *p)
{
	if (p == NULL)
		return;
	__atomic_sub_fetch(&live, (long long)malloc_usable_size(p), __ATOMIC_RELAXED);
	__libc_free(p);
}

void *realloc(void *p, size_t n)
{
	size_t old = p ? malloc_usable_size(p) : 0;
	void *q = __libc_realloc(p, n);
	if (q != NULL) {
		__atomic_add_fetch(&live, (long long)malloc_usable_size(q) - (long long)old, __ATOMIC_RELAXED);
		__atomic_add_fetch(&allocs, 1, __ATOMIC_RELAXED);
	} else if (p != NULL && n == 0) {
		__atomic_sub_fetch(&live, (long long)old, __ATOMIC_RELAXED);
	}
	return q;
}

void *memalign(size_t a, size_t n) { return took(__libc_memalign(a, n)); }
void *aligned_alloc(size_t a, size_t n) { return took(__libc_memalign(a, n)); }
void *valloc(size_t n) { return took(__libc_memalign(4096, n)); }
void *pvalloc(size_t n) { return took(__libc_memalign(4096, (n + 4095) & ~(size_t)4095)); }

int posix_memalign(void **out, size_t a, size_t n)
{
	if (a < sizeof(void *) || (a & (a - 1)) != 0)
		return EINVAL;
	void *p = took(__libc_memalign(a, n));
	if (p == NULL)
		return ENOMEM;
	*out = p;
	return 0;
}
