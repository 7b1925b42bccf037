/*
 * jsonread — see jsonread.h. A recursive-descent reader over a cursor and a
 * bound; strings are scanned a run at a time and copied once.
 */
#include "aws/jsonread.h"
#include "base/buf.h"
#include "base/hex.h"
#include "base/xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

typedef struct reader {
    const char *p, *end, *start;
    jsonread_error_t *err;
    buf_t scratch; /* unescaped strings */
    int depth;
} reader_t;

static json_t *fail(reader_t *r, const char *what)
{
    if (!r->err->text[0]) {
        snprintf(r->err->text, sizeof(r->err->text), "%s", what);
        r->err->position = (size_t)(r->p - r->start);
    }
    return NULL;
}

static void skip_ws(reader_t *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (n == 0 || c > 0xf4 || (size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
        return 0;
    if (n == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
        return 0;
    return n;
}

static void put_utf8(buf_t *b, uint32_t cp)
{
    char o[4];
    size_t n;
    if (cp < 0x80) {
        o[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        o[0] = (char)(0xf0 | cp >> 18);
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    buf_append(b, o, n);
}

static int hex4(reader_t *r, uint32_t *out)
{
    uint32_t v = 0;
    if (r->end - r->p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(r->p[i]);
        if (d < 0)
            return -1;
        v = v * 16 + (uint32_t)d;
    }
    r->p += 4;
    *out = v;
    return 0;
}

/* After a backslash: appends the escaped character. 0, or -1 (error set). */
static int unescape(reader_t *r)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    uint32_t cp, lo;
    if (r->p >= r->end)
        return fail(r, "premature end of input"), -1;
    const char *e = memchr(from, *r->p, sizeof(from) - 1);
    if (e) {
        buf_putc(&r->scratch, to[e - from]);
        r->p++;
        return 0;
    }
    if (*r->p++ != 'u' || hex4(r, &cp) < 0)
        return fail(r, "invalid escape"), -1;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return fail(r, "invalid Unicode escape (lone low surrogate)"), -1;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
            return fail(r, "invalid Unicode escape (lone high surrogate)"), -1;
        r->p += 2;
        if (hex4(r, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
            return fail(r, "invalid Unicode escape (bad surrogate pair)"), -1;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    put_utf8(&r->scratch, cp);
    return 0;
}

/* Whether any of the eight bytes of w ends a plain run of a string: '"',
 * '\\', a control character or a byte >= 0x80 (UTF-8, checked apart). The
 * classic "has a zero byte" test, ((x - 0x01..) & ~x & 0x80..), applied to
 * w ^ '"' and w ^ '\\', and as "has a byte below 0x20" to w, plus the high
 * bits of w itself. Exact for the word; which byte it is, the caller finds. */
static bool word_ends_run(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    uint64_t hit = ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b) | w;
    return (hit & highs) != 0;
}

/* Reads a string (the cursor is past the opening quote) into r->scratch.
 * Plain runs are skipped a word at a time (message bodies are long). */
static int read_string(reader_t *r)
{
    buf_reset(&r->scratch);
    for (;;) {
        const char *run = r->p;
        uint64_t w;
        while (r->end - r->p >= 8) {
            memcpy(&w, r->p, 8);
            if (word_ends_run(w))
                break;
            r->p += 8;
        }
        while (r->p < r->end) {
            unsigned char c = (unsigned char)*r->p;
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
                break;
            r->p++;
        }
        buf_append(&r->scratch, run, (size_t)(r->p - run));
        if (r->p >= r->end)
            return fail(r, "premature end of input in a string"), -1;
        unsigned char c = (unsigned char)*r->p;
        if (c == '"') {
            r->p++;
            return 0;
        }
        if (c < 0x20)
            return fail(r, "control character in a string"), -1;
        if (c == '\\') {
            r->p++;
            if (unescape(r) < 0)
                return -1;
            continue;
        }
        size_t n = utf8_len((const unsigned char *)r->p, (const unsigned char *)r->end);
        if (n == 0)
            return fail(r, "invalid UTF-8"), -1;
        buf_append(&r->scratch, r->p, n);
        r->p += n;
    }
}

static json_t *read_number(reader_t *r)
{
    const char *s = r->p;
    bool real = false;
    if (r->p < r->end && *r->p == '-')
        r->p++;
    if (r->p >= r->end || *r->p < '0' || *r->p > '9')
        return fail(r, "invalid token");
    if (*r->p == '0')
        r->p++;
    else
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    if (r->p < r->end && *r->p == '.') {
        real = true;
        r->p++;
        if (r->p >= r->end || *r->p < '0' || *r->p > '9')
            return fail(r, "invalid number");
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        real = true;
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        if (r->p >= r->end || *r->p < '0' || *r->p > '9')
            return fail(r, "invalid number");
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    }
    char tmp[64];
    size_t n = (size_t)(r->p - s);
    char *num = n < sizeof(tmp) ? tmp : xmalloc(n + 1);
    memcpy(num, s, n);
    num[n] = '\0';
    json_t *v = NULL;
    errno = 0;
    if (!real) {
        json_int_t i = strtoll(num, NULL, 10);
        v = errno == ERANGE ? fail(r, "too big integer") : json_integer(i);
    } else {
        double d = strtod(num, NULL);
        v = (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL)) ? fail(r, "real number overflow")
                                                                   : json_real(d);
    }
    if (num != tmp)
        free(num);
    return v;
}

static json_t *read_value(reader_t *r);

static json_t *read_object(reader_t *r)
{
    json_t *obj = json_object();
    skip_ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return obj;
    }
    for (;;) {
        skip_ws(r);
        if (r->p >= r->end || *r->p != '"' || (r->p++, read_string(r) < 0))
            goto bad;
        if (memchr(r->scratch.data, '\0', r->scratch.len)) {
            fail(r, "NUL byte in object key not supported");
            goto bad;
        }
        if (json_object_getn(obj, r->scratch.data, r->scratch.len)) {
            fail(r, "duplicate object key");
            goto bad;
        }
        char key[256], *k = r->scratch.len < sizeof(key) ? key : xmalloc(r->scratch.len + 1);
        size_t klen = r->scratch.len;
        memcpy(k, r->scratch.data, klen + 1);
        skip_ws(r);
        json_t *v = NULL;
        if (r->p < r->end && *r->p == ':') {
            r->p++;
            v = read_value(r);
        } else {
            fail(r, "':' expected");
        }
        if (v)
            json_object_setn_new_nocheck(obj, k, klen, v);
        if (k != key)
            free(k);
        if (!v)
            goto bad;
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            return obj;
        }
        fail(r, "'}' expected");
        goto bad;
    }
bad:
    fail(r, "string or '}' expected");
    json_decref(obj);
    return NULL;
}

static json_t *read_array(reader_t *r)
{
    json_t *arr = json_array();
    skip_ws(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return arr;
    }
    for (;;) {
        json_t *v = read_value(r);
        if (!v)
            break;
        json_array_append_new(arr, v);
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            return arr;
        }
        fail(r, "']' expected");
        break;
    }
    json_decref(arr);
    return NULL;
}

static json_t *read_word(reader_t *r, const char *w, json_t *v)
{
    size_t n = strlen(w);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
        return fail(r, "invalid token");
    r->p += n;
    return v;
}

static json_t *read_value(reader_t *r)
{
    json_t *v;
    skip_ws(r);
    if (r->p >= r->end)
        return fail(r, "premature end of input");
    switch (*r->p) {
    case '{':
    case '[':
        if (++r->depth > MAX_DEPTH)
            return fail(r, "maximum parsing depth reached");
        r->p++;
        v = r->p[-1] == '{' ? read_object(r) : read_array(r);
        r->depth--;
        return v;
    case '"':
        r->p++;
        if (read_string(r) < 0)
            return NULL;
        return json_stringn_nocheck(r->scratch.data, r->scratch.len);
    case 't':
        return read_word(r, "true", json_true());
    case 'f':
        return read_word(r, "false", json_false());
    case 'n':
        return read_word(r, "null", json_null());
    default:
        return read_number(r);
    }
}

json_t *jsonread_parse(const char *p, size_t len, jsonread_error_t *err)
{
    reader_t r = {p, p + len, p, err, {0}, 0};
    json_t *v = NULL;
    err->text[0] = '\0';
    buf_init(&r.scratch, 0);
    buf_reserve(&r.scratch, len < 4096 ? len : 4096); /* no string is longer than the input */
    skip_ws(&r);
    if (r.p >= r.end || (*r.p != '{' && *r.p != '['))
        fail(&r, "'[' or '{' expected");
    else
        v = read_value(&r);
    skip_ws(&r);
    if (v && r.p != r.end) {
        json_decref(v);
        v = fail(&r, "end of input expected");
    }
    buf_free(&r.scratch);
    return v;
}
