/* error — see error.h. */
#include "aws/error.h"

#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 5, 0))) static void vset(aws_error_t *err, int status,
                                                       const char *code, const char *query_code,
                                                       const char *fmt, va_list ap)
{
    err->code = code;
    err->query_code = query_code;
    err->status = status;
    err->sender = status < 500;
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
}

int aws_error_set(aws_error_t *err, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, status, code, NULL, fmt, ap);
    va_end(ap);
    return -1;
}

int aws_error_set2(aws_error_t *err, int status, const char *code, const char *query_code,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, status, code, query_code, fmt, ap);
    va_end(ap);
    return -1;
}

void aws_error_clear(aws_error_t *err)
{
    /* Not a memset of the whole: this runs for every request, and the
     * message buffer is only read when code is set. */
    err->code = NULL;
    err->query_code = NULL;
    err->status = 0;
    err->sender = false;
    err->message[0] = '\0';
}

bool aws_error_is_set(const aws_error_t *err)
{
    return err->code != NULL;
}
