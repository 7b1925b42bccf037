/*
 * service — binds the pure function engine to the store, the file system and
 * the gateway; see service.h.
 *
 * Each changed function is journaled whole (fnrec.c) into the store's
 * current batch under kind "lambda-fn", key ACCOUNT/REGION/NAME, so the
 * gateway holds the response until it is committed. Code is unpacked with
 * libzip, refusing entries that would land outside the code directory, and
 * keeping the Unix mode bits (a `bootstrap` must stay executable).
 */
#define _XOPEN_SOURCE 700
#include "lambda/service.h"
#include "lambda/events.h"
#include "lambda/poller.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#define LAMBDA_MAX_BODY (72u * 1024 * 1024) /* a 50 MB zip, base64 in JSON */
#define RECORD_KIND     "lambda-fn"
#define ESM_KIND        "lambda-esm"

typedef struct hot_seen { /* a hot-reload directory's last fingerprint */
    char *dir;
    struct timespec mtime;
    uint64_t fp;
    struct hot_seen *next;
} hot_seen_t;

struct lambda_service {
    hot_seen_t *hot;
    lambda_service_config_t cfg;
    lambda_reg_t *reg;
    lambda_events_t *events; /* asynchronous invocations */
    lambda_esm_reg_t *esms;  /* event source mappings */
    lambda_poller_t *poller; /* ...and what runs them */
    char *code_root;         /* <data-dir>/lambda/code, or the temporary directory */
    bool temporary;
    char *policy_scratch; /* resource_info's answer, valid until the next call */
    iam_tag_t tags_scratch[LAMBDA_TAGS_MAX];
    aws_service_t gateway;
};

/* ---- journal ------------------------------------------------------------------------------ */

static void record_key(const lambda_fn_t *fn, char *key, size_t cap)
{
    snprintf(key, cap, "%s/%s/%s", fn->account, fn->region, fn->name);
}

static void j_put(void *ud, const lambda_fn_t *fn)
{
    lambda_service_t *svc = ud;
    char key[160];
    size_t len;
    char *blob = lambda_fn_record(fn, &len);
    record_key(fn, key, sizeof(key));
    store_kv_put(svc->cfg.store, RECORD_KIND, key, blob, len);
    free(blob);
}

static void j_del(void *ud, const lambda_fn_t *fn)
{
    lambda_service_t *svc = ud;
    char key[160];
    record_key(fn, key, sizeof(key));
    store_kv_delete(svc->cfg.store, RECORD_KIND, key);
}

static void esm_put(void *ud, const lambda_esm_t *m)
{
    lambda_service_t *svc = ud;
    size_t len;
    char *blob = lambda_esm_record(m, &len);
    store_kv_put(svc->cfg.store, ESM_KIND, m->uuid, blob, len);
    free(blob);
}

static void esm_del(void *ud, const lambda_esm_t *m)
{
    lambda_service_t *svc = ud;
    store_kv_delete(svc->cfg.store, ESM_KIND, m->uuid);
}

static int esm_restore_cb(void *ud, const char *key, const void *blob, size_t len)
{
    lambda_service_t *svc = ud;
    if (lambda_esm_restore(svc->esms, blob, len) < 0)
        log_warn("lambda: skipping an unreadable event source mapping record (%s)", key);
    return 0;
}

typedef struct restore {
    lambda_reg_t *reg;
    size_t ok, bad;
} restore_t;

static int restore_cb(void *ud, const char *key, const void *blob, size_t len)
{
    restore_t *r = ud;
    lambda_fn_t *fn = lambda_fn_from_record(blob, len);
    if (!fn || lambda_reg_restore(r->reg, fn) < 0) {
        log_warn("lambda: skipping an unreadable function record (%s)", key);
        lambda_fn_free(fn);
        r->bad++;
    } else {
        r->ok++;
    }
    return 0;
}

/* ---- code directories --------------------------------------------------------------------- */

static int mkdirs(const char *path)
{
    char *p = xstrdup(path);
    int rc = 0;
    for (char *s = p + 1; rc == 0 && *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            rc = -1;
        *s = '/';
    }
    if (rc == 0 && mkdir(p, 0755) < 0 && errno != EEXIST)
        rc = -1;
    free(p);
    return rc;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void rmtree(const char *path)
{
    nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

char *lambda_service_code_dir(const lambda_service_t *svc, const char *account, const char *region,
                              const char *name, const char *code_sha256)
{
    /* base64 has '/' and '+': the directory takes the URL-safe alphabet */
    char sha[48];
    size_t i = 0;
    for (; code_sha256[i] && i < sizeof(sha) - 1; i++)
        sha[i] = code_sha256[i] == '/' ? '_' : code_sha256[i] == '+' ? '-' : code_sha256[i];
    sha[i] = '\0';
    size_t len = strlen(svc->code_root) + strlen(account) + strlen(region) + strlen(name) + i + 8;
    char *out = xmalloc(len);
    snprintf(out, len, "%s/%s/%s/%s/%s", svc->code_root, account, region, name, sha);
    return out;
}

/* A zip entry's name is safe when it stays inside the directory. */
static bool entry_safe(const char *n)
{
    if (!*n || n[0] == '/' || strstr(n, "\\"))
        return false;
    for (const char *p = n; p;) {
        if (!strncmp(p, "..", 2) && (p[2] == '/' || p[2] == '\0'))
            return false;
        p = strchr(p, '/');
        p = p ? p + 1 : NULL;
    }
    return true;
}

static int write_entry(zip_t *z, zip_int64_t i, const char *dir, uint64_t *total)
{
    zip_stat_t st;
    zip_uint8_t opsys;
    zip_uint32_t attr;
    char buf[65536];
    if (zip_stat_index(z, (zip_uint64_t)i, 0, &st) < 0 || !entry_safe(st.name))
        return -1;
    size_t plen = strlen(dir) + strlen(st.name) + 2;
    char *path = xmalloc(plen);
    snprintf(path, plen, "%s/%s", dir, st.name);
    int rc = -1;
    if (st.name[strlen(st.name) - 1] == '/') {
        rc = mkdirs(path);
        goto out;
    }
    char *slash = strrchr(path, '/');
    *slash = '\0';
    if (mkdirs(path) < 0)
        goto out;
    *slash = '/';
    mode_t mode = 0644;
    if (zip_file_get_external_attributes(z, (zip_uint64_t)i, 0, &opsys, &attr) == 0 &&
        opsys == ZIP_OPSYS_UNIX && (attr >> 16) & 0111)
        mode = 0755;
    zip_file_t *f = zip_fopen_index(z, (zip_uint64_t)i, 0);
    int fd = f ? open(path, O_WRONLY | O_CREAT | O_TRUNC, mode) : -1;
    zip_int64_t n = 0;
    while (fd >= 0 && (n = zip_fread(f, buf, sizeof(buf))) > 0) {
        *total += (uint64_t)n;
        if (*total > LAMBDA_CODE_UNZIP_MAX || write(fd, buf, (size_t)n) != n)
            break;
    }
    rc = fd >= 0 && n == 0 ? 0 : -1;
    if (fd >= 0)
        close(fd);
    if (f)
        zip_fclose(f);
out:
    free(path);
    return rc;
}

int lambda_service_unzip(const lambda_service_t *svc, const char *account, const char *region,
                         const char *name, const char *code_sha256, const void *zip, size_t len,
                         aws_error_t *err)
{
    zip_error_t ze;
    zip_error_init(&ze);
    char *dir = lambda_service_code_dir(svc, account, region, name, code_sha256);
    zip_source_t *src = zip_source_buffer_create(zip, len, 0, &ze);
    zip_t *z = src ? zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
    int rc = -1;
    uint64_t total = 0;
    if (!z) {
        zip_source_free(src);
        aws_error_set(err, 400, "InvalidParameterValueException",
                      "Could not unzip uploaded file. Please check your file, then try to upload "
                      "again.");
        goto out;
    }
    rmtree(dir);
    if (mkdirs(dir) < 0) {
        aws_error_set(err, 500, "ServiceException", "Cannot create the code directory %s.", dir);
        goto close;
    }
    for (zip_int64_t i = 0; i < zip_get_num_entries(z, 0); i++) {
        if (write_entry(z, i, dir, &total) < 0) {
            aws_error_set(err, 400, "InvalidParameterValueException",
                          total > LAMBDA_CODE_UNZIP_MAX
                              ? "Unzipped size must be smaller than 262144000 bytes"
                              : "Could not unzip uploaded file. Please check your file, then "
                                "try to upload again.");
            rmtree(dir);
            goto close;
        }
    }
    rc = 0;
close:
    zip_discard(z);
out:
    zip_error_fini(&ze);
    free(dir);
    return rc;
}

/* ---- hot reload ------------------------------------------------------------------------- */

/* nftw has no user pointer: the walk's sums live here (the loop thread's only). */
static _Thread_local struct {
    size_t base, n;
    uint64_t sum;
} walk;

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static int fp_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)flag;
    (void)ftw;
    uint64_t h = fnv1a(0xcbf29ce484222325ULL, path + walk.base, strlen(path + walk.base) + 1);
    int64_t meta[4] = {(int64_t)st->st_mode, (int64_t)st->st_size, (int64_t)st->st_mtim.tv_sec,
                       (int64_t)st->st_mtim.tv_nsec};
    if (S_ISDIR(st->st_mode))
        meta[1] = meta[2] = meta[3] = 0; /* a directory's own change shows in its entries */
    h = fnv1a(h, meta, sizeof(meta));
    walk.sum += h * 0x9e3779b97f4a7c15ULL | 1; /* a sum: readdir's order does not matter */
    return ++walk.n >= LAMBDA_HOT_ENTRIES_MAX;
}

uint64_t lambda_code_fingerprint(const char *dir)
{
    walk.base = strlen(dir);
    walk.n = 0;
    walk.sum = 0;
    if (nftw(dir, fp_cb, 16, FTW_PHYS) < 0)
        return 0;
    return walk.sum ^ walk.n;
}

uint64_t lambda_service_hot_fingerprint(lambda_service_t *svc, const char *dir, bool fresh)
{
    struct stat st;
    hot_seen_t *h = svc->hot;
    while (h && strcmp(h->dir, dir))
        h = h->next;
    if (!h) {
        h = xcalloc(1, sizeof(*h));
        h->dir = xstrdup(dir);
        h->next = svc->hot;
        svc->hot = h;
        fresh = true;
    }
    if (stat(dir, &st) < 0)
        st.st_mtim = (struct timespec){0, 0};
    if (st.st_mtim.tv_sec != h->mtime.tv_sec || st.st_mtim.tv_nsec != h->mtime.tv_nsec)
        fresh = true;
    if (fresh) {
        h->mtime = st.st_mtim;
        h->fp = lambda_code_fingerprint(dir);
    }
    return h->fp;
}

/* ---- the gateway hook --------------------------------------------------------------------- */

/* arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER] -> its policy and tags. */
static void resource_info(void *state, const char *arn, aws_resource_info_t *out)
{
    lambda_service_t *svc = state;
    lambda_ref_t ref;
    aws_error_t err;
    free(svc->policy_scratch);
    svc->policy_scratch = NULL;
    memset(out, 0, sizeof(*out));
    if (strncmp(arn, "arn:", 4) || lambda_ref_parse(arn, NULL, &ref, &err) < 0)
        return;
    lambda_fn_t *fn = lambda_fn_get(svc->reg, ref.account, ref.region, ref.name);
    if (!fn)
        return;
    svc->policy_scratch = lambda_policy_render(fn, ref.qualifier);
    out->policy = svc->policy_scratch;
    for (size_t i = 0; i < fn->n_tags; i++)
        svc->tags_scratch[i] = (iam_tag_t){fn->tag_keys[i], fn->tag_values[i]};
    out->tags = svc->tags_scratch;
    out->n_tags = fn->n_tags;
}

/* ---- life --------------------------------------------------------------------------------- */

static int code_root_make(lambda_service_t *svc, char *errbuf, size_t errlen)
{
    if (svc->cfg.data_dir) {
        size_t len = strlen(svc->cfg.data_dir) + 16;
        svc->code_root = xmalloc(len);
        snprintf(svc->code_root, len, "%s/lambda/code", svc->cfg.data_dir);
    } else {
        const char *tmp = getenv("TMPDIR");
        size_t len = strlen(tmp ? tmp : "/tmp") + 32;
        svc->code_root = xmalloc(len);
        snprintf(svc->code_root, len, "%s/nagare-lambda-XXXXXX", tmp ? tmp : "/tmp");
        svc->temporary = mkdtemp(svc->code_root) != NULL;
        if (!svc->temporary) {
            snprintf(errbuf, errlen, "lambda: cannot make a temporary code directory");
            return -1;
        }
    }
    /* Under the data directory the code root is made with the first function's
     * code (lambda_service_unzip makes every directory of its path), not at
     * start-up, where two more directories were a tenth of the time to ready. */
    return 0;
}

lambda_service_t *lambda_service_new(const lambda_service_config_t *cfg, char *errbuf,
                                     size_t errlen)
{
    lambda_service_t *svc = xcalloc(1, sizeof(*svc));
    svc->cfg = *cfg;
    lambda_journal_t j = {svc, j_put, j_del};
    svc->reg = lambda_reg_new(&j);
    restore_t r = {svc->reg, 0, 0};
    if (code_root_make(svc, errbuf, errlen) < 0)
        goto fail;
    if (store_kv_load(cfg->store, RECORD_KIND, restore_cb, &r) < 0) {
        snprintf(errbuf, errlen, "lambda: cannot read the function records");
        goto fail;
    }
    if (r.ok || r.bad)
        log_info("lambda: restored %zu functions (%zu unreadable records skipped)", r.ok, r.bad);
    svc->events = lambda_events_new(svc, errbuf, errlen);
    if (!svc->events)
        goto fail;
    lambda_esm_journal_t ej = {svc, esm_put, esm_del};
    svc->esms = lambda_esm_reg_new(&ej);
    svc->poller = lambda_poller_new(svc, svc->esms);
    if (store_kv_load(cfg->store, ESM_KIND, esm_restore_cb, svc) < 0) {
        snprintf(errbuf, errlen, "lambda: cannot read the event source mappings");
        goto fail;
    }
    svc->gateway = (aws_service_t){"lambda",        &model_lambda, lambda_actions, lambda_n_actions,
                                   LAMBDA_MAX_BODY, svc,           resource_info};
    return svc;
fail:
    lambda_service_free(svc);
    return NULL;
}

void lambda_service_free(lambda_service_t *svc)
{
    if (!svc)
        return;
    if (svc->temporary)
        rmtree(svc->code_root);
    lambda_events_free(svc->events);
    lambda_poller_free(svc->poller);
    lambda_esm_reg_free(svc->esms);
    lambda_reg_free(svc->reg);
    while (svc->hot) {
        hot_seen_t *h = svc->hot;
        svc->hot = h->next;
        free(h->dir);
        free(h);
    }
    free(svc->code_root);
    free(svc->policy_scratch);
    free(svc);
}

const aws_service_t *lambda_service_gateway(lambda_service_t *svc)
{
    return &svc->gateway;
}

void lambda_service_set_exec(lambda_service_t *svc, lambda_exec_t *exec)
{
    svc->cfg.exec = exec;
    if (exec) {
        lambda_events_start(svc->events, svc->cfg.loop);
        lambda_poller_start(svc->poller, svc->cfg.loop);
    }
}

lambda_esm_reg_t *lambda_service_esms(lambda_service_t *svc)
{
    return svc->esms;
}

void lambda_service_esm_changed(lambda_service_t *svc, lambda_esm_t *m)
{
    lambda_poller_kick(svc->poller, m);
}

json_t *lambda_service_esm_status(void *svc)
{
    return lambda_poller_status(((lambda_service_t *)svc)->poller);
}

void lambda_service_stop(lambda_service_t *svc)
{
    if (svc && svc->events)
        lambda_events_stop(svc->events);
    if (svc)
        lambda_poller_stop(svc->poller);
}

bool lambda_service_role_may(lambda_service_t *svc, const char *account, const char *region,
                             const char *name, const char *role_arn, const char *action,
                             const char *arn, buf_t *why)
{
    if (!svc->cfg.enforce_iam || !svc->cfg.authz)
        return true;
    iam_principal_t who;
    char src[200];
    char *policy = NULL;
    sqs_queue_info_t qi = {0};
    lambda_ref_t ref;
    aws_error_t err;
    snprintf(src, sizeof(src), "arn:aws:lambda:%s:%s:function:%s", region, account, name);
    iam_principal_role_session(&who, account, role_arn, name);
    if (!strncmp(arn, "arn:aws:lambda:", 15)) {
        lambda_fn_t *t = lambda_ref_parse(arn, NULL, &ref, &err) == 0
                             ? lambda_fn_find(svc->reg, &ref, account, region, &err)
                             : NULL;
        policy = t ? lambda_policy_render(t, ref.qualifier) : NULL;
    } else if (svc->cfg.sqs) {
        sqs_queue_info(sqs_service_engine(svc->cfg.sqs), arn, &qi);
    }
    iam_decision_t d;
    iam_authz_in_t in = {
        .who = &who,
        .action = action,
        .resource = arn,
        .region = region,
        .now_ms = clock_wall_ms(),
        .resource_policy = policy ? policy : qi.policy,
        .source_arn = src,
        .source_account = account,
    };
    iam_authorize(svc->cfg.authz, &in, &d, why);
    free(policy);
    return d.allowed;
}

bool lambda_service_may_deliver(lambda_service_t *svc, const char *account, const char *region,
                                const char *name, const char *role_arn, const char *arn)
{
    return lambda_events_may_deliver(svc->events, account, region, name, role_arn, arn);
}

lambda_async_t *lambda_service_async(lambda_service_t *svc)
{
    return lambda_events_engine(svc->events);
}

void lambda_service_enqueue(lambda_service_t *svc, const lambda_fn_t *fn, const char *qualifier,
                            const char *request_id, const void *payload, size_t len,
                            uint64_t now_ms)
{
    lambda_events_enqueue(svc->events, fn->account, fn->region, fn->name, qualifier, request_id,
                          payload, len, now_ms);
}

int lambda_service_invoke(lambda_service_t *svc, const lambda_fn_t *fn, const char *qualifier,
                          const lambda_conf_t *v, const void *payload, size_t len,
                          const lambda_invoke_opts_t *opts, lambda_result_cb cb, void *ud,
                          aws_error_t *err)
{
    char qarn[240];
    if (!svc->cfg.exec)
        return aws_error_set(err, 500, "ServiceException",
                             "Function execution is not available in this server.");
    snprintf(qarn, sizeof(qarn), "%s%s%s", fn->arn, qualifier[0] ? ":" : "", qualifier);
    lambda_fn_spec_t spec = {
        .account = fn->account,
        .region = fn->region,
        .name = fn->name,
        .version = v->version,
        .arn = qarn,
        .runtime = v->runtime,
        .handler = v->handler,
        .code_id = v->code_id,
        .timeout_s = v->timeout_s,
        .memory_mb = v->memory_mb,
        .env_keys = (const char *const *)v->env_keys,
        .env_values = (const char *const *)v->env_values,
        .n_env = v->n_env,
        .role_arn = v->role,
        .reserved = fn->reserved,
    };
    char *dir = v->hot_dir ? NULL
                           : lambda_service_code_dir(svc, fn->account, fn->region, fn->name,
                                                     v->code_sha256);
    spec.code_dir = dir ? dir : v->hot_dir;
    spec.hot = v->hot_dir != NULL;
    if (v->hot_dir) {
        /* A hot-reload function's code id also follows its directory's fingerprint: taken
         * again before any cold start, so a new instance runs, and reports, what is there
         * now; warm instances of the old fingerprint are retired by the executor as they
         * come idle. */
        spec.code_id = v->code_id ^ lambda_service_hot_fingerprint(svc, v->hot_dir, false);
        if (!lambda_exec_warm(svc->cfg.exec, &spec))
            spec.code_id = v->code_id ^ lambda_service_hot_fingerprint(svc, v->hot_dir, true);
    }
    int rc = lambda_exec_invoke(svc->cfg.exec, &spec, payload, len, opts, cb, ud, err);
    free(dir);
    return rc;
}

lambda_reg_t *lambda_service_reg(lambda_service_t *svc)
{
    return svc->reg;
}

const lambda_service_config_t *lambda_service_config(const lambda_service_t *svc)
{
    return &svc->cfg;
}
