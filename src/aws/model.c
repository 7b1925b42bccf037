/* model — lookups over the generated tables; see model.h. */
#include "aws/model.h"

#include <string.h>

const model_op_t *model_op_find(const model_service_t *svc, const char *name, size_t len)
{
    int lo = 0, hi = svc->n_ops - 1;
    while (lo <= hi) { /* the generator emits operations sorted by name */
        int mid = (lo + hi) / 2;
        const char *n = svc->ops[mid].name;
        int c = strncmp(n, name, len);
        if (c == 0 && n[len] != '\0')
            c = 1;
        if (c == 0)
            return &svc->ops[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

const model_shape_t *model_shape(const model_service_t *svc, int i)
{
    return &svc->shapes[i];
}

const model_shape_t *model_error_find(const model_service_t *svc, const char *code)
{
    int lo = 0, hi = svc->n_shapes - 1;
    while (lo <= hi) { /* shapes are sorted by name too */
        int mid = (lo + hi) / 2;
        int c = strcmp(svc->shapes[mid].name, code);
        if (c == 0)
            return svc->shapes[mid].exception ? &svc->shapes[mid] : NULL;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}
