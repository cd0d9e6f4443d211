/* mono.c: the monotonic clock every timer and statistic uses. Never the
 * wall clock: NTP steps must not move a 20 ms media tick. */
#include "core/core.h"

#include <time.h>

uint64_t mono_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
