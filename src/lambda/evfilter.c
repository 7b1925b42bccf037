/*
 * evfilter — compile and match Lambda filter patterns; see evfilter.h.
 *
 * A pattern is kept as the jansson tree it parses to, checked once at
 * compile time so that matching can trust its shape:
 *
 *   node  := { field: node | rules, ..., "$or": [ node, node, ... ] }  (not empty)
 *   rules := [ rule, ... ]                                             (not empty)
 *   rule  := string | number | true | false | null | { operator: operand }
 *
 * Matching walks the pattern, not the record: every field of a node must
 * match (AND), any rule of a list may (OR), any alternative of "$or" may.
 * Where the record holds an array, any element may match; an object pattern
 * is matched against each element as a whole, so two of its fields are never
 * satisfied by two different elements (EventBridge's "array-consistent"
 * matching). Rules see leaf values only: scalars, and scalars inside arrays.
 *
 * The rule syntax is Lambda's "Filter rule syntax"
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html),
 * which follows EventBridge's comparison operators
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html).
 */
#include "lambda/evfilter.h"

#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct lambda_filter {
    size_t n;
    json_t *patterns[LAMBDA_FILTERS_MAX];
};

#define BAD_VALUE "InvalidParameterValueException"
/* Lambda answers every malformed pattern with this one message, whatever is
 * wrong with it (CreateEventSourceMapping and CloudFormation alike). */
#define BAD_PATTERN "Invalid filter pattern definition."

typedef bool (*match_fn)(const json_t *operand, const json_t *value);

/* ---- strings --------------------------------------------------------------------------------- */

static unsigned char lower(char c)
{
    unsigned char u = (unsigned char)c;
    return u >= 'A' && u <= 'Z' ? (unsigned char)(u + ('a' - 'A')) : u;
}

/* equals-ignore-case folds ASCII letters only: other scripts compare as bytes. */
static bool bytes_equal(const char *a, const char *b, size_t n, bool icase)
{
    if (!icase)
        return memcmp(a, b, n) == 0;
    for (size_t i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

typedef enum { AT_START, AT_END, WHOLE } where_t;

/* Whether v is a string holding the JSON string s at its start, at its end or
 * as a whole. Strings may hold NUL bytes: lengths, never strlen. */
static bool str_has(const json_t *v, const json_t *s, where_t where, bool icase)
{
    if (!json_is_string(v))
        return false;
    size_t vn = json_string_length(v), sn = json_string_length(s);
    if (sn > vn || (where == WHOLE && sn != vn))
        return false;
    const char *at = json_string_value(v) + (where == AT_END ? vn - sn : 0);
    return bytes_equal(at, json_string_value(s), sn, icase);
}

/* The one entry of a match expression such as {"prefix": "us-"}. */
static const json_t *only_entry(const json_t *obj, const char **key)
{
    /* jansson's iterators take a non-const object; they only read it. */
    void *it = json_object_iter((json_t *)obj);
    *key = json_object_iter_key(it);
    return json_object_iter_value(it);
}

/* ---- operators ------------------------------------------------------------------------------- */

/* prefix and suffix take a string or {"equals-ignore-case": string}. */
static const json_t *affix_text(const json_t *operand, bool *icase)
{
    *icase = json_is_object(operand);
    return *icase ? json_object_get(operand, "equals-ignore-case") : operand;
}

static bool m_prefix(const json_t *operand, const json_t *v)
{
    bool icase;
    const json_t *s = affix_text(operand, &icase);
    return str_has(v, s, AT_START, icase);
}

static bool m_suffix(const json_t *operand, const json_t *v)
{
    bool icase;
    const json_t *s = affix_text(operand, &icase);
    return str_has(v, s, AT_END, icase);
}

static bool m_ignore_case(const json_t *operand, const json_t *v)
{
    return str_has(v, operand, WHOLE, true);
}

/* anything-but's equality: strings byte for byte, numbers by value. */
static bool but_equal(const json_t *p, const json_t *v)
{
    if (json_is_number(p))
        return json_is_number(v) && json_number_value(p) == json_number_value(v);
    return str_has(v, p, WHOLE, false);
}

/* Whether v passes equal with one entry of list (an array), or with list itself
 * (a scalar). */
static bool one_of(const json_t *list, const json_t *v, match_fn equal)
{
    if (!json_is_array(list))
        return equal(list, v);
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e)
    {
        if (equal(e, v))
            return true;
    }
    return false;
}

/* A present value that is none of the operand's: a null or a number passes a
 * list of strings, as on EventBridge; a missing field passes nothing (the
 * caller only offers leaf values). */
static bool m_anything_but(const json_t *operand, const json_t *v)
{
    const char *key = NULL;
    const json_t *arg = operand;
    if (json_is_object(operand))
        arg = only_entry(operand, &key);
    if (!key)
        return !one_of(arg, v, but_equal);
    if (!strcmp(key, "prefix"))
        return !str_has(v, arg, AT_START, false);
    if (!strcmp(key, "suffix"))
        return !str_has(v, arg, AT_END, false);
    return !one_of(arg, v, m_ignore_case);
}

typedef struct cmp {
    const char *name;
    bool lt, eq, gt; /* which orders of value against bound pass */
} cmp_t;

static const cmp_t CMPS[] = {
    {"=", false, true, false}, {"<", true, false, false}, {"<=", true, true, false},
    {">", false, false, true}, {">=", false, true, true},
};

static const cmp_t *cmp_find(const json_t *name)
{
    for (size_t i = 0; json_is_string(name) && i < sizeof(CMPS) / sizeof(CMPS[0]); i++)
        if (!strcmp(CMPS[i].name, json_string_value(name)))
            return &CMPS[i];
    return NULL;
}

/* numeric applies to JSON numbers only: "10" in a record is a string. */
static bool m_numeric(const json_t *operand, const json_t *v)
{
    if (!json_is_number(v))
        return false;
    double x = json_number_value(v);
    for (size_t i = 0; i + 1 < json_array_size(operand); i += 2) {
        const cmp_t *c = cmp_find(json_array_get(operand, i));
        double bound = json_number_value(json_array_get(operand, i + 1));
        if (!((c->lt && x < bound) || (c->eq && x == bound) || (c->gt && x > bound)))
            return false;
    }
    return true;
}

/* ---- operand checks (0 valid, -1 not) -------------------------------------------------------- */

static int c_string(const json_t *operand)
{
    return json_is_string(operand) ? 0 : -1;
}

static int c_boolean(const json_t *operand)
{
    return json_is_boolean(operand) ? 0 : -1;
}

static int c_affix(const json_t *operand)
{
    if (json_is_object(operand)) {
        const char *key;
        if (json_object_size(operand) != 1)
            return -1;
        const json_t *arg = only_entry(operand, &key);
        return !strcmp(key, "equals-ignore-case") ? c_string(arg) : -1;
    }
    return c_string(operand);
}

/* A non-empty array of strings only or (unless strings_only) numbers only. */
static bool uniform_list(const json_t *a, bool strings_only)
{
    size_t n = json_array_size(a), strings = 0, numbers = 0;
    for (size_t i = 0; i < n; i++) {
        strings += json_is_string(json_array_get(a, i));
        numbers += json_is_number(json_array_get(a, i));
    }
    return n > 0 && (strings == n || (!strings_only && numbers == n));
}

/* A string or number, a list of either, or one of {"prefix": s}, {"suffix": s}
 * (s not empty) and {"equals-ignore-case": s or a list of strings}. */
static int c_anything_but(const json_t *operand)
{
    if (json_is_string(operand) || json_is_number(operand))
        return 0;
    if (json_is_array(operand))
        return uniform_list(operand, false) ? 0 : -1;
    if (!json_is_object(operand) || json_object_size(operand) != 1)
        return -1;
    const char *key;
    const json_t *arg = only_entry(operand, &key);
    if (!strcmp(key, "prefix") || !strcmp(key, "suffix"))
        return json_string_length(arg) > 0 ? 0 : -1;
    if (!strcmp(key, "equals-ignore-case"))
        return json_is_string(arg) || uniform_list(arg, true) ? 0 : -1;
    return -1;
}

/* ["=", n], ["<" or "<=", n], [">" or ">=", n], or a range: a lower bound then
 * an upper bound above it, [">", 0, "<=", 5]. */
static int c_numeric(const json_t *operand)
{
    size_t n = json_array_size(operand);
    const cmp_t *first = cmp_find(json_array_get(operand, 0));
    if ((n != 2 && n != 4) || !first || !json_is_number(json_array_get(operand, 1)))
        return -1;
    if (n == 2)
        return 0;
    const cmp_t *second = cmp_find(json_array_get(operand, 2));
    const json_t *top = json_array_get(operand, 3);
    if (!first->gt || !second || !second->lt || !json_is_number(top))
        return -1;
    return json_number_value(json_array_get(operand, 1)) < json_number_value(top) ? 0 : -1;
}

typedef struct op {
    const char *name;
    int (*check)(const json_t *operand);
    match_fn match; /* on one leaf value; NULL for exists, which asks whether there is one */
} op_t;

static const op_t OPS[] = {
    {"prefix", c_affix, m_prefix},
    {"suffix", c_affix, m_suffix},
    {"equals-ignore-case", c_string, m_ignore_case},
    {"anything-but", c_anything_but, m_anything_but},
    {"numeric", c_numeric, m_numeric},
    {"exists", c_boolean, NULL},
};

static const op_t *op_find(const char *name)
{
    for (size_t i = 0; i < sizeof(OPS) / sizeof(OPS[0]); i++)
        if (!strcmp(OPS[i].name, name))
            return &OPS[i];
    return NULL;
}

/* ---- pattern shape --------------------------------------------------------------------------- */

/* Whether field key with value v is the "$or" primitive: as EventBridge reads
 * it, an array of two or more objects none of which names an operator.
 * Anything else keyed "$or" is an ordinary field of that name. */
static bool is_or(const char *key, const json_t *v)
{
    if (strcmp(key, "$or") || json_array_size(v) < 2)
        return false;
    size_t i;
    const json_t *alt;
    json_array_foreach(v, i, alt)
    {
        json_t *obj = (json_t *)alt; /* iterators take a non-const object; they only read it */
        if (!json_is_object(alt))
            return false;
        for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it))
            if (op_find(json_object_iter_key(it)))
                return false;
    }
    return true;
}

static int check_rule(const json_t *r)
{
    if (!json_is_object(r))
        return json_is_array(r) ? -1 : 0; /* a value: string, number, true, false, null */
    if (json_object_size(r) != 1)
        return -1;
    const char *name;
    const json_t *operand = only_entry(r, &name);
    const op_t *op = op_find(name);
    return op ? op->check(operand) : -1;
}

static int check_node(const json_t *node)
{
    const char *key;
    const json_t *v;
    if (!json_is_object(node) || json_object_size(node) == 0)
        return -1;
    json_object_foreach((json_t *)node, key, v)
    {
        size_t i;
        const json_t *e;
        if (is_or(key, v)) {
            json_array_foreach(v, i, e)
            {
                if (check_node(e) < 0)
                    return -1;
            }
        } else if (json_is_object(v)) {
            if (check_node(v) < 0)
                return -1;
        } else if (json_array_size(v) == 0) {
            return -1; /* a scalar, or an empty list of rules */
        } else {
            json_array_foreach(v, i, e)
            {
                if (check_rule(e) < 0)
                    return -1;
            }
        }
    }
    return 0;
}

/* ---- matching -------------------------------------------------------------------------------- */

/* The record's body, parsed once for all patterns and only if one asks. */
typedef struct match_ctx {
    const json_t *body; /* the record's "body" when it is a string */
    json_t *parsed;     /* body as JSON, when it is an object or an array */
    bool tried;
} match_ctx_t;

static const json_t *body_json(match_ctx_t *ctx)
{
    if (!ctx->tried) {
        ctx->tried = true;
        /* Flags 0 take an object or an array only: a body such as 42 or "x"
         * is matched as the plain string it is. */
        ctx->parsed = json_loadb(json_string_value(ctx->body), json_string_length(ctx->body),
                                 JSON_ALLOW_NUL, NULL);
    }
    return ctx->parsed;
}

/* Whether fn passes a leaf value of v: v itself when a scalar, a scalar inside
 * it when an array; an object or a missing field has none. */
static bool any_leaf(const json_t *v, match_fn fn, const json_t *operand)
{
    if (!json_is_array(v))
        return v && !json_is_object(v) && fn(operand, v);
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        if (any_leaf(e, fn, operand))
            return true;
    }
    return false;
}

/* A value in a rule list matches an equal value of the same JSON type: Lambda
 * compares numbers by their text, so 300 and 300.0 differ (an int and a real
 * here). */
static bool m_exact(const json_t *p, const json_t *v)
{
    return json_equal(p, v);
}

/* exists looks at leaves only, as EventBridge documents: a field holding an
 * object, or an empty array, does not exist for it. */
static bool m_any(const json_t *operand, const json_t *v)
{
    (void)operand;
    (void)v;
    return true;
}

static bool rule_match(const json_t *r, const json_t *v)
{
    const char *name;
    if (!json_is_object(r))
        return any_leaf(v, m_exact, r);
    const json_t *operand = only_entry(r, &name);
    const op_t *op = op_find(name);
    if (!op->match) /* exists */
        return any_leaf(v, m_any, NULL) == json_is_true(operand);
    return any_leaf(v, op->match, operand);
}

/* Whether v passes a list of rules: any one of them. */
static bool rules_match(const json_t *rules, const json_t *v)
{
    return one_of(rules, v, rule_match);
}

static bool node_match(const json_t *node, const json_t *ev, match_ctx_t *ctx, bool top);

/* The SQS body, by "Properly filtering Amazon SQS messages" (Lambda developer
 * guide; https://docs.aws.amazon.com/lambda/latest/dg/with-sqs-filtering.html):
 * Lambda looks at the body's format and at the format of the pattern for
 * body, and drops the message when they differ. A JSON body meets nested keys
 * (a node); a plain-string body meets a rule list; a JSON body under a rule
 * list, or a plain string under nested keys, matches nothing. */
static bool body_match(const json_t *pat, match_ctx_t *ctx)
{
    const json_t *parsed = body_json(ctx);
    if (json_is_object(pat))
        return parsed && node_match(pat, parsed, ctx, false);
    return !parsed && rules_match(pat, ctx->body);
}

static bool field_match(const char *key, const json_t *pat, const json_t *ev, match_ctx_t *ctx,
                        bool top)
{
    const json_t *v = json_object_get(ev, key); /* NULL when ev is no object */
    if (top && v && v == ctx->body)
        return body_match(pat, ctx);
    if (json_is_object(pat))
        return node_match(pat, v, ctx, false);
    return rules_match(pat, v);
}

/* Whether ev (any JSON value, or NULL when missing) satisfies node; top when
 * ev is the record itself, whose "body" is special. */
static bool node_match(const json_t *node, const json_t *ev, match_ctx_t *ctx, bool top)
{
    size_t i;
    const json_t *e;
    if (json_array_size(ev) > 0) {
        json_array_foreach(ev, i, e)
        {
            if (node_match(node, e, ctx, top))
                return true;
        }
        return false;
    }
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)node, key, v)
    {
        bool ok = false;
        if (!is_or(key, v)) {
            ok = field_match(key, v, ev, ctx, top);
        } else {
            json_array_foreach(v, i, e)
            {
                ok = ok || node_match(e, ev, ctx, top);
            }
        }
        if (!ok)
            return false;
    }
    return true;
}

/* ---- API ------------------------------------------------------------------------------------- */

/* Characters, as the model's length limit counts them: UTF-8 sequences. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Parses and checks pattern number index (0-based); NULL with err filled. */
static json_t *pattern_parse(const char *text, size_t index, aws_error_t *err)
{
    json_t *p = NULL;
    if (text && utf8_chars(text) > LAMBDA_FILTER_PATTERN_MAX) {
        aws_error_set(err, 400, BAD_VALUE,
                      "Invalid filter pattern definition: the pattern of filter %zu is longer than "
                      "%d characters.",
                      index + 1, LAMBDA_FILTER_PATTERN_MAX);
        return NULL;
    }
    if (text)
        p = json_loads(text, JSON_ALLOW_NUL, NULL);
    if (!p || check_node(p) < 0) {
        json_decref(p);
        aws_error_set(err, 400, BAD_VALUE, BAD_PATTERN);
        return NULL;
    }
    return p;
}

lambda_filter_t *lambda_filter_compile(const char *const *patterns, size_t n, aws_error_t *err)
{
    lambda_filter_t *f = NULL, *result = NULL;
    if (n > LAMBDA_FILTERS_MAX) {
        /* The wording esm.c uses for the same check. */
        aws_error_set(err, 400, BAD_VALUE, "The maximum number of filters is %d.",
                      LAMBDA_FILTERS_MAX);
        goto out;
    }
    f = xcalloc(1, sizeof(*f));
    for (; f->n < n; f->n++) {
        json_t *p = pattern_parse(patterns[f->n], f->n, err);
        if (!p)
            goto out;
        f->patterns[f->n] = p;
    }
    result = f;
    f = NULL;
out:
    lambda_filter_free(f);
    return result;
}

bool lambda_filter_match(const lambda_filter_t *f, const json_t *record)
{
    const json_t *body = json_object_get(record, "body");
    match_ctx_t ctx = {.body = json_is_string(body) ? body : NULL};
    bool hit = f->n == 0;
    for (size_t i = 0; i < f->n && !hit; i++)
        hit = node_match(f->patterns[i], record, &ctx, true);
    json_decref(ctx.parsed);
    return hit;
}

size_t lambda_filter_count(const lambda_filter_t *f)
{
    return f->n;
}

void lambda_filter_free(lambda_filter_t *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        json_decref(f->patterns[i]);
    free(f);
}
