/*
 * ids — random identifiers: UUIDs (request ids, message ids) and random bytes.
 * Backed by OpenSSL's CSPRNG.
 */
#ifndef NAGARE_BASE_IDS_H
#define NAGARE_BASE_IDS_H

#include <stddef.h>

/* Writes a random (version 4) UUID, lower-case, NUL-terminated, into out. */
void ids_uuid4(char out[37]);
/* Fills p with n random bytes. */
void ids_random(void *p, size_t n);

#endif
