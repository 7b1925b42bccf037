/*
 * noop — a `provided` function in C that does nothing: every event succeeds
 * with the response `null`.
 *
 * Built by `make` into build/lambda-noop; deploy it as the package's
 * `bootstrap` (runtime provided.al2023). `make bench` drains a queue through it
 * (an SQS event source mapping), so that the figure is the pipeline's own cost:
 * unlike the echo example it does not send the batch back.
 */
#include "lambda_runtime.h"

#include <stdlib.h>
#include <string.h>

static int noop(void *ud, const lambda_invocation_t *inv, char **out, size_t *out_len)
{
    (void)ud;
    (void)inv;
    *out = malloc(sizeof("null"));
    if (!*out)
        return -1;
    memcpy(*out, "null", sizeof("null"));
    *out_len = sizeof("null") - 1;
    return 0;
}

int main(void)
{
    return lambda_rt_run(noop, NULL);
}
