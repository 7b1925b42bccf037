/*
 * hex — hexadecimal digits, for percent-decoding and for digests shown as hex.
 */
#ifndef NAGARE_BASE_HEX_H
#define NAGARE_BASE_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value of one hex digit (either case), or -1. */
int hex_digit(char c);
/* Writes n bytes as 2n lower-case hex digits plus a NUL into out. */
void hex_encode(const uint8_t *p, size_t n, char *out);

#endif
