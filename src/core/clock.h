/* SPDX-License-Identifier: MIT
 *
 * Time, the one way every module reads it. Internal to micronlp (not installed).
 */
#ifndef MN_CORE_CLOCK_H
#define MN_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic time in nanoseconds, and in seconds, for measuring durations. */
uint64_t mn__now_ns(void);
double mn__now_sec(void);

/* The absolute CLOCK_REALTIME time `ms` milliseconds from now, for pthread_cond_timedwait
 * (whose default clock is the realtime one). */
struct timespec mn__deadline_in_ms(uint64_t ms);

#endif
