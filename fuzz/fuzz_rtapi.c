/*
 * fuzz_rtapi — the Runtime API route parser: arbitrary methods and paths.
 * Must never crash or read out of bounds, and a request id it reports must
 * lie inside the path, be non-empty and hold no '/'.
 */
#include "lambda/rtapi.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
    const char *method = methods[data[0] % 4];
    /* an exact-size copy, so reading past the path is caught */
    char *path = malloc(size - 1 ? size - 1 : 1);
    memcpy(path, data + 1, size - 1);
    const char *id = NULL;
    size_t id_len = 0;
    lambda_rt_route_t r = lambda_rt_parse(method, path, size - 1, &id, &id_len);
    if (r == LAMBDA_RT_RESPONSE || r == LAMBDA_RT_ERROR) {
        if (!id || id < path || id + id_len > path + size - 1 || id_len == 0 ||
            memchr(id, '/', id_len))
            abort();
    }
    free(path);
    return 0;
}
