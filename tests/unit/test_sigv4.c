/*
 * test_sigv4 — the SigV4 verifier and signer against the AWS signing test suite.
 *
 * For each of the suite's cases (../shared/testdata/sigv4 from the repo root, or
 * $NAGARE_SIGV4_SUITE), in both header and presigned-query form: the signed request verifies at
 * the case's time; changing any signed part (a header value, the method, the path, a query
 * parameter, the body when signed, the date, the signature) makes it fail with
 * SignatureDoesNotMatch; the canonical request and string to sign match the suite byte for byte;
 * and the signer reproduces the suite's Authorization header. Then the error paths: expiry,
 * missing and malformed authentication, and the signing-key cache.
 */
#include "aws/sigv4.h"
#include "base/buf.h"

#include <dirent.h>
#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define MAX_HDRS 32
#define TS       1440938160 /* 2015-08-30T12:36:00Z, the suite's timestamp */

static const char *suite_dir(void)
{
    const char *env = getenv("NAGARE_SIGV4_SUITE");
    return env && *env ? env : "../shared/testdata/sigv4";
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    buf_t b;
    buf_init(&b, 0);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        assert_int_equal(buf_append(&b, chunk, n), 0);
    fclose(f);
    if (!b.data)
        buf_append(&b, "", 0);
    return buf_steal(&b, len);
}

typedef struct scase {
    char dir[1024];
    const char *key, *secret, *token, *region, *service;
    bool normalize, sign_body, omit_token;
    json_t *ctx;
} scase_t;

static void case_load(scase_t *c, const char *dir)
{
    snprintf(c->dir, sizeof(c->dir), "%s", dir);
    char path[1100];
    snprintf(path, sizeof(path), "%s/context.json", dir);
    json_error_t jerr;
    c->ctx = json_load_file(path, 0, &jerr);
    assert_non_null(c->ctx);
    json_t *cred = json_object_get(c->ctx, "credentials");
    c->key = json_string_value(json_object_get(cred, "access_key_id"));
    c->secret = json_string_value(json_object_get(cred, "secret_access_key"));
    c->token = json_string_value(json_object_get(cred, "token"));
    c->region = json_string_value(json_object_get(c->ctx, "region"));
    c->service = json_string_value(json_object_get(c->ctx, "service"));
    c->normalize = json_is_true(json_object_get(c->ctx, "normalize"));
    c->sign_body = json_is_true(json_object_get(c->ctx, "sign_body"));
    c->omit_token = json_is_true(json_object_get(c->ctx, "omit_session_token"));
    assert_string_equal(json_string_value(json_object_get(c->ctx, "timestamp")),
                        "2015-08-30T12:36:00Z");
}

/* Strings made for mutated requests; freed per case. */
typedef struct pool {
    char *s[256];
    size_t n;
} pool_t;

static const char *pool_fmt(pool_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static const char *pool_fmt(pool_t *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    assert_true(p->n < 256);
    assert_true(vasprintf(&p->s[p->n], fmt, ap) >= 0);
    va_end(ap);
    return p->s[p->n++];
}

static void pool_free(pool_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->s[i]);
    p->n = 0;
}

/* Parses and verifies; returns the error code or NULL when accepted. */
static const char *check(const sigv4_request_t *req, const scase_t *c, time_t now, int *status)
{
    static sigv4_auth_t auth;
    aws_error_t err;
    if (sigv4_parse(req, &auth, &err) < 0) {
        *status = err.status;
        return err.code;
    }
    if (sigv4_verify(req, &auth, c->secret, now, NULL, &err) < 0) {
        *status = err.status;
        return err.code;
    }
    return NULL;
}

static void expect_mismatch(const sigv4_request_t *req, const scase_t *c, const char *what)
{
    int status = 0;
    const char *code = check(req, c, TS, &status);
    if (!code || strcmp(code, "SignatureDoesNotMatch") != 0 || status != 403)
        fail_msg("%s: altering %s gave %s", c->dir, what, code ? code : "acceptance");
}

/* Changes one character of a query value: the access key's first letter for the credential,
 * else the last digit (dates and numbers stay well-formed), else the last character. */
static char bump(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch == '9' ? '0' : (char)(ch + 1);
    return ch == 'z' ? 'a' : ch == 'Z' ? 'A' : (char)(ch + 1);
}

static void mutate_query(sigv4_request_t *req, const scase_t *c, pool_t *p)
{
    sigv4_request_t m = *req;
    const char *q = req->query;
    for (size_t i = 0; i < req->query_len; i++) {
        size_t start = i;
        while (i < req->query_len && q[i] != '&')
            i++;
        const char *eq = memchr(q + start, '=', i - start);
        if (!eq || eq + 1 == q + i)
            continue;
        size_t kl = (size_t)(eq - (q + start));
        /* Changing these makes the request malformed rather than mis-signed. */
        if (!strncmp(q + start, "X-Amz-Signature=", kl + 1) ||
            !strncmp(q + start, "X-Amz-Algorithm=", kl + 1) ||
            !strncmp(q + start, "X-Amz-SignedHeaders=", kl + 1))
            continue;
        char *s = (char *)pool_fmt(p, "%.*s", (int)req->query_len, q);
        size_t at = i - 1;
        if (!strncmp(q + start, "X-Amz-Credential=", kl + 1))
            at = kl + 1 + start;
        else
            for (size_t k = i; k > kl + 1 + start; k--)
                if (q[k - 1] >= '0' && q[k - 1] <= '9') {
                    at = k - 1;
                    break;
                }
        s[at] = bump(s[at]);
        m.query = s;
        expect_mismatch(&m, c, pool_fmt(p, "query parameter %.*s", (int)kl, q + start));
    }
}

static void mutate_headers(const sigv4_request_t *req, const scase_t *c, const char *signed_list,
                           pool_t *p)
{
    sigv4_header_t h[MAX_HDRS];
    for (size_t i = 0; i < req->n_headers; i++) {
        memcpy(h, req->headers, req->n_headers * sizeof(h[0]));
        char name[128];
        snprintf(name, sizeof(name), "%.*s", (int)h[i].name_len, h[i].name);
        for (char *k = name; *k; k++)
            *k = (char)(*k >= 'A' && *k <= 'Z' ? *k + 32 : *k);
        char padded[1100];
        snprintf(padded, sizeof(padded), ";%s;", signed_list);
        char needle[140];
        snprintf(needle, sizeof(needle), ";%s;", name);
        if (!strstr(padded, needle))
            continue;
        if (!strcmp(name, "x-amz-date"))
            h[i].value = "20150830T123601Z"; /* the date, still well-formed and in the window */
        else
            h[i].value = pool_fmt(p, "%.*sx", (int)h[i].value_len, h[i].value);
        h[i].value_len = strlen(h[i].value);
        sigv4_request_t m = *req;
        m.headers = h;
        expect_mismatch(&m, c, pool_fmt(p, "header %s", name));
    }
}

static void mutate_all(const sigv4_request_t *req, const scase_t *c, const sigv4_auth_t *auth,
                       pool_t *p)
{
    sigv4_request_t m = *req;
    m.method = strcmp(req->method, "GET") ? "GET" : "POST";
    expect_mismatch(&m, c, "the method");
    m = *req;
    m.path = pool_fmt(p, "%.*sx", (int)req->path_len, req->path);
    m.path_len++;
    expect_mismatch(&m, c, "the path");
    mutate_headers(req, c, auth->signed_headers, p);
    mutate_query(&m, c, p);
    if (req->body_len) {
        m = *req;
        char *b = (char *)pool_fmt(p, "%.*s", (int)req->body_len, (const char *)req->body);
        b[0] = bump(b[0]);
        m.body = b;
        expect_mismatch(&m, c, "the body");
    }
}

static void check_form(const scase_t *c, const char *form, pool_t *p)
{
    char name[64];
    size_t len, elen;
    snprintf(name, sizeof(name), "%s-signed-request.txt", form);
    char *text = slurp(c->dir, name, &len);
    sigv4_header_t h[MAX_HDRS];
    sigv4_request_t req;
    assert_int_equal(sigv4_request_from_text(text, len, &req, h, MAX_HDRS), 0);

    sigv4_auth_t auth;
    aws_error_t err;
    if (sigv4_parse(&req, &auth, &err) < 0)
        fail_msg("%s %s: parse: %s %s", c->dir, form, err.code, err.message);
    assert_string_equal(auth.access_key, c->key);
    assert_string_equal(auth.region, c->region);
    assert_string_equal(auth.service, c->service);
    assert_string_equal(auth.amz_date, "20150830T123600Z");
    assert_int_equal(auth.presigned, form[0] == 'q');
    assert_int_equal(auth.expires, form[0] == 'q' ? 3600 : 0);
    if (sigv4_verify(&req, &auth, c->secret, TS, NULL, &err) < 0)
        fail_msg("%s %s: verify: %s %s", c->dir, form, err.code, err.message);

    buf_t cr, sts;
    buf_init(&cr, 0);
    buf_init(&sts, 0);
    unsigned flags = c->normalize ? SIGV4_CANON_NORMALIZE : 0;
    if (c->omit_token)
        flags |= SIGV4_CANON_TOKEN_UNSIGNED;
    assert_int_equal(sigv4_canonical_request(&req, &auth, flags, &cr), 0);
    assert_int_equal(sigv4_string_to_sign(&auth, cr.data, cr.len, &sts), 0);
    snprintf(name, sizeof(name), "%s-canonical-request.txt", form);
    char *expect = slurp(c->dir, name, &elen);
    if (elen != cr.len || memcmp(expect, cr.data, elen))
        fail_msg("%s %s canonical request:\n%s\n--- expected:\n%s", c->dir, form, cr.data, expect);
    free(expect);
    snprintf(name, sizeof(name), "%s-string-to-sign.txt", form);
    expect = slurp(c->dir, name, &elen);
    if (elen != sts.len || memcmp(expect, sts.data, elen))
        fail_msg("%s %s string to sign:\n%s\n--- expected:\n%s", c->dir, form, sts.data, expect);
    free(expect);
    buf_free(&cr);
    buf_free(&sts);

    mutate_all(&req, c, &auth, p);
    /* The signature itself. */
    char sig[65];
    memcpy(sig, auth.signature, 65);
    auth.signature[10] = auth.signature[10] == '0' ? '1' : '0';
    assert_int_equal(sigv4_verify(&req, &auth, c->secret, TS, NULL, &err), -1);
    assert_string_equal(err.code, "SignatureDoesNotMatch");
    memcpy(auth.signature, sig, 65);
    /* And a wrong secret. */
    assert_int_equal(sigv4_verify(&req, &auth, "not-the-secret", TS, NULL, &err), -1);
    assert_string_equal(err.code, "SignatureDoesNotMatch");
    assert_string_equal(err.message,
                        "The request signature we calculated does not match the signature you "
                        "provided. Check your AWS Secret Access Key and signing method. Consult "
                        "the service documentation for details.");
    free(text);
}

/* The Authorization line of header-signed-request.txt, without its name. */
static char *expected_authorization(const scase_t *c)
{
    size_t len;
    char *text = slurp(c->dir, "header-signed-request.txt", &len);
    char *a = strstr(text, "\nAuthorization:");
    assert_non_null(a);
    a += strlen("\nAuthorization:");
    char *out = strndup(a, strcspn(a, "\r\n"));
    free(text);
    return out;
}

static void check_signer(const scase_t *c, sigv4_key_cache_t *cache)
{
    size_t len;
    char *text = slurp(c->dir, "request.txt", &len);
    sigv4_header_t h[MAX_HDRS];
    sigv4_request_t req;
    assert_int_equal(sigv4_request_from_text(text, len, &req, h, MAX_HDRS - 3), 0);
    if (!c->normalize && strcmp(c->dir + strlen(c->dir) - 12, "unnormalized") == 0) {
        /* The signer always normalises (as SDKs do for every service but S3). */
        free(text);
        return;
    }
    h[req.n_headers++] = (sigv4_header_t){"X-Amz-Date", 10, "20150830T123600Z", 16};
    if (c->token && !c->omit_token)
        h[req.n_headers++] =
            (sigv4_header_t){"X-Amz-Security-Token", 20, c->token, strlen(c->token)};
    if (c->sign_body)
        h[req.n_headers++] = (sigv4_header_t){
            "x-amz-content-sha256", 20,
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e", 64};
    char out[1024];
    assert_int_equal(sigv4_sign(&req, c->key, c->secret, c->region, c->service, "20150830T123600Z",
                                cache, out, sizeof(out)),
                     0);
    char *want = expected_authorization(c);
    if (strcmp(out, want) != 0)
        fail_msg("%s signer:\n%s\n--- expected:\n%s", c->dir, out, want);
    free(want);
    free(text);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_suite(void **state)
{
    (void)state;
    DIR *d = opendir(suite_dir());
    if (!d)
        fail_msg("no SigV4 suite at %s (set NAGARE_SIGV4_SUITE)", suite_dir());
    char *names[128];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 128)
        if (e->d_name[0] != '.' && strcmp(e->d_name, "README.md"))
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof(names[0]), name_cmp);
    assert_int_equal(n, 38);
    sigv4_key_cache_t *cache = sigv4_key_cache_new();
    pool_t pool = {0};
    for (size_t i = 0; i < n; i++) {
        scase_t c;
        char dir[1024];
        snprintf(dir, sizeof(dir), "%s/%s", suite_dir(), names[i]);
        case_load(&c, dir);
        check_form(&c, "header", &pool);
        check_form(&c, "query", &pool);
        check_signer(&c, cache);
        pool_free(&pool);
        json_decref(c.ctx);
        free(names[i]);
    }
    sigv4_key_cache_free(cache);
}

/* A request built from text plus the case's secret, for the error-path tests. */
typedef struct fixture {
    char *text;
    sigv4_header_t h[MAX_HDRS];
    sigv4_request_t req;
    sigv4_auth_t auth;
    aws_error_t err;
} fixture_t;

static fixture_t *fixture_load(const char *file)
{
    char dir[1024];
    size_t len;
    snprintf(dir, sizeof(dir), "%s/get-vanilla", suite_dir());
    fixture_t *f = calloc(1, sizeof(*f));
    f->text = slurp(dir, file, &len);
    assert_int_equal(sigv4_request_from_text(f->text, len, &f->req, f->h, MAX_HDRS), 0);
    return f;
}

static void fixture_free(fixture_t *f)
{
    free(f->text);
    free(f);
}

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

static void test_expired_header(void **state)
{
    (void)state;
    fixture_t *f = fixture_load("header-signed-request.txt");
    assert_int_equal(sigv4_parse(&f->req, &f->auth, &f->err), 0);
    assert_int_equal(sigv4_verify(&f->req, &f->auth, SECRET, TS + 900, NULL, &f->err), 0);
    assert_int_equal(sigv4_verify(&f->req, &f->auth, SECRET, TS - 900, NULL, &f->err), 0);
    assert_int_equal(sigv4_verify(&f->req, &f->auth, SECRET, TS + 901, NULL, &f->err), -1);
    assert_string_equal(f->err.code, "RequestExpired");
    assert_string_equal(f->err.message, "Signature expired: 20150830T123600Z is now earlier than "
                                        "20150830T123601Z (20150830T125101Z - 15 min.)");
    assert_int_equal(sigv4_verify(&f->req, &f->auth, SECRET, TS - 901, NULL, &f->err), -1);
    assert_string_equal(f->err.code, "RequestExpired");
    assert_string_equal(f->err.message,
                        "Signature not yet current: 20150830T123600Z is still later than "
                        "20150830T123559Z (20150830T122059Z + 15 min.)");
    fixture_free(f);
}

static void test_expired_presigned(void **state)
{
    (void)state;
    fixture_t *f = fixture_load("query-signed-request.txt");
    assert_int_equal(sigv4_parse(&f->req, &f->auth, &f->err), 0);
    assert_int_equal(sigv4_verify(&f->req, &f->auth, SECRET, TS + 3600, NULL, &f->err), 0);
    assert_int_equal(sigv4_verify(&f->req, &f->auth, SECRET, TS + 3601, NULL, &f->err), -1);
    assert_string_equal(f->err.code, "RequestExpired");
    assert_string_equal(f->err.message, "Request has expired.");
    assert_int_equal(sigv4_verify(&f->req, &f->auth, SECRET, TS - 901, NULL, &f->err), -1);
    assert_string_equal(f->err.code, "RequestExpired");
    fixture_free(f);
}

static void test_missing_auth(void **state)
{
    (void)state;
    fixture_t *f = fixture_load("request.txt");
    assert_int_equal(sigv4_parse(&f->req, &f->auth, &f->err), -1);
    assert_string_equal(f->err.code, "MissingAuthenticationToken");
    assert_int_equal(f->err.status, 403);
    assert_string_equal(f->err.message, "Request is missing Authentication Token");
    fixture_free(f);
}

/* Replaces the Authorization value of the vanilla request and expects IncompleteSignature. */
static void expect_incomplete(const char *value, const char *message, bool drop_date)
{
    fixture_t *f = fixture_load("header-signed-request.txt");
    size_t kept = 0;
    for (size_t i = 0; i < f->req.n_headers; i++) {
        sigv4_header_t *h = &f->h[i];
        if (h->name_len == 13 && !strncmp(h->name, "Authorization", 13)) {
            h->value = value;
            h->value_len = strlen(value);
        }
        if (!(drop_date && h->name_len == 10 && !strncmp(h->name, "X-Amz-Date", 10)))
            f->h[kept++] = *h;
    }
    f->req.n_headers = kept;
    assert_int_equal(sigv4_parse(&f->req, &f->auth, &f->err), -1);
    assert_string_equal(f->err.code, "IncompleteSignature");
    assert_int_equal(f->err.status, 400);
    assert_string_equal(f->err.message, message);
    fixture_free(f);
}

static void test_malformed(void **state)
{
    (void)state;
    const char *no_signed = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                            "aws4_request, Signature=abc";
    char msg[1024];
    snprintf(msg, sizeof(msg),
             "Authorization header requires 'SignedHeaders' parameter. Authorization=%s",
             no_signed);
    expect_incomplete(no_signed, msg, false);
    expect_incomplete("Bearer abc",
                      "Authorization header requires 'Credential' parameter. Authorization header "
                      "requires 'Signature' parameter. Authorization header requires "
                      "'SignedHeaders' parameter. Authorization header requires existence of "
                      "either a 'X-Amz-Date' or a 'Date' header. Authorization=Bearer abc",
                      true);
    expect_incomplete("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aws4_request, "
                      "SignedHeaders=host, Signature=abc",
                      "Credential must have exactly 5 slash-delimited elements, e.g. "
                      "keyid/date/region/service/term, got "
                      "'AKIDEXAMPLE/20150830/us-east-1/aws4_request'",
                      false);
    expect_incomplete("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                      "aws4_request, host, Signature=abc",
                      "'host' not a valid key=value pair (missing equal-sign) in Authorization "
                      "header: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
                      "service/aws4_request, host, Signature=abc'.",
                      false);
    expect_incomplete("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                      "aws4_request, SignedHeaders=x-amz-date, Signature=abc",
                      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
                      false);
}

static void test_scope_date_mismatch(void **state)
{
    (void)state;
    fixture_t *f = fixture_load("header-signed-request.txt");
    assert_int_equal(sigv4_parse(&f->req, &f->auth, &f->err), 0);
    memcpy(f->auth.date, "20150831", 9);
    assert_int_equal(sigv4_verify(&f->req, &f->auth, SECRET, TS, NULL, &f->err), -1);
    assert_string_equal(f->err.code, "SignatureDoesNotMatch");
    assert_int_equal(f->err.status, 403);
    fixture_free(f);
}

static void test_key_cache(void **state)
{
    (void)state;
    /* The derived key of AWS's documentation example (IAM, 20150830, us-east-1). */
    uint8_t want[32], other[32];
    char hex[65];
    sigv4_signing_key(SECRET, "20150830", "us-east-1", "iam", want);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", want[i]);
    assert_string_equal(hex, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");

    sigv4_key_cache_t *c = sigv4_key_cache_new();
    const uint8_t *k1 = sigv4_key_cache_get(c, SECRET, "20150830", "us-east-1", "iam");
    assert_memory_equal(k1, want, 32);
    const uint8_t *k2 = sigv4_key_cache_get(c, SECRET, "20150830", "us-east-1", "iam");
    assert_ptr_equal(k1, k2); /* served from the cache, not re-derived elsewhere */
    assert_memory_equal(k2, want, 32);
    sigv4_signing_key(SECRET, "20150830", "us-west-2", "iam", other);
    assert_memory_equal(sigv4_key_cache_get(c, SECRET, "20150830", "us-west-2", "iam"), other, 32);
    assert_memory_not_equal(other, want, 32);
    /* A different secret with the same scope must not get the cached key. */
    assert_memory_not_equal(sigv4_key_cache_get(c, "other", "20150830", "us-east-1", "iam"), want,
                            32);
    assert_memory_equal(sigv4_key_cache_get(c, SECRET, "20150830", "us-east-1", "iam"), want, 32);
    sigv4_key_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite),
        cmocka_unit_test(test_expired_header),
        cmocka_unit_test(test_expired_presigned),
        cmocka_unit_test(test_missing_auth),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_scope_date_mismatch),
        cmocka_unit_test(test_key_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
