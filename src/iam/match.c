/*
 * match — the matchers every part of a policy uses: the compiled policy's
 * arena, patterns with policy variables, wildcard matching and context
 * lookups. See policy_int.h.
 *
 * Policy variables (IAM "Variables and tags"): `${key}` takes the value of a
 * single-valued context key, `${key, 'default'}` falls back to the default,
 * `${*}`, `${?}` and `${$}` stand for the literal characters. A substituted
 * value is always literal: a `*` in a user name is not a wildcard. A `${`
 * that does not close, or whose default is not quoted, stays plain text.
 */
#include "iam/policy_int.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- arena ---------------------------------------------------------------------------- */

#define ARENA_BLOCK 4096

struct arena_block {
    arena_block_t *next;
    size_t used, cap;
    max_align_t data[];
};

void *arena_alloc(arena_t *a, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    arena_block_t *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        b = xmalloc(sizeof(*b) + cap);
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(arena_t *a, const char *s, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void arena_free(arena_t *a)
{
    while (a->head) {
        arena_block_t *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

/* ---- patterns ------------------------------------------------------------------------- */

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Reads the variable whose `${` is at s[0]; fills *v and returns the length
 * of the whole `${...}`, or 0 when it is not a variable. */
static size_t read_var(const char *s, size_t n, seg_t *v)
{
    size_t i = 2, name_start = 2;
    while (i < n && s[i] != '}' && s[i] != ',')
        i++;
    if (i >= n)
        return 0;
    size_t name_end = i;
    while (name_end > name_start && is_blank(s[name_end - 1]))
        name_end--;
    if (name_end == name_start)
        return 0;
    *v = (seg_t){.kind = SEG_VAR, .text = s + name_start, .len = name_end - name_start};
    if (name_end - name_start == 1 && strchr("*?$", s[name_start]))
        v->kind = SEG_LITERAL;
    if (s[i] == '}')
        return i + 1;
    /* ", 'default'}" */
    for (i++; i < n && is_blank(s[i]); i++)
        ;
    if (i >= n || s[i] != '\'' || v->kind != SEG_VAR)
        return 0;
    const char *def = s + i + 1;
    const char *q = memchr(def, '\'', n - i - 1);
    if (!q)
        return 0;
    for (i = (size_t)(q - s) + 1; i < n && is_blank(s[i]); i++)
        ;
    if (i >= n || s[i] != '}')
        return 0;
    v->def = def;
    v->def_len = (size_t)(q - def);
    return i + 1;
}

void pat_compile(arena_t *a, const char *s, size_t n, bool vars, pat_t *p)
{
    p->text = arena_strndup(a, s, n);
    p->len = n;
    p->segs = NULL;
    p->n_segs = 0;
    if (!vars || !memmem(s, n, "${", 2))
        return;
    /* At most a variable and a text run per `${`, plus the tail. */
    size_t max = 1, n_segs = 0, start = 0;
    for (size_t i = 0; i + 1 < n; i++)
        max += s[i] == '$' && s[i + 1] == '{' ? 2 : 0;
    seg_t *segs = arena_alloc(a, max * sizeof(seg_t));
    for (size_t i = 0; i + 1 < n;) {
        seg_t v;
        size_t used = s[i] == '$' && s[i + 1] == '{' ? read_var(s + i, n - i, &v) : 0;
        if (!used) {
            i++;
            continue;
        }
        if (i > start)
            segs[n_segs++] = (seg_t){.kind = SEG_TEXT, .text = p->text + start, .len = i - start};
        /* Point into the arena's copy, not the caller's text. */
        v.text = p->text + (v.text - s);
        v.def = v.def ? p->text + (v.def - s) : NULL;
        segs[n_segs++] = v;
        i += used;
        start = i;
    }
    if (n_segs == 0)
        return;
    if (start < n)
        segs[n_segs++] = (seg_t){.kind = SEG_TEXT, .text = p->text + start, .len = n - start};
    p->segs = segs;
    p->n_segs = n_segs;
}

const iam_context_key_t *ctx_find(const iam_request_t *req, const char *key, size_t key_len)
{
    for (size_t i = 0; i < req->n_context; i++) {
        const iam_context_key_t *e = &req->context[i];
        if (strncasecmp(e->key, key, key_len) == 0 && e->key[key_len] == '\0')
            return e;
    }
    return NULL;
}

/* The value a variable stands for, or NULL: only single-valued keys resolve. */
static const char *var_value(const seg_t *v, const iam_request_t *req, size_t *len)
{
    const iam_context_key_t *e = ctx_find(req, v->text, v->len);
    if (e && !e->multi && e->n_values == 1) {
        *len = strlen(e->values[0]);
        return e->values[0];
    }
    *len = v->def_len;
    return v->def;
}

int pat_expand(const pat_t *p, const iam_request_t *req, char *buf, uint8_t *lit)
{
    size_t len = 0;
    for (size_t i = 0; i < p->n_segs; i++) {
        const seg_t *s = &p->segs[i];
        const char *text = s->text;
        size_t n = s->len;
        if (s->kind == SEG_VAR) {
            text = var_value(s, req, &n);
            if (!text)
                return -1;
        }
        if (n > PAT_EXPAND_MAX - len)
            return -1;
        memcpy(buf + len, text, n);
        memset(lit + len, s->kind != SEG_TEXT, n);
        len += n;
    }
    return (int)len;
}

static bool wild(const char *p, const uint8_t *lit, size_t i, char c)
{
    return p[i] == c && !(lit && lit[i]);
}

bool glob_match(const char *p, const uint8_t *lit, size_t pn, const char *s, size_t sn)
{
    size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;
    while (si < sn) {
        if (pi < pn && wild(p, lit, pi, '*')) {
            star = pi++;
            mark = si;
        } else if (pi < pn && (wild(p, lit, pi, '?') || p[pi] == s[si])) {
            pi++;
            si++;
        } else if (star != SIZE_MAX) {
            /* Let the last star take one more byte and retry from there. */
            pi = star + 1;
            si = ++mark;
        } else {
            return false;
        }
    }
    while (pi < pn && wild(p, lit, pi, '*'))
        pi++;
    return pi == pn;
}

bool pat_like(const pat_t *p, const iam_request_t *req, const char *s, size_t sn)
{
    if (!p->segs)
        return glob_match(p->text, NULL, p->len, s, sn);
    char buf[PAT_EXPAND_MAX];
    uint8_t lit[PAT_EXPAND_MAX];
    int n = pat_expand(p, req, buf, lit);
    return n >= 0 && glob_match(buf, lit, (size_t)n, s, sn);
}
