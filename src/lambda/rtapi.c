/*
 * rtapi — see rtapi.h. The path grammar is small enough for a table of fixed
 * paths plus one templated shape, `invocation/{id}/{response|error}`.
 */
#include "lambda/rtapi.h"

#include <stdbool.h>
#include <string.h>

#define RT_PREFIX "/2018-06-01/runtime/"

typedef struct rt_path {
    const char *rest; /* after RT_PREFIX; NULL ends the table */
    const char *method;
    lambda_rt_route_t route;
} rt_path_t;

static const rt_path_t fixed_paths[] = {
    {"invocation/next", "GET", LAMBDA_RT_NEXT},
    {"init/error", "POST", LAMBDA_RT_INIT_ERROR},
};

static const rt_path_t id_suffixes[] = {
    {"/response", "POST", LAMBDA_RT_RESPONSE},
    {"/error", "POST", LAMBDA_RT_ERROR},
};

static bool span_is(const char *p, size_t len, const char *s)
{
    return len == strlen(s) && memcmp(p, s, len) == 0;
}

static lambda_rt_route_t checked(const rt_path_t *r, const char *method)
{
    return strcmp(method, r->method) == 0 ? r->route : LAMBDA_RT_BAD_METHOD;
}

lambda_rt_route_t lambda_rt_parse(const char *method, const char *path, size_t path_len,
                                  const char **id, size_t *id_len)
{
    size_t plen = strlen(RT_PREFIX);
    if (path_len < plen || memcmp(path, RT_PREFIX, plen) != 0)
        return LAMBDA_RT_NOT_FOUND;
    const char *rest = path + plen;
    size_t rlen = path_len - plen;
    for (size_t i = 0; i < sizeof(fixed_paths) / sizeof(fixed_paths[0]); i++)
        if (span_is(rest, rlen, fixed_paths[i].rest))
            return checked(&fixed_paths[i], method);
    static const char inv[] = "invocation/";
    if (rlen <= sizeof(inv) - 1 || memcmp(rest, inv, sizeof(inv) - 1) != 0)
        return LAMBDA_RT_NOT_FOUND;
    const char *idp = rest + sizeof(inv) - 1;
    const char *slash = memchr(idp, '/', rlen - (sizeof(inv) - 1));
    if (!slash || slash == idp)
        return LAMBDA_RT_NOT_FOUND;
    size_t tail_len = (size_t)(rest + rlen - slash);
    for (size_t i = 0; i < sizeof(id_suffixes) / sizeof(id_suffixes[0]); i++) {
        if (!span_is(slash, tail_len, id_suffixes[i].rest))
            continue;
        lambda_rt_route_t r = checked(&id_suffixes[i], method);
        if (r != LAMBDA_RT_BAD_METHOD) {
            *id = idp;
            *id_len = (size_t)(slash - idp);
        }
        return r;
    }
    return LAMBDA_RT_NOT_FOUND;
}
