/*
 * rec — what the Lambda journal readers share (fnrec.c, async.c, esm.c).
 */
#ifndef NAGARE_LAMBDA_REC_H
#define NAGARE_LAMBDA_REC_H
#include <jansson.h>
#include <stddef.h>

/* Copies the string member k of o into dst (cap bytes with its NUL). 0, or -1 when it is
 * missing, not a string or too long. */
int lambda_rec_str(char *dst, size_t cap, const json_t *o, const char *k);

#endif
