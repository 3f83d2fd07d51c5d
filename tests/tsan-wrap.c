/*
 * tests/tsan-wrap.c: linked into the ThreadSanitizer build of libnbtls.so only (mk/tsan.mk).
 *
 * LOCK_CONTENDED is the mangled name of std's futex Mutex::lock_contended(&self), found in
 * the toolchain's libstd by mk/tsan.mk; the link wraps it (ld --wrap) so that a thread that
 * gets a contended lock in that uninstrumented code tells TSan it acquired the futex word
 * the instrumented unlock released.  gcc 12's libtsan lacks the __tsan_mem* entry points
 * LLVM's instrumentation calls: they forward to memcpy and friends, which libtsan
 * intercepts and checks.
 */
#include <stddef.h>
#include <string.h>

void __tsan_acquire(void *addr);

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

void CAT(__real_, LOCK_CONTENDED)(void *m);
void CAT(__wrap_, LOCK_CONTENDED)(void *m);

void
CAT(__wrap_, LOCK_CONTENDED)(void *m)
{
	CAT(__real_, LOCK_CONTENDED)(m);
	__tsan_acquire(m);
}

void *__tsan_memcpy(void *d, const void *s, size_t n);
void *__tsan_memmove(void *d, const void *s, size_t n);
void *__tsan_memset(void *d, int c, size_t n);

void *
__tsan_memcpy(void *d, const void *s, size_t n)
{
	return memcpy(d, s, n);
}

void *
__tsan_memmove(void *d, const void *s, size_t n)
{
	return memmove(d, s, n);
}

void *
__tsan_memset(void *d, int c, size_t n)
{
	return memset(d, c, n);
}
