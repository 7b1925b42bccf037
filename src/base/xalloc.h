/*
 * xalloc — allocation that never returns NULL.
 *
 * Out of memory is not a condition nagare recovers from: every function here
 * aborts with a message instead of returning NULL, so callers never check.
 */
#ifndef NAGARE_BASE_XALLOC_H
#define NAGARE_BASE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Copies of s (NUL-terminated) and of the first n bytes of s; the caller frees. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* A copy of the n bytes at p; the caller frees. */
void *xmemdup(const void *p, size_t n);

#endif
