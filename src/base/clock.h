/*
 * clock — the two clocks nagare uses.
 *
 * Deadlines (visibility, delays, long polls, timeouts) use the monotonic clock;
 * what users see (SentTimestamp, CreatedTimestamp) uses the wall clock. Both in
 * milliseconds. Also the calendar arithmetic that parsers of dates share.
 */
#ifndef NAGARE_BASE_CLOCK_H
#define NAGARE_BASE_CLOCK_H

#include <stdint.h>

/* Milliseconds since an arbitrary fixed point; never goes backwards. */
uint64_t clock_mono_ms(void);
/* Milliseconds since the Unix epoch. */
uint64_t clock_wall_ms(void);
/* Days since 1970-01-01 of a date in the proleptic Gregorian calendar (month
 * 1-12, day 1-31; negative before 1970). No time zones, no checks. */
int64_t clock_days_from_civil(int64_t year, int64_t month, int64_t day);
/* A wall-clock time (ms since the epoch) as ISO 8601 in UTC to the second,
 * "2026-11-25T06:10:41Z", as AWS's APIs write timestamps. */
void clock_iso8601(uint64_t ms, char out[24]);

#endif
