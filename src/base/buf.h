/*
 * buf — a growable byte buffer with a hard maximum.
 *
 * Every buffer that grows from input has a cap taken from the limit it serves
 * (curl's dynbuf): an append past `max` fails with -1 and leaves the buffer as
 * it was. The data is always NUL-terminated for convenience. Not thread-safe.
 */
#ifndef NAGARE_BASE_BUF_H
#define NAGARE_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

typedef struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max; /* 0 = no cap (only for output we produce ourselves) */
} buf_t;

/* Initialises an empty buffer that may grow to max bytes (0 = unbounded). */
void buf_init(buf_t *b, size_t max);
/* Frees the storage; the buffer may be reused after buf_init. */
void buf_free(buf_t *b);
/* Empties the buffer, keeping its storage. */
void buf_reset(buf_t *b);
/* Makes room for extra more bytes up front (when the final size is roughly
 * known, to avoid growing by doubling); 0, or -1 past the cap. */
int buf_reserve(buf_t *b, size_t extra);
/* Appends; 0 on success, -1 when the cap would be exceeded. */
int buf_append_slow(buf_t *b, const void *p, size_t n);
int buf_puts(buf_t *b, const char *s);

/* The common case inline: room is already there (encoders append many small
 * pieces, and a call per byte showed in profiles). */
static inline int buf_append(buf_t *b, const void *p, size_t n)
{
    if (b->len + n < b->cap && (!b->max || b->len + n <= b->max)) {
        if (n)
            memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
    }
    return buf_append_slow(b, p, n);
}

static inline int buf_putc(buf_t *b, char c)
{
    return buf_append(b, &c, 1);
}
int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(buf_t *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Takes the data out (caller frees) and leaves the buffer empty. */
char *buf_steal(buf_t *b, size_t *len);

#endif
