/*
 * condition — the Condition element's operators (IAM "Condition operators").
 *
 * An operator name is taken apart once (set qualifier, base operator, negation,
 * IfExists) and each policy value is parsed for its operator at compile time:
 * numbers, dates, CIDRs and base64 are never re-read during evaluation. The
 * request's values are parsed as they are compared, without allocating.
 *
 * The rules, from the IAM documentation ("Condition operators", "Single-valued
 * vs. multivalued context keys"):
 * - the values listed for a key are OR'ed; keys and operators are AND'ed by
 *   the caller (eval.c);
 * - a key missing from the request (or with no values): false, except that
 *   negated operators (StringNotEquals, ArnNotLike, NotIpAddress, ...) are
 *   true, ...IfExists is true, ForAllValues is true and ForAnyValue false;
 * - Null: "true" matches a missing key, "false" a present one;
 * - a negated operator asks of a request value that it match none of the
 *   policy values; ForAllValues asks it of every request value, ForAnyValue
 *   of at least one; without a qualifier a multivalued key behaves as
 *   ForAnyValue for positive operators and as ForAllValues for negated ones
 *   (no value may match);
 * - ArnLike/ArnEquals compare the six colon-separated parts of an ARN one by
 *   one, so a wildcard never crosses a colon before the resource part.
 */
#include "iam/policy_int.h"
#include "base/b64.h"
#include "base/clock.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- operator names ------------------------------------------------------------------- */

static const struct {
    const char *name;
    cond_base_t base;
    bool negated;
} OPERATORS[] = {
    {"StringEquals", COND_STRING_EQUALS, false},
    {"StringNotEquals", COND_STRING_EQUALS, true},
    {"StringEqualsIgnoreCase", COND_STRING_EQUALS_IC, false},
    {"StringNotEqualsIgnoreCase", COND_STRING_EQUALS_IC, true},
    {"StringLike", COND_STRING_LIKE, false},
    {"StringNotLike", COND_STRING_LIKE, true},
    {"NumericEquals", COND_NUMERIC_EQ, false},
    {"NumericNotEquals", COND_NUMERIC_EQ, true},
    {"NumericLessThan", COND_NUMERIC_LT, false},
    {"NumericLessThanEquals", COND_NUMERIC_LE, false},
    {"NumericGreaterThan", COND_NUMERIC_GT, false},
    {"NumericGreaterThanEquals", COND_NUMERIC_GE, false},
    {"DateEquals", COND_DATE_EQ, false},
    {"DateNotEquals", COND_DATE_EQ, true},
    {"DateLessThan", COND_DATE_LT, false},
    {"DateLessThanEquals", COND_DATE_LE, false},
    {"DateGreaterThan", COND_DATE_GT, false},
    {"DateGreaterThanEquals", COND_DATE_GE, false},
    {"Bool", COND_BOOL, false},
    {"BinaryEquals", COND_BINARY, false},
    {"IpAddress", COND_IP, false},
    {"NotIpAddress", COND_IP, true},
    {"ArnEquals", COND_ARN, false},
    {"ArnLike", COND_ARN, false},
    {"ArnNotEquals", COND_ARN, true},
    {"ArnNotLike", COND_ARN, true},
    {"Null", COND_NULL, false},
};

#define IF_EXISTS "IfExists"

int cond_op_parse(const char *name, cond_op_t *op)
{
    cond_op_t o = {.set = SET_NONE};
    size_t n = strlen(name);
    if (strncmp(name, "ForAllValues:", 13) == 0) {
        o.set = SET_FOR_ALL;
        name += 13;
        n -= 13;
    } else if (strncmp(name, "ForAnyValue:", 12) == 0) {
        o.set = SET_FOR_ANY;
        name += 12;
        n -= 12;
    }
    if (n > strlen(IF_EXISTS) && strcmp(name + n - strlen(IF_EXISTS), IF_EXISTS) == 0) {
        o.if_exists = true;
        n -= strlen(IF_EXISTS);
    }
    for (size_t i = 0; i < sizeof(OPERATORS) / sizeof(OPERATORS[0]); i++) {
        if (strlen(OPERATORS[i].name) != n || strncmp(OPERATORS[i].name, name, n) != 0)
            continue;
        o.base = OPERATORS[i].base;
        o.negated = OPERATORS[i].negated;
        /* Null has no IfExists form: it is the existence test itself. */
        if (o.base == COND_NULL && o.if_exists)
            return -1;
        *op = o;
        return 0;
    }
    return -1;
}

bool cond_op_takes_vars(const cond_op_t *op)
{
    /* String and ARN operators per "Variables and tags"; Bool per "Condition
     * operators" (the two pages disagree; the operators page is newer). */
    return op->base == COND_STRING_EQUALS || op->base == COND_STRING_EQUALS_IC ||
           op->base == COND_STRING_LIKE || op->base == COND_ARN || op->base == COND_BOOL;
}

static bool is_numeric(cond_base_t b)
{
    return b >= COND_NUMERIC_EQ && b <= COND_NUMERIC_GE;
}

static bool is_date(cond_base_t b)
{
    return b >= COND_DATE_EQ && b <= COND_DATE_GE;
}

/* ---- value parsing -------------------------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Parses an unsigned run of digits of at most max_digits (0 = any) into *v;
 * returns how many characters it took (0 when none, or on overflow). */
static size_t digits(const char *s, size_t n, size_t max_digits, int64_t *v)
{
    size_t i = 0;
    int64_t x = 0;
    while (i < n && is_digit(s[i]) && (!max_digits || i < max_digits)) {
        int d = s[i] - '0';
        if (x > (INT64_MAX - d) / 10)
            return 0;
        x = x * 10 + d;
        i++;
    }
    *v = x;
    return i;
}

/* A decimal number: [+-]digits[.digits][e[+-]digits], nothing else (strtod
 * alone would also take hex, "inf" and leading spaces). */
static bool parse_number(const char *s, size_t n, double *out)
{
    char buf[64];
    size_t i = 0;
    if (n == 0 || n >= sizeof(buf))
        return false;
    if (s[i] == '+' || s[i] == '-')
        i++;
    size_t int_start = i;
    while (i < n && is_digit(s[i]))
        i++;
    size_t n_digits = i - int_start;
    if (i < n && s[i] == '.') {
        size_t frac_start = ++i;
        while (i < n && is_digit(s[i]))
            i++;
        n_digits += i - frac_start;
    }
    if (n_digits == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp_start = i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == exp_start)
            return false;
    }
    if (i != n)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    return true;
}

typedef struct cursor {
    const char *s;
    size_t n, i;
} cursor_t;

/* Consumes ch (a lower-case letter also matches its upper case). */
static bool take(cursor_t *c, char ch)
{
    if (c->i == c->n)
        return false;
    char x = c->s[c->i];
    if (x != ch && !(ch >= 'a' && ch <= 'z' && x == ch - 'a' + 'A'))
        return false;
    c->i++;
    return true;
}

/* Reads up to max digits (exactly `exact` when non-zero) within [lo, hi]. */
static bool field(cursor_t *c, size_t max, size_t exact, int64_t lo, int64_t hi, int64_t *v)
{
    size_t got = digits(c->s + c->i, c->n - c->i, max, v);
    if (got == 0 || (exact && got != exact) || *v < lo || *v > hi)
        return false;
    c->i += got;
    return true;
}

/* Time zone designator: Z, or +hh, +hh:mm, -hh, -hh:mm; seconds east of UTC. */
static bool read_zone(cursor_t *c, int64_t *offset)
{
    *offset = 0;
    if (c->i == c->n || take(c, 'z'))
        return true;
    int sign = c->s[c->i] == '-' ? -1 : 1;
    if (!take(c, '+') && !take(c, '-'))
        return false;
    int64_t hh, mm = 0;
    if (!field(c, 2, 2, 0, 23, &hh) || (take(c, ':') && !field(c, 2, 2, 0, 59, &mm)))
        return false;
    *offset = sign * (hh * 3600 + mm * 60);
    return true;
}

/* The time of day after the T: hh[:mm[:ss[.fraction]]] and a zone. */
static bool read_time(cursor_t *c, int64_t *sec, int32_t *nsec)
{
    int64_t hh = 0, mm = 0, ss = 0, zone = 0;
    *nsec = 0;
    if (c->i < c->n && is_digit(c->s[c->i])) {
        if (!field(c, 2, 0, 0, 23, &hh))
            return false;
        if (take(c, ':') && !field(c, 2, 0, 0, 59, &mm))
            return false;
        if (take(c, ':') && !field(c, 2, 0, 0, 59, &ss))
            return false;
        if (take(c, '.')) {
            int64_t frac;
            size_t got = digits(c->s + c->i, c->n - c->i, 10, &frac);
            if (got == 0 || got > 9)
                return false;
            for (size_t k = got; k < 9; k++)
                frac *= 10;
            c->i += got;
            *nsec = (int32_t)frac;
        }
    }
    if (!read_zone(c, &zone))
        return false;
    *sec = hh * 3600 + mm * 60 + ss - zone;
    return c->i == c->n;
}

bool cond_date_parse(const char *s, size_t n, date_value_t *out)
{
    int64_t v;
    /* Epoch seconds: digits only. */
    if (n > 0 && digits(s, n, 19, &v) == n) {
        *out = (date_value_t){.sec = v};
        return true;
    }
    /* W3C ISO 8601: YYYY[-MM[-DD]][Thh[:mm[:ss[.s]]][zone]] */
    cursor_t c = {.s = s, .n = n};
    bool neg = take(&c, '-');
    int64_t year, month = 1, day = 1, sec = 0;
    int32_t nsec = 0;
    if (!field(&c, 10, 0, 0, neg ? 292275054 : 292278993, &year))
        return false;
    if (take(&c, '-')) {
        if (!field(&c, 2, 0, 1, 12, &month))
            return false;
        if (take(&c, '-') && !field(&c, 2, 0, 1, 31, &day))
            return false;
    }
    if (take(&c, 't')) {
        if (!read_time(&c, &sec, &nsec))
            return false;
    } else if (c.i != n) {
        return false;
    }
    int64_t days = clock_days_from_civil(neg ? -year : year, month, day);
    *out = (date_value_t){.sec = days * 86400 + sec, .nsec = nsec};
    return true;
}

static int date_cmp(const date_value_t *a, const date_value_t *b)
{
    if (a->sec != b->sec)
        return a->sec < b->sec ? -1 : 1;
    return a->nsec < b->nsec ? -1 : a->nsec > b->nsec;
}

/* An address with an optional /prefix. */
static bool parse_cidr(const char *s, size_t n, bool allow_prefix, ip_value_t *ip)
{
    char buf[64];
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    ip->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(ip->family, buf, ip->addr) != 1)
        return false;
    unsigned max = ip->family == AF_INET ? 32 : 128;
    ip->prefix = max;
    if (!slash)
        return true;
    int64_t p;
    size_t len = strlen(slash + 1);
    if (!allow_prefix || len == 0 || digits(slash + 1, len, 3, &p) != len || p > max)
        return false;
    ip->prefix = (unsigned)p;
    return true;
}

static bool ip_in(const ip_value_t *net, const ip_value_t *a)
{
    if (net->family != a->family)
        return false;
    unsigned full = net->prefix / 8, rest = net->prefix % 8;
    if (memcmp(net->addr, a->addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (net->addr[full] & mask) == (a->addr[full] & mask);
}

void cond_value_compile(arena_t *a, const cond_op_t *op, const char *s, size_t n, bool vars,
                        cond_value_t *v)
{
    pat_compile(a, s, n, vars && cond_op_takes_vars(op), &v->text);
    v->ok = true;
    if (is_numeric(op->base)) {
        v->ok = parse_number(s, n, &v->u.num);
    } else if (is_date(op->base)) {
        v->ok = cond_date_parse(s, n, &v->u.date);
    } else if (op->base == COND_BINARY) {
        uint8_t *bytes = arena_alloc(a, b64_decoded_max(n));
        v->ok = b64_decode(s, n, bytes, &v->u.bin.len) == 0;
        v->u.bin.bytes = bytes;
    } else if (op->base == COND_IP) {
        v->ok = parse_cidr(s, n, true, &v->u.ip);
    } else if (op->base == COND_NULL) {
        v->u.truth = n == 4 && strncasecmp(s, "true", 4) == 0;
        v->ok = v->u.truth || (n == 5 && strncasecmp(s, "false", 5) == 0);
    }
}

/* ---- comparisons ---------------------------------------------------------------------- */

/* Splits an ARN into its six parts (the sixth keeps any further colons).
 * false when it has fewer than six. */
static bool arn_split(const char *s, size_t n, size_t start[6], size_t len[6])
{
    size_t part = 0, from = 0;
    for (size_t i = 0; i < n && part < 5; i++) {
        if (s[i] != ':')
            continue;
        start[part] = from;
        len[part++] = i - from;
        from = i + 1;
    }
    if (part < 5)
        return false;
    start[5] = from;
    len[5] = n - from;
    return true;
}

static bool arn_like(const char *p, const uint8_t *lit, size_t pn, const char *s, size_t sn)
{
    size_t ps[6], pl[6], ss[6], sl[6];
    if (!arn_split(p, pn, ps, pl))
        return pn == 1 && p[0] == '*' && !(lit && lit[0]);
    if (!arn_split(s, sn, ss, sl))
        return false;
    for (int i = 0; i < 6; i++)
        if (!glob_match(p + ps[i], lit ? lit + ps[i] : NULL, pl[i], s + ss[i], sl[i]))
            return false;
    return true;
}

static bool binary_equals(const cond_value_t *v, const char *s, size_t sn)
{
    uint8_t buf[3 * 1024 + 1];
    size_t len;
    /* Request values are small (they come from headers and parameters). */
    if (b64_decoded_max(sn) > sizeof(buf) || b64_decode(s, sn, buf, &len) < 0)
        return false;
    return len == v->u.bin.len && memcmp(buf, v->u.bin.bytes, len) == 0;
}

static bool numeric_matches(cond_base_t base, double policy, const char *s, size_t sn)
{
    double x;
    if (!parse_number(s, sn, &x))
        return false;
    switch (base) {
    case COND_NUMERIC_EQ:
        return x == policy;
    case COND_NUMERIC_LT:
        return x < policy;
    case COND_NUMERIC_LE:
        return x <= policy;
    case COND_NUMERIC_GT:
        return x > policy;
    default:
        return x >= policy;
    }
}

static bool date_matches(cond_base_t base, const date_value_t *policy, const char *s, size_t sn)
{
    date_value_t x;
    if (!cond_date_parse(s, sn, &x))
        return false;
    int c = date_cmp(&x, policy);
    switch (base) {
    case COND_DATE_EQ:
        return c == 0;
    case COND_DATE_LT:
        return c < 0;
    case COND_DATE_LE:
        return c <= 0;
    case COND_DATE_GT:
        return c > 0;
    default:
        return c >= 0;
    }
}

/* The text operators, on the policy value as expanded for this request. */
static bool text_matches(cond_base_t base, const char *p, const uint8_t *lit, size_t pn,
                         const char *s, size_t sn)
{
    switch (base) {
    case COND_STRING_EQUALS:
        return pn == sn && memcmp(p, s, pn) == 0;
    case COND_STRING_EQUALS_IC:
    case COND_BOOL:
        return pn == sn && strncasecmp(p, s, pn) == 0;
    case COND_STRING_LIKE:
        return glob_match(p, lit, pn, s, sn);
    default:
        return arn_like(p, lit, pn, s, sn);
    }
}

/* Whether request value s matches policy value v under the (positive) base operator. */
static bool value_matches(const cond_t *c, const cond_value_t *v, const iam_request_t *req,
                          const char *s, size_t sn)
{
    if (!v->ok)
        return false;
    if (is_numeric(c->op.base))
        return numeric_matches(c->op.base, v->u.num, s, sn);
    if (is_date(c->op.base))
        return date_matches(c->op.base, &v->u.date, s, sn);
    if (c->op.base == COND_BINARY)
        return binary_equals(v, s, sn);
    if (c->op.base == COND_IP) {
        ip_value_t a;
        return parse_cidr(s, sn, false, &a) && ip_in(&v->u.ip, &a);
    }
    if (!v->text.segs)
        return text_matches(c->op.base, v->text.text, NULL, v->text.len, s, sn);
    char buf[PAT_EXPAND_MAX];
    uint8_t lit[PAT_EXPAND_MAX];
    int n = pat_expand(&v->text, req, buf, lit);
    return n >= 0 && text_matches(c->op.base, buf, lit, (size_t)n, s, sn);
}

/* Whether request value s matches any of the condition's policy values. */
static bool any_value_matches(const cond_t *c, const iam_request_t *req, const char *s)
{
    size_t sn = strlen(s);
    for (size_t i = 0; i < c->n_values; i++)
        if (value_matches(c, &c->values[i], req, s, sn))
            return true;
    return false;
}

bool cond_eval(const cond_t *c, const iam_request_t *req)
{
    const iam_context_key_t *e = ctx_find(req, c->key, c->key_len);
    size_t n = e ? e->n_values : 0;
    if (c->op.base == COND_NULL) {
        for (size_t i = 0; i < c->n_values; i++)
            if (c->values[i].ok && c->values[i].u.truth == (n == 0))
                return true;
        return false;
    }
    if (n == 0) {
        if (c->op.if_exists || c->op.set == SET_FOR_ALL)
            return true;
        return c->op.set == SET_NONE && c->op.negated;
    }
    if (c->op.set == SET_FOR_ALL) {
        for (size_t i = 0; i < n; i++)
            if (any_value_matches(c, req, e->values[i]) == c->op.negated)
                return false;
        return true;
    }
    if (c->op.set == SET_FOR_ANY) {
        for (size_t i = 0; i < n; i++)
            if (any_value_matches(c, req, e->values[i]) != c->op.negated)
                return true;
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if (any_value_matches(c, req, e->values[i]))
            return !c->op.negated;
    return c->op.negated;
}
