/*
 * futexcount.so: an LD_PRELOAD shim that counts the times a thread went to sleep on a lock
 * made by Rust's std (Mutex, RwLock, Condvar and Once wait with FUTEX_WAIT through libc's
 * syscall()), and the call stacks that did; it prints them to stderr at exit. A lock that
 * serialises the _2t rows shows as waits from one stack, e.g.
 *   LD_PRELOAD=bench/build/futexcount.so bench/build/tlsbench-nbtls handshake_resumed_2t \
 *       target/bench/certs 2
 * then `addr2line -f -C -i -e target/release/libnbtls.so 0xOFFSET` for the libnbtls.so
 * frames. glibc's own pthread locks (OpenSSL's) do not go through syscall() and are not
 * seen. Waits only: a lock taken after a short spin costs no sleep and is not counted.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <execinfo.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#define DEPTH 12  /* frames kept per stack */
#define SLOTS 256 /* distinct stacks kept */

struct stack {
	void *pc[DEPTH];
	int n; /* frames; 0: free, -1: being filled */
	long waits;
};
static struct stack stacks[SLOTS];
static long waits, wakes;
static __thread int inside; /* backtrace() itself may wait on a lock the first time */

static void count_wait(void)
{
	void *pc[DEPTH];
	unsigned long h = 0;
	inside = 1;
	int n = backtrace(pc, DEPTH);
	inside = 0;
	for (int i = 0; i < n; i++)
		h = h * 31 + (unsigned long)pc[i];
	for (unsigned j = 0; j < SLOTS; j++) {
		struct stack *s = &stacks[(h + j) % SLOTS];
		int zero = 0;
		if (__atomic_compare_exchange_n(&s->n, &zero, -1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			memcpy(s->pc, pc, sizeof pc);
			__atomic_store_n(&s->n, n, __ATOMIC_RELEASE);
		}
		while (__atomic_load_n(&s->n, __ATOMIC_ACQUIRE) == -1)
			;
		if (s->n == n && memcmp(s->pc, pc, (size_t)n * sizeof *pc) == 0) {
			__atomic_add_fetch(&s->waits, 1, __ATOMIC_RELAXED);
			return;
		}
	}
}

long syscall(long nr, ...)
{
	static long (*real)(long, ...);
	long a[6];
	va_list ap;
	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (real == NULL)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	if (nr == SYS_futex && !inside) {
		int cmd = (int)a[1] & FUTEX_CMD_MASK;
		if (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET) {
			__atomic_add_fetch(&waits, 1, __ATOMIC_RELAXED);
			count_wait();
		} else if (cmd == FUTEX_WAKE || cmd == FUTEX_WAKE_BITSET) {
			__atomic_add_fetch(&wakes, 1, __ATOMIC_RELAXED);
		}
	}
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

__attribute__((destructor)) static void report(void)
{
	fprintf(stderr, "futexcount: %ld waits, %ld wakes\n", waits, wakes);
	for (int i = 0; i < SLOTS; i++) {
		if (stacks[i].waits == 0)
			continue;
		fprintf(stderr, "== %ld waits from:\n", stacks[i].waits);
		backtrace_symbols_fd(stacks[i].pc, stacks[i].n, 2);
	}
}
