/*
 * sigv4 — see sigv4.h.
 *
 * Layout: small byte helpers; the signing-key cache; canonicalisation (URI, query, headers,
 * payload hash) and the string to sign; parsing of the Authorization header and of the
 * presigned query; verification; the signer; the raw-text request splitter for tests and fuzzing.
 *
 * Costs per verified request: one SHA-256 of the body, one of the canonical request, one HMAC
 * with a cached key, one scratch buffer. Nothing here is quadratic in the input except the
 * signed-header lookup, which is bounded by SIGNED_MAX names times the request's headers.
 */
#include "aws/sigv4.h"
#include "base/clock.h"
#include "base/digest.h"
#include "base/hex.h"
#include "base/xalloc.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALGORITHM        "AWS4-HMAC-SHA256"
#define TERMINATOR       "aws4_request"
#define UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SCRATCH_MAX      (4u << 20) /* canonical request cap; HTTP limits keep us far below */
#define SIGNED_MAX       64         /* signed header names we are willing to look up */
#define CACHE_SLOTS      64
#define SKIP_SIGNATURE   1u /* query parameters left out of the canonical query */
#define SKIP_TOKEN       2u

static const char MSG_MISMATCH[] =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";

/* ---- bytes ---------------------------------------------------------------------------- */

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* Case-insensitive equality of (s, n) with the lower-case word (w, wn). The
 * lengths first: header names share prefixes ("x-amz-"), and every signed name
 * is looked for among all of a request's headers. */
static bool word_eqn(const char *s, size_t n, const char *w, size_t wn)
{
    if (n != wn)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != w[i])
            return false;
    return true;
}

/* word_eqn with the NUL-terminated lower-case word w. */
static bool word_eq(const char *s, size_t n, const char *w)
{
    return word_eqn(s, n, w, strlen(w));
}

static bool bytes_eq(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* Trims whitespace on both ends of (*s, *n). */
static void trim(const char **s, size_t *n)
{
    while (*n && is_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_space((*s)[*n - 1]))
        (*n)--;
}

/* Copies (s, n) into dst of size cap as a C string; -1 (dst untouched) when it does not fit. */
static int copy_str(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        return -1;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

/* Percent-decodes (s, n) into out (cap bytes, NUL-terminated). A '%' not followed by two hex
 * digits stays literal; '+' stays '+' (SigV4 clients encode spaces as %20). -1 if too long. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap, size_t *out_len)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%' && i + 2 < n && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
            c = (char)(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    *out_len = o;
    return 0;
}

/* Appends (s, n) URI-encoded the SigV4 way: unreserved bytes kept, '/' kept when keep_slash,
 * everything else %XX in upper case. When decode, %XX input sequences are decoded first. */
static int uri_encode(buf_t *b, const char *s, size_t n, bool keep_slash, bool decode)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        size_t run = i;
        while (run < n && (is_unreserved((unsigned char)s[run]) || (keep_slash && s[run] == '/')))
            run++;
        if (run > i && buf_append(b, s + i, run - i) < 0)
            return -1;
        if (run == n)
            break;
        i = run;
        unsigned char c = (unsigned char)s[i];
        if (decode && c == '%' && i + 2 < n && hex_digit(s[i + 1]) >= 0 &&
            hex_digit(s[i + 2]) >= 0) {
            c = (unsigned char)(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
            i += 2;
        }
        char enc[3] = {'%', digits[c >> 4], digits[c & 15]};
        if (is_unreserved(c) ? buf_putc(b, (char)c) : buf_append(b, enc, 3))
            return -1;
    }
    return 0;
}

static const sigv4_header_t *header_find(const sigv4_request_t *req, const char *lname)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (word_eq(req->headers[i].name, req->headers[i].name_len, lname))
            return &req->headers[i];
    return NULL;
}

/* ---- signing keys ---------------------------------------------------------------------- */

typedef struct key_slot {
    bool used;
    char secret[128];
    char date[9];
    char region[64];
    char service[64];
    uint8_t key[32];
    digest_hmac_key_t *hmac; /* key prepared for HMAC (NULL in the spare) */
} key_slot_t;

struct sigv4_key_cache {
    key_slot_t slots[CACHE_SLOTS];
    key_slot_t spare; /* for scopes too long to cache */
};

static void sha256(const void *p, size_t n, uint8_t out[32])
{
    digest_sha256(p, n, out);
}

static void hmac(const uint8_t *key, size_t key_len, const void *msg, size_t n, uint8_t out[32])
{
    digest_hmac_sha256(key, key_len, msg, n, out);
}

void sigv4_signing_key(const char *secret, const char *date, const char *region,
                       const char *service, uint8_t out[32])
{
    size_t n = strlen(secret);
    uint8_t *k0 = xmalloc(n + 4);
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, n);
    uint8_t k[32];
    hmac(k0, n + 4, date, strlen(date), k);
    hmac(k, 32, region, strlen(region), k);
    hmac(k, 32, service, strlen(service), k);
    hmac(k, 32, TERMINATOR, strlen(TERMINATOR), out);
    OPENSSL_cleanse(k0, n + 4);
    OPENSSL_cleanse(k, sizeof(k));
    free(k0);
}

sigv4_key_cache_t *sigv4_key_cache_new(void)
{
    return xcalloc(1, sizeof(sigv4_key_cache_t));
}

void sigv4_key_cache_free(sigv4_key_cache_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        digest_hmac_key_free(c->slots[i].hmac);
    OPENSSL_cleanse(c, sizeof(*c));
    free(c);
}

static uint32_t fnv1a(uint32_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return (h ^ 0xff) * 16777619u; /* separator, so ("ab","c") != ("a","bc") */
}

/* The slot holding the signing key of (secret, date, region, service), derived
 * now if it is not cached. */
static key_slot_t *slot_get(sigv4_key_cache_t *c, const char *secret, const char *date,
                            const char *region, const char *service)
{
    uint32_t h = fnv1a(fnv1a(fnv1a(fnv1a(2166136261u, secret), date), region), service);
    key_slot_t *s = &c->slots[h % CACHE_SLOTS];
    if (s->used && strcmp(s->secret, secret) == 0 && strcmp(s->date, date) == 0 &&
        strcmp(s->region, region) == 0 && strcmp(s->service, service) == 0)
        return s;
    if (strlen(secret) >= sizeof(s->secret) || strlen(date) >= sizeof(s->date) ||
        strlen(region) >= sizeof(s->region) || strlen(service) >= sizeof(s->service))
        s = &c->spare;
    sigv4_signing_key(secret, date, region, service, s->key);
    if (s == &c->spare)
        return s;
    digest_hmac_key_free(s->hmac);
    s->hmac = digest_hmac_key_new(s->key, sizeof(s->key));
    s->used = true;
    strcpy(s->secret, secret);
    strcpy(s->date, date);
    strcpy(s->region, region);
    strcpy(s->service, service);
    return s;
}

const uint8_t *sigv4_key_cache_get(sigv4_key_cache_t *c, const char *secret, const char *date,
                                   const char *region, const char *service)
{
    return slot_get(c, secret, date, region, service)->key;
}

/* ---- canonical request ------------------------------------------------------------------ */

/* True when normalising would not change the path: it starts with '/' and has no empty,
 * "." or ".." segment (a trailing '/' is fine). */
static bool path_is_normal(const char *p, size_t n)
{
    if (n == 0)
        return true;
    if (p[0] != '/')
        return false;
    for (size_t i = 1; i <= n; i++) {
        size_t start = i;
        while (i < n && p[i] != '/')
            i++;
        size_t seg = i - start;
        if ((seg == 0 && i < n) || (seg == 1 && p[start] == '.') ||
            (seg == 2 && p[start] == '.' && p[start + 1] == '.'))
            return false;
    }
    return true;
}

/* Appends the canonical URI. Normalisation follows botocore and the JS SDK: empty and "."
 * segments dropped, ".." pops, a trailing '/' kept only when segments remain. Each segment is
 * then URI-encoded as it arrived, which double-encodes what the client had encoded. */
static int canonical_uri(buf_t *out, const char *p, size_t n, bool normalize)
{
    if (n == 0)
        return buf_putc(out, '/');
    if (!normalize || path_is_normal(p, n))
        return uri_encode(out, p, n, true, false);
    size_t base = out->len;
    if (buf_putc(out, '/') < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        size_t start = i;
        while (i < n && p[i] != '/')
            i++;
        size_t seg = i - start;
        if (seg == 0 || (seg == 1 && p[start] == '.'))
            continue;
        if (seg == 2 && p[start] == '.' && p[start + 1] == '.') {
            if (out->len > base + 1) {
                out->len--; /* drop the trailing '/', then the segment */
                while (out->data[out->len - 1] != '/')
                    out->len--;
            }
            continue;
        }
        if (uri_encode(out, p + start, seg, false, false) < 0 || buf_putc(out, '/') < 0)
            return -1;
    }
    if (out->len > base + 1 && p[n - 1] != '/')
        out->len--;
    out->data[out->len] = '\0';
    return 0;
}

typedef struct qpair {
    const char *k;
    size_t kl;
    const char *v;
    size_t vl;
    size_t ko, vo; /* offsets into the scratch buffer while it may still move */
} qpair_t;

static int qpair_cmp(const void *a, const void *b)
{
    const qpair_t *x = a, *y = b;
    int r = memcmp(x->k, y->k, x->kl < y->kl ? x->kl : y->kl);
    if (r || x->kl != y->kl)
        return r ? r : (x->kl < y->kl ? -1 : 1);
    r = memcmp(x->v, y->v, x->vl < y->vl ? x->vl : y->vl);
    if (r || x->vl != y->vl)
        return r ? r : (x->vl < y->vl ? -1 : 1);
    return 0;
}

/* Re-encodes every parameter into tmp and records it in pairs; returns the count or -1. */
static long query_collect(const char *q, size_t n, unsigned skip, buf_t *tmp, qpair_t *pairs)
{
    long np = 0;
    for (size_t i = 0; i < n; i++) {
        size_t start = i;
        while (i < n && q[i] != '&')
            i++;
        if (i == start)
            continue;
        const char *eq = memchr(q + start, '=', i - start);
        size_t kend = eq ? (size_t)(eq - q) : i;
        qpair_t *p = &pairs[np];
        p->ko = tmp->len;
        if (uri_encode(tmp, q + start, kend - start, false, true) < 0)
            return -1;
        p->kl = tmp->len - p->ko;
        if (((skip & SKIP_SIGNATURE) && bytes_eq(tmp->data + p->ko, p->kl, "X-Amz-Signature")) ||
            ((skip & SKIP_TOKEN) && bytes_eq(tmp->data + p->ko, p->kl, "X-Amz-Security-Token"))) {
            tmp->len = p->ko;
            continue;
        }
        p->vo = tmp->len;
        if (eq && uri_encode(tmp, eq + 1, i - kend - 1, false, true) < 0)
            return -1;
        p->vl = tmp->len - p->vo;
        np++;
    }
    return np;
}

/* Appends the canonical query string: parameters decoded, re-encoded, sorted by name then
 * value; the parameters named by skip left out. */
static int canonical_query(buf_t *out, const char *q, size_t n, unsigned skip)
{
    if (n == 0)
        return 0;
    size_t cap = 1;
    for (size_t i = 0; i < n; i++)
        cap += q[i] == '&';
    qpair_t local[32];
    qpair_t *pairs = cap <= 32 ? local : xmalloc(cap * sizeof(*pairs));
    buf_t tmp;
    buf_init(&tmp, SCRATCH_MAX);
    buf_append(&tmp, "", 0); /* storage even when every parameter is empty */
    int rc = -1;
    long np = query_collect(q, n, skip, &tmp, pairs);
    if (np < 0)
        goto out;
    for (long i = 0; i < np; i++) {
        pairs[i].k = tmp.data + pairs[i].ko;
        pairs[i].v = tmp.data + pairs[i].vo;
    }
    qsort(pairs, (size_t)np, sizeof(*pairs), qpair_cmp);
    for (long i = 0; i < np; i++) {
        if ((i && buf_putc(out, '&') < 0) || buf_append(out, pairs[i].k, pairs[i].kl) < 0 ||
            buf_putc(out, '=') < 0 || buf_append(out, pairs[i].v, pairs[i].vl) < 0)
            goto out;
    }
    rc = 0;
out:
    buf_free(&tmp);
    if (pairs != local)
        free(pairs);
    return rc;
}

/* Appends a header value trimmed, with every inner whitespace run (folded lines included)
 * collapsed to one space. */
static int append_value(buf_t *out, const char *v, size_t n)
{
    trim(&v, &n);
    for (size_t i = 0; i < n; i++) {
        size_t run = i;
        while (run < n && !is_space(v[run]))
            run++;
        if (buf_append(out, v + i, run - i) < 0)
            return -1;
        if (run == n)
            break;
        while (run + 1 < n && is_space(v[run + 1]))
            run++;
        if (buf_putc(out, ' ') < 0)
            return -1;
        i = run;
    }
    return 0;
}

/* Appends "name:v1,v2\n" for each signed name, values of repeated headers in arrival order. */
static int canonical_headers(buf_t *out, const sigv4_request_t *req, const char *list,
                             size_t list_len)
{
    char name[128];
    for (size_t i = 0, count = 0; i < list_len; i++, count++) {
        size_t start = i;
        while (i < list_len && list[i] != ';')
            i++;
        if (count >= SIGNED_MAX || copy_str(name, sizeof(name), list + start, i - start) < 0)
            return -1;
        size_t name_len = strlen(name); /* what buf_puts writes below */
        for (char *c = name; *c; c++)
            *c = lower(*c);
        if (buf_puts(out, name) < 0 || buf_putc(out, ':') < 0)
            return -1;
        bool first = true;
        for (size_t h = 0; h < req->n_headers; h++) {
            const sigv4_header_t *hd = &req->headers[h];
            if (!word_eqn(hd->name, hd->name_len, name, name_len))
                continue;
            if ((!first && buf_putc(out, ',') < 0) || append_value(out, hd->value, hd->value_len))
                return -1;
            first = false;
        }
        if (buf_putc(out, '\n') < 0)
            return -1;
    }
    return 0;
}

/* The payload hash: the literal UNSIGNED-PAYLOAD when the client said so, otherwise the SHA-256
 * of the body we actually received (a claimed X-Amz-Content-Sha256 that does not match the body
 * therefore fails as a signature mismatch). */
static void payload_hash(const sigv4_request_t *req, char hex[65])
{
    const sigv4_header_t *h = header_find(req, "x-amz-content-sha256");
    if (h) {
        const char *v = h->value;
        size_t n = h->value_len;
        trim(&v, &n);
        if (bytes_eq(v, n, UNSIGNED_PAYLOAD)) {
            memcpy(hex, UNSIGNED_PAYLOAD, sizeof(UNSIGNED_PAYLOAD));
            return;
        }
    }
    uint8_t d[32];
    sha256(req->body ? req->body : (const void *)"", req->body_len, d);
    hex_encode(d, 32, hex);
}

int sigv4_canonical_request(const sigv4_request_t *req, const sigv4_auth_t *auth, unsigned flags,
                            buf_t *out)
{
    char hash[65];
    bool normalize = flags & SIGV4_CANON_NORMALIZE;
    unsigned skip = auth->presigned ? SKIP_SIGNATURE : 0;
    if (auth->presigned && (flags & SIGV4_CANON_TOKEN_UNSIGNED))
        skip |= SKIP_TOKEN;
    payload_hash(req, hash);
    if (buf_puts(out, req->method ? req->method : "") < 0 || buf_putc(out, '\n') < 0 ||
        canonical_uri(out, req->path, req->path ? req->path_len : 0, normalize) < 0 ||
        buf_putc(out, '\n') < 0 ||
        canonical_query(out, req->query, req->query ? req->query_len : 0, skip) < 0 ||
        buf_putc(out, '\n') < 0 ||
        canonical_headers(out, req, auth->signed_headers, auth->signed_headers_len) < 0 ||
        buf_putc(out, '\n') < 0 ||
        buf_append(out, auth->signed_headers, auth->signed_headers_len) < 0 ||
        buf_putc(out, '\n') < 0 || buf_puts(out, hash) < 0)
        return -1;
    return 0;
}

int sigv4_string_to_sign(const sigv4_auth_t *auth, const char *canonical, size_t canonical_len,
                         buf_t *out)
{
    uint8_t d[32];
    char hex[65];
    sha256(canonical, canonical_len, d);
    hex_encode(d, 32, hex);
    /* Pieces, not printf: this runs on every request. */
    const char *parts[] = {
        ALGORITHM "\n", auth->amz_date,      "\n", auth->date, "/", auth->region, "/",
        auth->service,  "/" TERMINATOR "\n", hex};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        if (buf_puts(out, parts[i]) < 0)
            return -1;
    return 0;
}

/* Computes the hex signature of req as auth describes it, using scratch as work space. */
static int signature_compute(const sigv4_request_t *req, const sigv4_auth_t *auth,
                             const char *secret, unsigned flags, sigv4_key_cache_t *cache,
                             buf_t *scratch, char hex[65])
{
    buf_reset(scratch);
    if (sigv4_canonical_request(req, auth, flags, scratch) < 0)
        return -1;
    size_t clen = scratch->len;
    if (sigv4_string_to_sign(auth, scratch->data, clen, scratch) < 0)
        return -1;
    uint8_t local[32], sig[32];
    const char *sts = scratch->data + clen;
    size_t sts_len = scratch->len - clen;
    key_slot_t *slot =
        cache ? slot_get(cache, secret, auth->date, auth->region, auth->service) : NULL;
    if (slot && slot->hmac) {
        digest_hmac_key_run(slot->hmac, sts, sts_len, sig);
    } else {
        if (!slot)
            sigv4_signing_key(secret, auth->date, auth->region, auth->service, local);
        hmac(slot ? slot->key : local, 32, sts, sts_len, sig);
    }
    hex_encode(sig, 32, hex);
    OPENSSL_cleanse(local, sizeof(local));
    return 0;
}

/* ---- dates ----------------------------------------------------------------------------- */

static long digits(const char *s, int n)
{
    long v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* Parses YYYYMMDDTHHMMSSZ into *t; -1 when it is not exactly that. */
static int amz_date_parse(const char *s, size_t n, time_t *t)
{
    static const char shape[] = "ddddddddTddddddZ";
    if (n != 16)
        return -1;
    for (size_t i = 0; i < 16; i++)
        if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i])
            return -1;
    long mo = digits(s + 4, 2), d = digits(s + 6, 2);
    long h = digits(s + 9, 2), mi = digits(s + 11, 2), sec = digits(s + 13, 2);
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    *t = (time_t)(clock_days_from_civil(digits(s, 4), mo, d) * 86400 + h * 3600 + mi * 60 + sec);
    return 0;
}

/* Converts an RFC 1123 Date ("Sun, 30 Aug 2015 12:36:00 GMT") to YYYYMMDDTHHMMSSZ. */
static int http_date_to_amz(const char *s, size_t n, char out[17])
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char buf[64], mon[4];
    int d, y, h, mi, sec, used = 0;
    if (copy_str(buf, sizeof(buf), s, n) < 0)
        return -1;
    const char *p = strchr(buf, ',');
    p = p ? p + 1 : buf;
    if (sscanf(p, " %2d %3s %4d %2d:%2d:%2d GMT%n", &d, mon, &y, &h, &mi, &sec, &used) != 6 ||
        used == 0)
        return -1;
    const char *m = strlen(mon) == 3 ? strstr(months, mon) : NULL;
    if (!m || (m - months) % 3 || y < 1970 || y > 9999 || d < 1 || d > 31 || h < 0 || h > 23 ||
        mi < 0 || mi > 59 || sec < 0 || sec > 60)
        return -1;
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "%04d%02d%02dT%02d%02d%02dZ", y, (int)(m - months) / 3 + 1, d, h, mi,
             sec);
    memcpy(out, tmp, 17);
    return 0;
}

static void amz_date_format(time_t t, char out[17])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* ---- parsing --------------------------------------------------------------------------- */

static int incomplete(aws_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int incomplete(aws_error_t *err, const char *fmt, ...)
{
    char msg[sizeof(err->message)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return aws_error_set(err, 400, "IncompleteSignature", "%s", msg);
}

/* keyid/date/region/service/aws4_request into out. */
static int credential_parse(const char *s, size_t n, sigv4_auth_t *out, aws_error_t *err)
{
    const char *part[5];
    size_t len[5], k = 0;
    for (size_t i = 0; i <= n && k <= 5; i++) {
        size_t start = i;
        while (i < n && s[i] != '/')
            i++;
        if (k < 5) {
            part[k] = s + start;
            len[k] = i - start;
        }
        k++;
    }
    if (k != 5)
        return incomplete(err,
                          "Credential must have exactly 5 slash-delimited elements, e.g. "
                          "keyid/date/region/service/term, got '%.*s'",
                          (int)n, s);
    if (!bytes_eq(part[4], len[4], TERMINATOR))
        return incomplete(err,
                          "Credential should be scoped with a valid terminator: '" TERMINATOR
                          "', not '%.*s'.",
                          (int)len[4], part[4]);
    if (len[2] == 0 || copy_str(out->region, sizeof(out->region), part[2], len[2]) < 0)
        return incomplete(err, "Credential should be scoped to a valid region, not '%.*s'.",
                          (int)len[2], part[2]);
    bool date_ok = len[1] == 8;
    for (size_t i = 0; date_ok && i < 8; i++)
        date_ok = is_digit(part[1][i]);
    if (!date_ok || len[0] == 0 || len[3] == 0 ||
        copy_str(out->access_key, sizeof(out->access_key), part[0], len[0]) < 0 ||
        copy_str(out->service, sizeof(out->service), part[3], len[3]) < 0)
        return incomplete(err,
                          "Credential must have exactly 5 slash-delimited elements, e.g. "
                          "keyid/date/region/service/term, got '%.*s'",
                          (int)n, s);
    memcpy(out->date, part[1], 8);
    out->date[8] = '\0';
    return 0;
}

/* SignedHeaders into out; AWS requires Host to be among them. */
static int signed_headers_set(const char *s, size_t n, sigv4_auth_t *out, aws_error_t *err)
{
    if (copy_str(out->signed_headers, sizeof(out->signed_headers), s, n) < 0)
        return incomplete(err, "SignedHeaders is too long.");
    out->signed_headers_len = n;
    for (size_t i = 0; i < n; i++) {
        size_t start = i;
        while (i < n && s[i] != ';')
            i++;
        if (word_eq(s + start, i - start, "host") || word_eq(s + start, i - start, ":authority"))
            return 0;
    }
    return incomplete(err,
                      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
}

static void signature_set(const char *s, size_t n, sigv4_auth_t *out)
{
    /* A signature of the wrong length is kept empty: it can only fail to match. */
    if (n == 64)
        copy_str(out->signature, sizeof(out->signature), s, n);
}

/* The request's date: X-Amz-Date, else Date. 0, 1 when neither is present, -1 malformed. */
static int header_date(const sigv4_request_t *req, sigv4_auth_t *out, aws_error_t *err)
{
    const sigv4_header_t *h = header_find(req, "x-amz-date");
    const sigv4_header_t *d = h ? h : header_find(req, "date");
    if (!d)
        return 1;
    const char *v = d->value;
    size_t n = d->value_len;
    time_t t;
    trim(&v, &n);
    if (h ? amz_date_parse(v, n, &t) == 0 && copy_str(out->amz_date, 17, v, n) == 0
          : http_date_to_amz(v, n, out->amz_date) == 0)
        return 0;
    return incomplete(err,
                      "Date must be in ISO-8601 'basic format'. Got '%.*s'. See "
                      "http://en.wikipedia.org/wiki/ISO_8601",
                      (int)(n > 64 ? 64 : n), v);
}

typedef struct auth_fields {
    const char *cred, *signed_hdrs, *sig;
    size_t cred_len, signed_len, sig_len;
} auth_fields_t;

/* Splits "Credential=..., SignedHeaders=..., Signature=..." (commas and/or spaces). */
static int auth_fields_split(const char *p, size_t n, const char *whole, size_t whole_len,
                             auth_fields_t *f, aws_error_t *err)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == ',' || is_space(p[i]))
            continue;
        size_t start = i;
        while (i < n && p[i] != ',' && !is_space(p[i]))
            i++;
        const char *tok = p + start, *eq = memchr(tok, '=', i - start);
        if (!eq)
            return incomplete(err,
                              "'%.*s' not a valid key=value pair (missing equal-sign) in "
                              "Authorization header: '%.*s'.",
                              (int)(i - start), tok, (int)whole_len, whole);
        size_t kl = (size_t)(eq - tok), vl = i - start - kl - 1;
        if (bytes_eq(tok, kl, "Credential")) {
            f->cred = eq + 1;
            f->cred_len = vl;
        } else if (bytes_eq(tok, kl, "SignedHeaders")) {
            f->signed_hdrs = eq + 1;
            f->signed_len = vl;
        } else if (bytes_eq(tok, kl, "Signature")) {
            f->sig = eq + 1;
            f->sig_len = vl;
        }
    }
    return 0;
}

/* The "Authorization header requires ..." message for whatever is missing. */
static int auth_missing(const auth_fields_t *f, bool no_date, const char *whole, size_t whole_len,
                        aws_error_t *err)
{
    return incomplete(err, "%s%s%s%sAuthorization=%.*s",
                      f->cred ? "" : "Authorization header requires 'Credential' parameter. ",
                      f->sig ? "" : "Authorization header requires 'Signature' parameter. ",
                      f->signed_hdrs ? ""
                                     : "Authorization header requires 'SignedHeaders' parameter. ",
                      no_date ? "Authorization header requires existence of either a "
                                "'X-Amz-Date' or a 'Date' header. "
                              : "",
                      (int)whole_len, whole);
}

static int parse_header_form(const sigv4_request_t *req, const sigv4_header_t *h, sigv4_auth_t *out,
                             aws_error_t *err)
{
    const char *v = h->value;
    size_t n = h->value_len;
    trim(&v, &n);
    auth_fields_t f = {0};
    size_t alg = 0;
    while (alg < n && !is_space(v[alg]))
        alg++;
    if (bytes_eq(v, alg, ALGORITHM) && auth_fields_split(v + alg, n - alg, v, n, &f, err) < 0)
        return -1;
    int date = header_date(req, out, err);
    if (date < 0)
        return -1;
    if (!f.cred || !f.signed_hdrs || !f.sig || date == 1)
        return auth_missing(&f, date == 1, v, n, err);
    if (credential_parse(f.cred, f.cred_len, out, err) < 0 ||
        signed_headers_set(f.signed_hdrs, f.signed_len, out, err) < 0)
        return -1;
    signature_set(f.sig, f.sig_len, out);
    const sigv4_header_t *tok = header_find(req, "x-amz-security-token");
    if (tok) {
        out->session_token = tok->value;
        out->session_token_len = tok->value_len;
        trim(&out->session_token, &out->session_token_len);
    }
    return 0;
}

typedef struct query_fields {
    const char *v[7];
    size_t len[7];
} query_fields_t;

enum { Q_ALG, Q_CRED, Q_DATE, Q_SIGNED, Q_SIG, Q_EXPIRES, Q_TOKEN };
static const char *const QUERY_NAMES[7] = {
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",          "X-Amz-SignedHeaders",
    "X-Amz-Signature", "X-Amz-Expires",    "X-Amz-Security-Token"};

/* Finds the X-Amz-* authentication parameters (raw, still encoded) in the query. */
static void query_fields_find(const char *q, size_t n, query_fields_t *f)
{
    memset(f, 0, sizeof(*f));
    for (size_t i = 0; i < n; i++) {
        size_t start = i;
        while (i < n && q[i] != '&')
            i++;
        const char *eq = memchr(q + start, '=', i - start);
        size_t kl = eq ? (size_t)(eq - q) - start : i - start;
        for (int k = 0; k < 7; k++) {
            if (!f->v[k] && bytes_eq(q + start, kl, QUERY_NAMES[k])) {
                f->v[k] = eq ? eq + 1 : q + i;
                f->len[k] = eq ? i - start - kl - 1 : 0;
            }
        }
    }
}

static int query_expires(const query_fields_t *f, sigv4_auth_t *out, aws_error_t *err)
{
    if (!f->v[Q_EXPIRES])
        return 0;
    const char *s = f->v[Q_EXPIRES];
    size_t n = f->len[Q_EXPIRES];
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]) || v > SIGV4_MAX_EXPIRES_SECONDS)
            return incomplete(err, "X-Amz-Expires must be non-negative. Got '%.*s'.",
                              (int)(n > 32 ? 32 : n), s);
        v = v * 10 + (s[i] - '0');
    }
    if (n == 0 || v > SIGV4_MAX_EXPIRES_SECONDS)
        return incomplete(err,
                          "X-Amz-Expires must be less than a week (in seconds) that is, the "
                          "given X-Amz-Expires must be less than %d seconds",
                          SIGV4_MAX_EXPIRES_SECONDS);
    out->expires = v;
    return 0;
}

static int parse_query_form(const sigv4_request_t *req, sigv4_auth_t *out, aws_error_t *err)
{
    query_fields_t f;
    char alg[64], cred[512], date[64], sig[128], shdr[sizeof(out->signed_headers)];
    size_t alg_n = 0, cred_n = 0, date_n = 0, sig_n = 0, shdr_n = 0;
    query_fields_find(req->query, req->query_len, &f);
    if (!f.v[Q_CRED] || !f.v[Q_SIGNED] || !f.v[Q_SIG] || !f.v[Q_DATE])
        return incomplete(
            err, "%s%s%s%sRe-examine the query-string parameters.",
            f.v[Q_CRED] ? "" : "AWS query-string parameters must include 'X-Amz-Credential'. ",
            f.v[Q_SIG] ? "" : "AWS query-string parameters must include 'X-Amz-Signature'. ",
            f.v[Q_SIGNED] ? "" : "AWS query-string parameters must include 'X-Amz-SignedHeaders'. ",
            f.v[Q_DATE] ? "" : "AWS query-string parameters must include 'X-Amz-Date'. ");
    if (pct_decode(f.v[Q_ALG], f.len[Q_ALG], alg, sizeof(alg), &alg_n) < 0 ||
        strcmp(alg, ALGORITHM) != 0)
        return incomplete(err, "Unsupported AWS 'algorithm': '%.*s'.",
                          (int)(f.len[Q_ALG] > 64 ? 64 : f.len[Q_ALG]), f.v[Q_ALG]);
    time_t t;
    if (pct_decode(f.v[Q_DATE], f.len[Q_DATE], date, sizeof(date), &date_n) < 0 ||
        amz_date_parse(date, date_n, &t) < 0)
        return incomplete(err,
                          "Date must be in ISO-8601 'basic format'. Got '%.*s'. See "
                          "http://en.wikipedia.org/wiki/ISO_8601",
                          (int)(f.len[Q_DATE] > 64 ? 64 : f.len[Q_DATE]), f.v[Q_DATE]);
    memcpy(out->amz_date, date, 17);
    if (pct_decode(f.v[Q_CRED], f.len[Q_CRED], cred, sizeof(cred), &cred_n) < 0 ||
        credential_parse(cred, cred_n, out, err) < 0)
        return err->code ? -1 : incomplete(err, "Credential is too long.");
    if (pct_decode(f.v[Q_SIGNED], f.len[Q_SIGNED], shdr, sizeof(shdr), &shdr_n) < 0 ||
        signed_headers_set(shdr, shdr_n, out, err) < 0)
        return err->code ? -1 : incomplete(err, "SignedHeaders is too long.");
    if (pct_decode(f.v[Q_SIG], f.len[Q_SIG], sig, sizeof(sig), &sig_n) == 0)
        signature_set(sig, sig_n, out);
    if (f.v[Q_TOKEN] && pct_decode(f.v[Q_TOKEN], f.len[Q_TOKEN], out->token_buf,
                                   sizeof(out->token_buf), &out->session_token_len) < 0)
        return incomplete(err, "X-Amz-Security-Token is too long.");
    out->session_token = f.v[Q_TOKEN] ? out->token_buf : NULL;
    return query_expires(&f, out, err);
}

static bool query_has_algorithm(const sigv4_request_t *req)
{
    query_fields_t f;
    if (!req->query || !req->query_len)
        return false;
    query_fields_find(req->query, req->query_len, &f);
    return f.v[Q_ALG] != NULL;
}

int sigv4_parse(const sigv4_request_t *req, sigv4_auth_t *out, aws_error_t *err)
{
    memset(out, 0, offsetof(sigv4_auth_t, token_buf));
    out->token_buf[0] = '\0';
    aws_error_clear(err);
    const sigv4_header_t *h = header_find(req, "authorization");
    if (h)
        return parse_header_form(req, h, out, err);
    if (query_has_algorithm(req)) {
        out->presigned = true;
        return parse_query_form(req, out, err);
    }
    return aws_error_set(err, 403, "MissingAuthenticationToken",
                         "Request is missing Authentication Token");
}

/* ---- verification ---------------------------------------------------------------------- */

/* The 15-minute skew window (both forms) and X-Amz-Expires (presigned). */
static int time_check(const sigv4_auth_t *auth, time_t now, aws_error_t *err)
{
    time_t t;
    char a[17], b[17];
    if (amz_date_parse(auth->amz_date, strlen(auth->amz_date), &t) < 0)
        return aws_error_set(err, 403, "SignatureDoesNotMatch", "%s", MSG_MISMATCH);
    if (t > now + SIGV4_MAX_SKEW_SECONDS) {
        amz_date_format(now + SIGV4_MAX_SKEW_SECONDS, a);
        amz_date_format(now, b);
        return aws_error_set(err, 400, "RequestExpired",
                             "Signature not yet current: %s is still later than %s (%s + 15 min.)",
                             auth->amz_date, a, b);
    }
    if (auth->presigned && auth->expires > 0) {
        if (now > t + auth->expires)
            return aws_error_set(err, 400, "RequestExpired", "Request has expired.");
        return 0;
    }
    if (t < now - SIGV4_MAX_SKEW_SECONDS) {
        amz_date_format(now - SIGV4_MAX_SKEW_SECONDS, a);
        amz_date_format(now, b);
        return aws_error_set(err, 400, "RequestExpired",
                             "Signature expired: %s is now earlier than %s (%s - 15 min.)",
                             auth->amz_date, a, b);
    }
    return 0;
}

static bool signature_matches(const char computed[65], const sigv4_auth_t *auth)
{
    return strlen(auth->signature) == 64 && CRYPTO_memcmp(computed, auth->signature, 64) == 0;
}

int sigv4_verify(const sigv4_request_t *req, const sigv4_auth_t *auth, const char *secret,
                 time_t now, sigv4_key_cache_t *cache, aws_error_t *err)
{
    aws_error_clear(err);
    if (strncmp(auth->date, auth->amz_date, 8) != 0)
        return aws_error_set(err, 403, "SignatureDoesNotMatch",
                             "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                             "version of date from HTTP: '%s' != '%.8s', from '%s'.",
                             auth->date, auth->amz_date, auth->amz_date);
    if (time_check(auth, now, err) < 0)
        return -1;
    /* The usual form first; then what other clients sign: the path as sent, without
     * normalising it, and (presigned) the query without X-Amz-Security-Token, which some
     * clients append after signing, as AWS IoT documents. */
    static const unsigned variants[] = {SIGV4_CANON_NORMALIZE, 0,
                                        SIGV4_CANON_NORMALIZE | SIGV4_CANON_TOKEN_UNSIGNED,
                                        SIGV4_CANON_TOKEN_UNSIGNED};
    bool raw_differs = req->path && !path_is_normal(req->path, req->path_len);
    bool token_in_query = auth->presigned && auth->session_token;
    buf_t scratch;
    buf_init(&scratch, SCRATCH_MAX);
    buf_reserve(&scratch, 1024); /* a canonical request and string to sign fit */
    char hex[65];
    int rc = -1;
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]) && rc < 0; i++) {
        if ((!(variants[i] & SIGV4_CANON_NORMALIZE) && !raw_differs) ||
            ((variants[i] & SIGV4_CANON_TOKEN_UNSIGNED) && !token_in_query))
            continue;
        if (signature_compute(req, auth, secret, variants[i], cache, &scratch, hex) < 0)
            break;
        if (signature_matches(hex, auth))
            rc = 0;
    }
    buf_free(&scratch);
    if (rc < 0)
        aws_error_set(err, 403, "SignatureDoesNotMatch", "%s", MSG_MISMATCH);
    return rc;
}

/* ---- signing --------------------------------------------------------------------------- */

static int header_name_cmp(const void *a, const void *b)
{
    const sigv4_header_t *x = *(const sigv4_header_t *const *)a;
    const sigv4_header_t *y = *(const sigv4_header_t *const *)b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    for (size_t i = 0; i < n; i++) {
        char cx = lower(x->name[i]), cy = lower(y->name[i]);
        if (cx != cy)
            return (unsigned char)cx < (unsigned char)cy ? -1 : 1;
    }
    return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

/* Every header name of req, lower-cased, sorted, without repeats, joined by ';'. */
static int signed_list_build(const sigv4_request_t *req, sigv4_auth_t *a)
{
    const sigv4_header_t **v = xmalloc((req->n_headers + 1) * sizeof(*v));
    for (size_t i = 0; i < req->n_headers; i++)
        v[i] = &req->headers[i];
    qsort(v, req->n_headers, sizeof(*v), header_name_cmp);
    size_t o = 0;
    int rc = -1;
    for (size_t i = 0; i < req->n_headers; i++) {
        if (i && header_name_cmp(&v[i - 1], &v[i]) == 0)
            continue;
        if (o + v[i]->name_len + 2 > sizeof(a->signed_headers))
            goto out;
        if (o)
            a->signed_headers[o++] = ';';
        for (size_t k = 0; k < v[i]->name_len; k++)
            a->signed_headers[o++] = lower(v[i]->name[k]);
    }
    a->signed_headers[o] = '\0';
    a->signed_headers_len = o;
    rc = 0;
out:
    free(v);
    return rc;
}

/* Joins the NULL-terminated pieces into out (outlen bytes); -1 when they do not fit. */
static int join(char *out, size_t outlen, const char *const *pieces)
{
    size_t o = 0;
    for (; *pieces; pieces++) {
        size_t n = strlen(*pieces);
        if (o + n >= outlen)
            return -1;
        memcpy(out + o, *pieces, n);
        o += n;
    }
    out[o] = '\0';
    return 0;
}

int sigv4_sign(const sigv4_request_t *req, const char *access_key, const char *secret,
               const char *region, const char *service, const char *amz_date,
               sigv4_key_cache_t *cache, char *out, size_t outlen)
{
    /* Not zeroed as a whole (it is 5 KiB and this runs per request of a load
     * generator): a header-form signature reads only the fields set here. */
    sigv4_auth_t *a = xmalloc(sizeof(*a));
    a->presigned = false;
    a->expires = 0;
    a->session_token = NULL;
    a->session_token_len = 0;
    a->signature[0] = '\0';
    a->access_key[0] = '\0';
    buf_t scratch;
    buf_init(&scratch, SCRATCH_MAX);
    buf_reserve(&scratch, 1024); /* a canonical request and string to sign fit */
    char hex[65];
    int rc = -1;
    time_t t;
    if (amz_date_parse(amz_date, strlen(amz_date), &t) < 0 ||
        copy_str(a->region, sizeof(a->region), region, strlen(region)) < 0 ||
        copy_str(a->service, sizeof(a->service), service, strlen(service)) < 0 ||
        signed_list_build(req, a) < 0)
        goto out;
    memcpy(a->amz_date, amz_date, 17);
    memcpy(a->date, amz_date, 8);
    a->date[8] = '\0';
    if (signature_compute(req, a, secret, SIGV4_CANON_NORMALIZE, cache, &scratch, hex) < 0)
        goto out;
    /* Pieces, not printf: a load generator signs every request. */
    const char *pieces[] = {ALGORITHM " Credential=",
                            access_key,
                            "/",
                            a->date,
                            "/",
                            region,
                            "/",
                            service,
                            "/" TERMINATOR ", SignedHeaders=",
                            a->signed_headers,
                            ", Signature=",
                            hex,
                            NULL};
    rc = join(out, outlen, pieces);
out:
    buf_free(&scratch);
    free(a);
    return rc;
}

/* ---- raw text (tests, fuzzing) --------------------------------------------------------- */

static const char *method_intern(const char *s, size_t n)
{
    static const char *const methods[] = {"GET",  "POST",    "PUT",   "DELETE",
                                          "HEAD", "OPTIONS", "PATCH", "CONNECT"};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (bytes_eq(s, n, methods[i]))
            return methods[i];
    return NULL;
}

/* Length of the line at s (up to n bytes) without its "\n" or "\r\n"; *next is past it. */
static size_t line_len(const char *s, size_t n, size_t *next)
{
    const char *nl = memchr(s, '\n', n);
    size_t len = nl ? (size_t)(nl - s) : n;
    *next = nl ? len + 1 : n;
    return (len && s[len - 1] == '\r') ? len - 1 : len;
}

static int request_line(const char *s, size_t n, sigv4_request_t *req)
{
    const char *sp1 = memchr(s, ' ', n);
    if (!sp1)
        return -1;
    const char *end = s + n;
    while (end > sp1 + 1 && end[-1] != ' ')
        end--;
    if (end == sp1 + 1) /* no version: the target runs to the end */
        end = s + n + 1;
    req->method = method_intern(s, (size_t)(sp1 - s));
    const char *target = sp1 + 1;
    size_t tlen = (size_t)(end - 1 - target);
    const char *q = memchr(target, '?', tlen);
    req->path = target;
    req->path_len = q ? (size_t)(q - target) : tlen;
    req->query = q ? q + 1 : NULL;
    req->query_len = q ? tlen - req->path_len - 1 : 0;
    return req->method ? 0 : -1;
}

int sigv4_request_from_text(const char *text, size_t len, sigv4_request_t *req,
                            sigv4_header_t *hdrs, size_t max_hdrs)
{
    size_t next, pos = 0, nh = 0;
    memset(req, 0, sizeof(*req));
    size_t ll = line_len(text, len, &next);
    if (request_line(text, ll, req) < 0)
        return -1;
    for (pos = next; pos < len; pos += next) {
        const char *line = text + pos;
        ll = line_len(line, len - pos, &next);
        if (ll == 0) {
            pos += next;
            break;
        }
        if (line[0] == ' ' || line[0] == '\t') { /* obs-fold: continues the previous value */
            if (nh == 0)
                return -1;
            hdrs[nh - 1].value_len = (size_t)(line + ll - hdrs[nh - 1].value);
            continue;
        }
        const char *colon = memchr(line, ':', ll);
        if (!colon || nh == max_hdrs)
            return -1;
        hdrs[nh++] = (sigv4_header_t){line, (size_t)(colon - line), colon + 1,
                                      (size_t)(line + ll - colon - 1)};
    }
    req->headers = hdrs;
    req->n_headers = nh;
    req->body = pos < len ? text + pos : NULL;
    req->body_len = pos < len ? len - pos : 0;
    return 0;
}
