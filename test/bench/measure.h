/*-------------------------------------------------------------------------
 *
 * measure.h
 *	  Clocks and memory figures of the benchmark programs (test/bench/);
 *	  everything is static.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IL_BENCH_MEASURE_H
#define IL_BENCH_MEASURE_H

#include <sys/resource.h>
#include <time.h>

/* Seconds since an arbitrary point. */
static inline double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* CPU seconds of this process. */
static inline double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Peak resident set of this process, in MB. */
static inline double
peak_rss_mb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double) ru.ru_maxrss / 1024.0;
}

#endif							/* IL_BENCH_MEASURE_H */
