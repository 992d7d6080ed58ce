/*-------------------------------------------------------------------------
 *
 * memcount.h
 *	  A counting allocator for the programs that measure the core's memory
 *	  (test/bench/bench_memory.c, test/unit/test_memory.c, the fuzz
 *	  harnesses): peak live bytes of malloc, calloc, realloc and free.
 *
 * The program is linked with
 *	-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free
 * so every call of the core's objects (and of the program) goes through the
 * functions below; libraries built apart (libcrypto, libgit2) are not
 * counted. Include this header in exactly one file of such a program.
 *
 * A block counts with its usable size (malloc_usable_size: what the
 * allocator really set aside; the requested size under the sanitizers). A
 * realloc that grows a block counts as if the old and the new block were
 * both live at once, the worst an allocator can do (it copies when it
 * cannot grow in place), so the figures are upper bounds.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_BENCH_MEMCOUNT_H
#define IL_BENCH_MEMCOUNT_H

#include <malloc.h>
#include <stddef.h>

extern void *__real_malloc(size_t size);
extern void *__real_calloc(size_t n, size_t size);
extern void *__real_realloc(void *p, size_t size);
extern void __real_free(void *p);

void	   *__wrap_malloc(size_t size);
void	   *__wrap_calloc(size_t n, size_t size);
void	   *__wrap_realloc(void *p, size_t size);
void		__wrap_free(void *p);

/* signed: a block another library allocated may be freed here */
static long long memcount_live_bytes;
static long long memcount_peak_bytes;

static inline void
memcount_note(size_t extra)
{
	if (memcount_live_bytes + (long long) extra > memcount_peak_bytes)
		memcount_peak_bytes = memcount_live_bytes + (long long) extra;
}

void *
__wrap_malloc(size_t size)
{
	void	   *p = __real_malloc(size);

	if (p != NULL)
	{
		memcount_live_bytes += (long long) malloc_usable_size(p);
		memcount_note(0);
	}
	return p;
}

void *
__wrap_calloc(size_t n, size_t size)
{
	void	   *p = __real_calloc(n, size);

	if (p != NULL)
	{
		memcount_live_bytes += (long long) malloc_usable_size(p);
		memcount_note(0);
	}
	return p;
}

void *
__wrap_realloc(void *p, size_t size)
{
	size_t		old = p != NULL ? malloc_usable_size(p) : 0;
	void	   *q;

	if (size == 0 && p != NULL)
	{
		__wrap_free(p);
		return NULL;
	}
	/* the old block and the new one, both live while it copies (a block
	 * that shrinks stays where it is) */
	if (size > old)
		memcount_note(size);
	q = __real_realloc(p, size);
	if (q != NULL)
	{
		memcount_live_bytes -= (long long) old;
		memcount_live_bytes += (long long) malloc_usable_size(q);
		memcount_note(0);
	}
	return q;
}

void
__wrap_free(void *p)
{
	if (p != NULL)
		memcount_live_bytes -= (long long) malloc_usable_size(p);
	__real_free(p);
}

/* Starts a measurement: the peak from now on, above what is live now. */
static inline long long
memcount_start(void)
{
	memcount_peak_bytes = memcount_live_bytes;
	return memcount_live_bytes;
}

/* The peak since memcount_start (which returned base), above base. */
static inline size_t
memcount_peak_since(long long base)
{
	return memcount_peak_bytes > base ? (size_t) (memcount_peak_bytes - base) : 0;
}

/* Bytes live now. */
static inline long long
memcount_live(void)
{
	return memcount_live_bytes;
}

#endif							/* IL_BENCH_MEMCOUNT_H */
