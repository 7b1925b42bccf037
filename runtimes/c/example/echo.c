/*
 * echo — a `provided` function in C: answers each event with itself.
 *
 * Built by `make` into build/lambda-echo; deploy it as the package's
 * `bootstrap` (runtime provided.al2023). The benchmarks use it as the no-op
 * worker, so it does nothing else.
 */
#include "lambda_runtime.h"

#include <stdlib.h>
#include <string.h>

static int echo(void *ud, const lambda_invocation_t *inv, char **out, size_t *out_len)
{
    (void)ud;
    *out = malloc(inv->payload_len + 1);
    if (!*out)
        return -1;
    memcpy(*out, inv->payload, inv->payload_len + 1);
    *out_len = inv->payload_len;
    return 0;
}

int main(void)
{
    return lambda_rt_run(echo, NULL);
}
