/* str — see str.h. */
#include "base/str.h"

#include <string.h>

size_t str_copyn(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return n;
}

size_t str_copy(char *dst, size_t cap, const char *src)
{
    return str_copyn(dst, cap, src, strnlen(src, cap));
}

size_t str_join(char *dst, size_t cap, const char *const *pieces)
{
    size_t o = 0;
    for (; *pieces; pieces++)
        o += str_copy(dst + o, cap - o, *pieces);
    return o;
}
