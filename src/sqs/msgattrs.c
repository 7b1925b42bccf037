/*
 * msgattrs — message bodies and message attributes: validation and MD5s.
 *
 * Rules from the SQS developer guide ("Amazon SQS message attributes") and
 * API_SendMessage: a body is UTF-8 of the characters #x9 | #xA | #xD | #x20 to
 * #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF; attribute names are up to 256
 * of A-Z a-z 0-9 _ - ., not starting with AWS./Amazon. (any case), not starting
 * or ending with a period and without "..", data types String, Number or Binary
 * with an optional ".custom" suffix, values non-empty. MD5OfMessageAttributes is
 * the documented length-prefixed digest over attributes sorted by name.
 */
#include "base/digest.h"
#include "base/hex.h"
#include "sqs/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "base/xalloc.h"

static int bad_name(const char *name, aws_error_t *err)
{
    return aws_error_set(err, 400, "InvalidParameterValue",
                         "The message attribute name '%s' is invalid. Attribute name can contain "
                         "A-Z, a-z, 0-9, underscore (_), hyphen (-), and period (.) characters.",
                         name);
}

static int name_check(const char *name, aws_error_t *err)
{
    size_t len = strlen(name);
    if (len == 0 || len > 256 || name[0] == '.' || name[len - 1] == '.' || strstr(name, "..") ||
        !strncasecmp(name, "AWS.", 4) || !strncasecmp(name, "Amazon.", 7))
        return bad_name(name, err);
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return bad_name(name, err);
    }
    return 0;
}

/* 0 String, 1 Number, 2 Binary, -1 invalid. */
static int type_base(const char *t)
{
    static const char *const bases[] = {"String", "Number", "Binary"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(bases[i]);
        if (!strncmp(t, bases[i], n) && (t[n] == 0 || (t[n] == '.' && t[n + 1])))
            return strlen(t) <= 256 ? i : -1;
    }
    return -1;
}

/* A decimal number as SQS accepts: optional sign, digits, optional fraction and
 * exponent, at most 38 significant digits. */
static bool number_ok(const char *s)
{
    size_t digits = 0;
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    for (; *p >= '0' && *p <= '9'; p++)
        digits++;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits++;
    if (digits == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+')
            p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == 0 && digits <= 38;
}

static int attr_check(const sqs_msg_attr_t *a, size_t *size, aws_error_t *err)
{
    const char *t = a->data_type ? a->data_type : "";
    int base = type_base(t);
    if (name_check(a->name ? a->name : "", err) < 0)
        return -1;
    if (base < 0)
        return aws_error_set(err, 400, "InvalidParameterValue",
                             "The message attribute '%s' has an invalid message attribute type, "
                             "the set of supported type prefixes is Binary, Number, and String.",
                             a->name);
    size_t vlen = base == 2 ? (a->binary_value ? a->binary_len : 0)
                            : (a->string_value ? strlen(a->string_value) : 0);
    if (vlen == 0)
        return aws_error_set(err, 400, "InvalidParameterValue",
                             "The message attribute '%s' must contain non-empty message attribute "
                             "value for message attribute type '%s'.",
                             a->name,
                             base == 0   ? "String"
                             : base == 1 ? "Number"
                                         : "Binary");
    if (base == 1 && !number_ok(a->string_value))
        return aws_error_set(err, 400, "InvalidParameterValue",
                             "Can't cast the value of message attribute '%s' to a number.",
                             a->name);
    if (base == 0 && msg_body_check(a->string_value, vlen, err) < 0)
        return -1;
    *size += strlen(a->name) + strlen(t) + vlen;
    return 0;
}

int msg_attrs_check(const sqs_msg_attr_t *a, size_t n, size_t *size, aws_error_t *err)
{
    *size = 0;
    if (n > SQS_MSG_ATTRS_MAX)
        return aws_error_set(err, 400, "InvalidParameterValue",
                             "Number of message attributes [%zu] exceeds the allowed maximum "
                             "[%d].",
                             n, SQS_MSG_ATTRS_MAX);
    for (size_t i = 0; i < n; i++) {
        if (attr_check(&a[i], size, err) < 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(a[i].name, a[j].name))
                return aws_error_set(err, 400, "InvalidParameterValue",
                                     "Message attribute name '%s' already exists.", a[i].name);
    }
    return 0;
}

/* Decodes one UTF-8 sequence at s (n bytes left); returns its length, 0 if invalid. */
static size_t utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t len = c < 0x80             ? 1
                 : (c & 0xE0) == 0xC0 ? 2
                 : (c & 0xF0) == 0xE0 ? 3
                 : (c & 0xF8) == 0xF0 ? 4
                                      : 0;
    static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (len == 0 || len > n)
        return 0;
    unsigned v = len == 1 ? c : c & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min[len] || v > 0x10FFFF)
        return 0;
    *cp = v;
    return len;
}

int msg_body_check(const char *body, size_t len, aws_error_t *err)
{
    const unsigned char *s = (const unsigned char *)body;
    size_t i = 0;
    while (i < len) {
        /* Printable ASCII, most of most bodies, needs no decoding. */
        while (i < len && s[i] >= 0x20 && s[i] < 0x80)
            i++;
        if (i == len)
            break;
        unsigned cp = 0;
        size_t n = utf8_next(s + i, len - i, &cp);
        bool ok = n && (cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                        (cp >= 0xE000 && cp <= 0xFFFD) || cp >= 0x10000);
        if (!ok)
            return aws_error_set(err, 400, "InvalidMessageContents",
                                 "Invalid binary character '#x%X' was found in the message body, "
                                 "the set of allowed characters is #x9 | #xA | #xD | #x20 to "
                                 "#xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
                                 n ? cp : s[i]);
        i += n;
    }
    return 0;
}

void md5_hex(const void *p, size_t len, char out[33])
{
    uint8_t d[16];
    digest_md5(p, len, d);
    hex_encode(d, 16, out);
}

static void md5_lv(const void *p, size_t len)
{
    unsigned char be[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
                           (unsigned char)(len >> 8), (unsigned char)len};
    digest_md5_add(be, 4);
    digest_md5_add(p, len);
}

void msg_attrs_md5(const msg_attr_t *a, size_t n, char out[33])
{
    uint8_t d[16];
    digest_md5_begin();
    for (size_t i = 0; i < n; i++) {
        unsigned char transport = a[i].binary ? 2 : 1;
        md5_lv(a[i].name, strlen(a[i].name));
        md5_lv(a[i].type, strlen(a[i].type));
        digest_md5_add(&transport, 1);
        md5_lv(a[i].value, a[i].len);
    }
    digest_md5_finish(d);
    hex_encode(d, 16, out);
}

static int attr_cmp(const void *a, const void *b)
{
    return strcmp(((const msg_attr_t *)a)->name, ((const msg_attr_t *)b)->name);
}

msg_attr_t *msg_attrs_copy(const sqs_msg_attr_t *a, size_t n)
{
    msg_attr_t *out = n ? xcalloc(n, sizeof(*out)) : NULL;
    for (size_t i = 0; i < n; i++) {
        out[i].name = xstrdup(a[i].name);
        out[i].type = xstrdup(a[i].data_type);
        out[i].binary = !strncmp(a[i].data_type, "Binary", 6);
        out[i].len = out[i].binary ? a[i].binary_len : strlen(a[i].string_value);
        out[i].value = xmalloc(out[i].len + 1);
        memcpy(out[i].value, out[i].binary ? a[i].binary_value : a[i].string_value, out[i].len);
        out[i].value[out[i].len] = 0;
    }
    if (n > 1)
        qsort(out, n, sizeof(*out), attr_cmp);
    return out;
}

void msg_attrs_free(msg_attr_t *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].name);
        free(a[i].type);
        free(a[i].value);
    }
    free(a);
}

void msg_trace_md5(const char *trace, char out[33])
{
    msg_attr_t a = {(char *)"AWSTraceHeader", (char *)"String", (char *)trace, strlen(trace),
                    false};
    msg_attrs_md5(&a, 1, out);
}
