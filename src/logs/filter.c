/*
 * filter — parse and match CloudWatch Logs text filter patterns; see filter.h.
 *
 * A pattern is a list of terms separated by white space. Each term is bare
 * (a run of non-blank bytes) or quoted, and may carry a '?' (OR) or '-' (NOT)
 * prefix. An event matches when it contains every plain term, none of the
 * '-' terms, and, when there are '?' terms, at least one of them. A pattern
 * wrapped in '%' is one regular expression instead.
 */
#include "logs/filter.h"

#include "base/buf.h"
#include "base/xalloc.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TERMS_MAX 64

typedef enum { TERM_ALL, TERM_ANY, TERM_NOT } term_kind_t;

typedef struct term {
    term_kind_t kind;
    char *text;
    size_t len;
} term_t;

struct logs_filter {
    term_t terms[TERMS_MAX];
    size_t n;
    bool any; /* there is at least one '?' term */
    bool regex;
    regex_t re;
};

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Reads a quoted term starting after the opening quote at *pos into out (a
 * new string); 0, or -1 when the quote is never closed. */
static int read_quoted(const char *p, size_t len, size_t *pos, term_t *out)
{
    char *text = xmalloc(len + 1);
    size_t n = 0, i = *pos;
    for (; i < len && p[i] != '"'; i++) {
        if (p[i] == '\\' && i + 1 < len && (p[i + 1] == '"' || p[i + 1] == '\\'))
            i++;
        text[n++] = p[i];
    }
    if (i == len) {
        free(text);
        return -1;
    }
    text[n] = '\0';
    out->text = text;
    out->len = n;
    *pos = i + 1;
    return 0;
}

static void read_bare(const char *p, size_t len, size_t *pos, term_t *out)
{
    size_t start = *pos, i = start;
    while (i < len && !blank(p[i]))
        i++;
    out->text = xstrndup(p + start, i - start);
    out->len = i - start;
    *pos = i;
}

/* AWS's regex subset ("Supported regular expressions (regex) syntax"): letters,
 * digits, the symbols : _ # = @ / ; , - and the operators ^ $ ? [ ] { } | \\ *
 * + . only; no groups. Two quantifiers in a row are refused too: nothing in
 * AWS's syntax needs them, and glibc's regcomp expands "a{99}{99}" (or a long
 * run of '+') into a tree whose size multiplies. */
static bool regex_allowed(const char *p, size_t len)
{
    static const char ok[] = ":_#=@/;,-^$?[]{}|\\*+.";
    bool quantified = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)p[i];
        bool q = ch == '*' || ch == '+' || ch == '?' || ch == '{';
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch && strchr(ok, ch))))
            return false;
        if (q && quantified)
            return false;
        if (ch == '{')
            while (i + 1 < len && p[i] != '}')
                i++;
        if (ch == '\\' && i + 1 < len)
            i++; /* an escaped character is a literal */
        quantified = q;
    }
    return true;
}

/* The POSIX extended form of an AWS regex: \d and \D, which ERE lacks, become
 * bracket expressions (\w, \s and their negations are GNU extensions). */
static char *regex_posix(const char *p, size_t len)
{
    buf_t b;
    buf_init(&b, 0);
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\\' && i + 1 < len && (p[i + 1] == 'd' || p[i + 1] == 'D')) {
            buf_puts(&b, p[++i] == 'd' ? "[0-9]" : "[^0-9]");
            continue;
        }
        buf_putc(&b, p[i]);
    }
    size_t n;
    return buf_steal(&b, &n);
}

static int parse_regex(logs_filter_t *f, const char *p, size_t len, char *err, size_t errlen)
{
    if (len == 2) {
        snprintf(err, errlen, "Invalid regular expression in filter pattern: it is empty.");
        return -1;
    }
    if (!regex_allowed(p + 1, len - 2)) {
        snprintf(err, errlen,
                 "Invalid regular expression in filter pattern: only letters, digits, the "
                 "symbols :_#=@/;,- and the operators ^$?[]{}|\\*+. are supported, without "
                 "groups or repeated quantifiers.");
        return -1;
    }
    char *src = regex_posix(p + 1, len - 2);
    int rc = regcomp(&f->re, src, REG_EXTENDED | REG_NOSUB);
    free(src);
    if (rc != 0) {
        char why[128];
        regerror(rc, &f->re, why, sizeof(why));
        snprintf(err, errlen, "Invalid regular expression in filter pattern: %s.", why);
        return -1;
    }
    f->regex = true;
    return 0;
}

/* Parses the terms of p into f; 0 or -1 with err. */
static int parse_terms(logs_filter_t *f, const char *p, size_t len, char *err, size_t errlen)
{
    size_t i = 0;
    for (;;) {
        while (i < len && blank(p[i]))
            i++;
        if (i == len)
            return 0;
        if (f->n == TERMS_MAX) {
            snprintf(err, errlen, "Invalid filter pattern: more than %d terms.", TERMS_MAX);
            return -1;
        }
        term_t *t = &f->terms[f->n];
        t->kind = p[i] == '?' ? TERM_ANY : p[i] == '-' ? TERM_NOT : TERM_ALL;
        if (t->kind != TERM_ALL && ++i == len) {
            snprintf(err, errlen, "Invalid filter pattern: '%c' at the end.", p[i - 1]);
            return -1;
        }
        if (p[i] == '"') {
            i++;
            if (read_quoted(p, len, &i, t) < 0) {
                snprintf(err, errlen, "Invalid filter pattern: unterminated quoted term.");
                return -1;
            }
        } else {
            read_bare(p, len, &i, t);
        }
        f->any |= t->kind == TERM_ANY;
        f->n++;
    }
}

int logs_filter_parse(const char *pattern, size_t len, logs_filter_t **out, char *err,
                      size_t errlen)
{
    logs_filter_t *f = xcalloc(1, sizeof(*f));
    size_t a = 0, b = len;
    int rc = -1;
    while (a < b && blank(pattern[a]))
        a++;
    while (b > a && blank(pattern[b - 1]))
        b--;
    if (len > LOGS_FILTER_MAX) {
        snprintf(err, errlen, "Invalid filter pattern: longer than %d characters.",
                 LOGS_FILTER_MAX);
        goto out;
    }
    if (b > a && (pattern[a] == '{' || pattern[a] == '[')) {
        snprintf(err, errlen,
                 "JSON and space-delimited filter patterns are not supported by nagare; use "
                 "terms, quoted phrases, ?terms, -terms or a %%regex%%.");
        goto out;
    }
    if (b - a >= 2 && pattern[a] == '%' && pattern[b - 1] == '%')
        rc = parse_regex(f, pattern + a, b - a, err, errlen);
    else
        rc = parse_terms(f, pattern + a, b - a, err, errlen);
out:
    if (rc < 0) {
        logs_filter_free(f);
        return -1;
    }
    *out = f;
    return 0;
}

bool logs_filter_match(const logs_filter_t *f, const char *msg, size_t len)
{
    if (f->regex)
        return regexec(&f->re, msg, 0, NULL, 0) == 0;
    bool any = false;
    for (size_t i = 0; i < f->n; i++) {
        const term_t *t = &f->terms[i];
        bool found = t->len == 0 || memmem(msg, len, t->text, t->len) != NULL;
        if (t->kind == TERM_ALL && !found)
            return false;
        if (t->kind == TERM_NOT && found)
            return false;
        any |= t->kind == TERM_ANY && found;
    }
    return !f->any || any;
}

void logs_filter_free(logs_filter_t *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        free(f->terms[i].text);
    if (f->regex)
        regfree(&f->re);
    free(f);
}
