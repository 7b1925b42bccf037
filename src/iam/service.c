/*
 * service — binds the pure IAM directory to the store; see service.h.
 *
 * The directory reports each change as a whole record; here it goes into the
 * store's current batch (store_kv_put), so the gateway holds the response
 * until the batch is committed. At start-up the records are read back kind by
 * kind, policies first (entities name them).
 */
#include "iam/service.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <stdio.h>
#include <stdlib.h>

#define IAM_MAX_BODY (512u * 1024) /* three 10 KiB documents, percent-encoded, and then some */

struct iam_service {
    store_t *store;
    iam_dir_t *dir;
    aws_service_t gateway;
};

static void j_put(void *ud, const char *kind, const char *key, const void *blob, size_t len)
{
    store_kv_put(ud, kind, key, blob, len);
}

static void j_delete(void *ud, const char *kind, const char *key)
{
    store_kv_delete(ud, kind, key);
}

typedef struct restore {
    iam_dir_t *dir;
    const char *kind;
    size_t ok, bad;
} restore_t;

static int restore_cb(void *ud, const char *key, const void *blob, size_t len)
{
    restore_t *r = ud;
    if (iam_dir_restore(r->dir, r->kind, key, blob, len) < 0) {
        log_warn("iam: skipping an unreadable %s record (%s)", r->kind, key);
        r->bad++;
    } else {
        r->ok++;
    }
    return 0;
}

iam_service_t *iam_service_new(store_t *st, char *errbuf, size_t errlen)
{
    iam_service_t *svc = xcalloc(1, sizeof(*svc));
    iam_dir_journal_t j = {st, j_put, j_delete};
    restore_t r = {0};
    svc->store = st;
    svc->dir = iam_dir_new(&j);
    r.dir = svc->dir;
    for (size_t i = 0; i < iam_dir_n_kinds; i++) {
        r.kind = iam_dir_kinds[i];
        if (store_kv_load(st, r.kind, restore_cb, &r) < 0) {
            snprintf(errbuf, errlen, "iam: cannot read the %s records", r.kind);
            iam_service_free(svc);
            return NULL;
        }
    }
    if (r.ok || r.bad)
        log_info("iam: restored %zu records (%zu unreadable records skipped)", r.ok, r.bad);
    svc->gateway =
        (aws_service_t){"iam", &model_iam, iam_actions, iam_n_actions, IAM_MAX_BODY, svc, NULL};
    return svc;
}

void iam_service_free(iam_service_t *svc)
{
    if (!svc)
        return;
    iam_dir_free(svc->dir);
    free(svc);
}

const aws_service_t *iam_service_gateway(iam_service_t *svc)
{
    return &svc->gateway;
}

iam_dir_t *iam_service_dir(iam_service_t *svc)
{
    return svc->dir;
}
