/*
 * bench — `nagare bench`, a load generator for SQS-compatible servers (our
 * redis-benchmark / wrk).
 *
 * It drives an endpoint over many keep-alive connections with SigV4-signed AWS
 * JSON 1.0 requests (SendMessage, SendMessageBatch, a send/receive/delete
 * cycle) or plain GETs, and reports requests/s, messages/s and latency
 * percentiles from a log-linear histogram. bench/run.sh uses it to compare
 * nagare with its peers.
 */
#ifndef NAGARE_BENCH_BENCH_H
#define NAGARE_BENCH_BENCH_H

#include <stdint.h>

/* Entry point of `nagare bench ARGS...` (argv[0] is "bench" or the program).
 * Prints the report to stdout (one JSON line with --json), diagnostics to
 * stderr. Returns the process exit code: 0 when at least one request
 * succeeded, 1 when none did or the endpoint could not be set up, 2 on bad
 * usage. */
int bench_main(int argc, char **argv);

/* A latency histogram in HdrHistogram's log-linear layout: values below 128
 * are exact, above that each power of two is split into 64 buckets (about
 * 1.6% relative error), up to 2^63. Fixed size, no allocation. */
#define BENCH_HIST_SUB     64
#define BENCH_HIST_BUCKETS (57 * BENCH_HIST_SUB + 2 * BENCH_HIST_SUB)

typedef struct bench_hist {
    uint64_t count;
    uint64_t max;
    uint64_t buckets[BENCH_HIST_BUCKETS];
} bench_hist_t;

/* Empties h. */
void bench_hist_init(bench_hist_t *h);
/* Records one value (any unit; bench uses microseconds). */
void bench_hist_record(bench_hist_t *h, uint64_t value);
/* Adds every count of src into dst. */
void bench_hist_merge(bench_hist_t *dst, const bench_hist_t *src);
/* The value at quantile q (0..1): the midpoint of the bucket holding it,
 * never above the recorded maximum; 0 when empty. */
uint64_t bench_hist_quantile(const bench_hist_t *h, double q);

#endif
