/*
 * str — bounded copies into fixed-size character arrays.
 *
 * The request path fills many fixed fields (principal ARNs, queue names,
 * decision records) from strings it already holds. snprintf("%s") did that
 * and showed in profiles (its format parsing costs more than the copy), so
 * these copy with the same result: truncated to fit, always NUL-terminated.
 * Not for text whose truncation would matter: callers check lengths first.
 */
#ifndef NAGARE_BASE_STR_H
#define NAGARE_BASE_STR_H

#include <stddef.h>

/* Copies (src, n) into dst of cap bytes (cap > 0), truncated to cap - 1 bytes
 * and NUL-terminated. Returns the number of bytes copied. */
size_t str_copyn(char *dst, size_t cap, const char *src, size_t n);
/* str_copyn of the C string src. */
size_t str_copy(char *dst, size_t cap, const char *src);
/* Concatenates the NULL-terminated list of C strings into dst (cap > 0 bytes),
 * truncated and NUL-terminated. Returns the length written; a result of
 * cap - 1 may mean truncation. */
size_t str_join(char *dst, size_t cap, const char *const *pieces);

#endif
