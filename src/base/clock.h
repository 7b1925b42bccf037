/*
 * clock — the two clocks nagare uses.
 *
 * Deadlines (visibility, delays, long polls, timeouts) use the monotonic clock;
 * what users see (SentTimestamp, CreatedTimestamp) uses the wall clock. Both in
 * milliseconds.
 */
#ifndef NAGARE_BASE_CLOCK_H
#define NAGARE_BASE_CLOCK_H

#include <stdint.h>

/* Milliseconds since an arbitrary fixed point; never goes backwards. */
uint64_t clock_mono_ms(void);
/* Milliseconds since the Unix epoch. */
uint64_t clock_wall_ms(void);

#endif
