/*
 * dirrec — the directory's journal records: one text record per entity or
 * managed policy, written whole on every change and read back at start-up.
 *
 * A record is lines of tab-separated fields, the first naming the line:
 *
 *   name<TAB>Bob            key<TAB>AKIA...<TAB>secret<TAB>Active<TAB>1700000000000
 *   inline<TAB>Send<TAB>{"Version":...}     version<TAB>v2<TAB>1700000000000<TAB>{...}
 *
 * Within a field, backslash, tab, newline and carriage return are escaped as
 * \\ \t \n \r, so policy documents keep their exact text. Unknown lines are
 * skipped (a newer nagare may add some). Reading is strict otherwise: a record
 * whose names, ids or documents do not pass the checks the API applies is
 * refused whole, so a damaged database cannot smuggle in what the API would
 * not accept. fuzz/fuzz_iam_restore.c drives the reader.
 */
#include "iam/directory_int.h"
#include "base/xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FIELDS 5
#define RECORD_MAX (256 * 1024) /* 5 versions of 6144 characters, escaped, and then some */

/* ---- writing ------------------------------------------------------------------------------ */

static void put_field(buf_t *b, const char *s)
{
    for (; *s; s++) {
        const char *esc = *s == '\\'   ? "\\\\"
                          : *s == '\t' ? "\\t"
                          : *s == '\n' ? "\\n"
                          : *s == '\r' ? "\\r"
                                       : NULL;
        if (esc)
            buf_puts(b, esc);
        else
            buf_putc(b, *s);
    }
}

/* Writes one line: tag and n fields (strings; NULL ends early). */
static void put_line(buf_t *b, const char *tag, int n, ...)
{
    va_list ap;
    buf_puts(b, tag);
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const char *f = va_arg(ap, const char *);
        buf_putc(b, '\t');
        put_field(b, f ? f : "");
    }
    va_end(ap);
    buf_putc(b, '\n');
}

static const char *u64s(uint64_t v, char buf[24])
{
    snprintf(buf, 24, "%" PRIu64, v);
    return buf;
}

static void put_tags(buf_t *b, const iam_dir_tag_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_line(b, "tag", 2, t[i].key, t[i].value);
}

void dir_rec_entity(const iam_dir_entity_t *e, buf_t *b)
{
    char num[24];
    put_line(b, "name", 1, e->name);
    put_line(b, "path", 1, e->path);
    put_line(b, "id", 1, e->id);
    put_line(b, "created", 1, u64s(e->create_ms, num));
    if (e->boundary)
        put_line(b, "boundary", 1, e->boundary);
    put_tags(b, e->tags, e->n_tags);
    for (size_t i = 0; i < e->n_attached; i++)
        put_line(b, "attached", 1, e->attached[i]);
    for (size_t i = 0; i < e->n_inline; i++)
        put_line(b, "inline", 2, e->inl[i].name, e->inl[i].text);
    if (e->kind == IAM_DIR_USER) {
        const iam_dir_user_t *u = (const iam_dir_user_t *)e;
        for (size_t i = 0; i < u->n_keys; i++)
            put_line(b, "key", 4, u->keys[i].id, u->keys[i].secret,
                     u->keys[i].active ? "Active" : "Inactive", u64s(u->keys[i].create_ms, num));
        for (size_t i = 0; i < u->n_groups; i++)
            put_line(b, "group", 1, u->groups[i]);
    } else if (e->kind == IAM_DIR_ROLE) {
        const iam_dir_role_t *r = (const iam_dir_role_t *)e;
        put_line(b, "trust", 1, r->trust_text);
        put_line(b, "max-session", 1, u64s((uint64_t)r->max_session, num));
        if (r->description)
            put_line(b, "description", 1, r->description);
    }
}

void dir_rec_policy(const iam_dir_policy_t *p, buf_t *b)
{
    char num[24];
    put_line(b, "name", 1, p->name);
    put_line(b, "path", 1, p->path);
    put_line(b, "id", 1, p->id);
    put_line(b, "created", 1, u64s(p->create_ms, num));
    put_line(b, "updated", 1, u64s(p->update_ms, num));
    if (p->description)
        put_line(b, "description", 1, p->description);
    put_line(b, "next", 1, u64s(p->next, num));
    put_tags(b, p->tags, p->n_tags);
    for (size_t i = 0; i < p->n_versions; i++)
        put_line(b, "version", 3, p->versions[i].id, u64s(p->versions[i].create_ms, num),
                 p->versions[i].text);
    put_line(b, "default", 1, p->versions[p->def].id);
}

/* ---- reading ------------------------------------------------------------------------------ */

typedef struct line {
    char *f[MAX_FIELDS + 1]; /* tag and fields, unescaped */
    size_t n;
} line_t;

static void line_clear(line_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->f[i]);
    l->n = 0;
}

/* Unescapes s[0..n) into a new string; NULL for a bad escape or a NUL byte. */
static char *unescape(const char *s, size_t n)
{
    char *out = xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\') {
            c = ++i < n ? s[i] : '\0';
            c = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c == '\\' ? '\\' : '\0';
        }
        if (c == '\0') {
            free(out);
            return NULL;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

/* Splits the line at *pos (up to '\n' or end) into l; advances *pos. -1 when damaged. */
static int line_read(const char *text, size_t len, size_t *pos, line_t *l)
{
    size_t start = *pos, end = start;
    while (end < len && text[end] != '\n')
        end++;
    *pos = end < len ? end + 1 : end;
    l->n = 0;
    for (size_t s = start; s <= end;) {
        size_t e = s;
        while (e < end && text[e] != '\t')
            e++;
        if (l->n > MAX_FIELDS)
            return -1;
        l->f[l->n] = unescape(text + s, e - s);
        if (!l->f[l->n])
            return -1;
        l->n++;
        s = e + 1;
    }
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

static int take(char **dst, char **src)
{
    if (*dst)
        return -1; /* a field given twice */
    *dst = *src;
    *src = NULL;
    return 0;
}

static int take_tag(iam_dir_tag_t **tags, size_t *n, char **f)
{
    if (*n >= IAM_DIR_TAGS_MAX)
        return -1;
    *tags = xrealloc(*tags, (*n + 1) * sizeof(**tags));
    (*tags)[*n] = (iam_dir_tag_t){f[1], f[2]};
    f[1] = f[2] = NULL;
    (*n)++;
    return 0;
}

/* ---- entity lines -------------------------------------------------------------------- */

typedef struct ent_line {
    const char *tag;
    size_t n_fields;
    unsigned kinds; /* bit per iam_dir_kind_t */
    int (*fn)(iam_dir_entity_t *e, char **f);
} ent_line_t;

#define ALL    7u
#define USERS  (1u << IAM_DIR_USER)
#define ROLES  (1u << IAM_DIR_ROLE)
#define TAGGED (USERS | ROLES)

static int e_name(iam_dir_entity_t *e, char **f)
{
    return take(&e->name, &f[1]);
}
static int e_path(iam_dir_entity_t *e, char **f)
{
    return take(&e->path, &f[1]);
}
static int e_id(iam_dir_entity_t *e, char **f)
{
    return take(&e->id, &f[1]);
}
static int e_boundary(iam_dir_entity_t *e, char **f)
{
    return take(&e->boundary, &f[1]);
}

static int e_created(iam_dir_entity_t *e, char **f)
{
    return parse_u64(f[1], &e->create_ms);
}

static int e_tag(iam_dir_entity_t *e, char **f)
{
    return take_tag(&e->tags, &e->n_tags, f);
}

/* Appends the string *s (taken over) to an array of at most max strings. */
static int push(char ***a, size_t *n, size_t max, char **s)
{
    if (*n >= max)
        return -1;
    *a = xrealloc(*a, (*n + 1) * sizeof(char *));
    (*a)[(*n)++] = *s;
    *s = NULL;
    return 0;
}

static int e_attached(iam_dir_entity_t *e, char **f)
{
    return push(&e->attached, &e->n_attached, IAM_DIR_ATTACHED_MAX, &f[1]);
}

static int e_inline(iam_dir_entity_t *e, char **f)
{
    iam_policy_t *pol;
    aws_error_t err;
    for (size_t i = 0; i < e->n_inline; i++)
        if (!strcasecmp(e->inl[i].name, f[1]))
            return -1;
    if (dir_name_check(f[1], "policyName", 128, &err) < 0 ||
        dir_parse(f[2], IAM_POLICY_IDENTITY, &pol, &err) < 0)
        return -1;
    /* Appended in record order; the writer wrote them sorted. */
    if (e->n_inline && strcasecmp(e->inl[e->n_inline - 1].name, f[1]) > 0) {
        iam_policy_free(pol);
        return -1;
    }
    e->inl = xrealloc(e->inl, (e->n_inline + 1) * sizeof(*e->inl));
    e->inl[e->n_inline++] = (iam_dir_inline_t){.name = f[1], .text = f[2], .policy = pol};
    f[1] = f[2] = NULL;
    return 0;
}

static int u_key(iam_dir_entity_t *e, char **f)
{
    iam_dir_user_t *u = (iam_dir_user_t *)e;
    bool active = !strcmp(f[3], "Active");
    if (u->n_keys >= IAM_DIR_KEYS_PER_USER || strlen(f[1]) != 20 || strncmp(f[1], "AKIA", 4) ||
        strlen(f[2]) != 40 || (!active && strcmp(f[3], "Inactive")))
        return -1;
    iam_dir_akey_t *k = &u->keys[u->n_keys];
    snprintf(k->id, sizeof(k->id), "%s", f[1]);
    snprintf(k->secret, sizeof(k->secret), "%s", f[2]);
    k->active = active;
    if (parse_u64(f[4], &k->create_ms) < 0)
        return -1;
    u->n_keys++;
    return 0;
}

static int u_group(iam_dir_entity_t *e, char **f)
{
    iam_dir_user_t *u = (iam_dir_user_t *)e;
    aws_error_t err;
    if (iam_dir_group_has(u, f[1]) || dir_name_check(f[1], "groupName", 128, &err) < 0)
        return -1;
    return push(&u->groups, &u->n_groups, IAM_DIR_GROUPS_PER_USER, &f[1]);
}

static int r_trust(iam_dir_entity_t *e, char **f)
{
    iam_dir_role_t *r = (iam_dir_role_t *)e;
    aws_error_t err;
    if (r->trust_text || dir_parse(f[1], IAM_POLICY_TRUST, &r->trust, &err) < 0)
        return -1;
    return take(&r->trust_text, &f[1]);
}

static int r_description(iam_dir_entity_t *e, char **f)
{
    return take(&((iam_dir_role_t *)e)->description, &f[1]);
}

static int r_session(iam_dir_entity_t *e, char **f)
{
    uint64_t v;
    if (parse_u64(f[1], &v) < 0 || v < IAM_DIR_SESSION_MIN || v > IAM_DIR_SESSION_MAX)
        return -1;
    ((iam_dir_role_t *)e)->max_session = (int)v;
    return 0;
}

static const ent_line_t ent_lines[] = {
    {"name", 1, ALL, e_name},
    {"path", 1, ALL, e_path},
    {"id", 1, ALL, e_id},
    {"created", 1, ALL, e_created},
    {"boundary", 1, TAGGED, e_boundary},
    {"tag", 2, TAGGED, e_tag},
    {"attached", 1, ALL, e_attached},
    {"inline", 2, ALL, e_inline},
    {"key", 4, USERS, u_key},
    {"group", 1, USERS, u_group},
    {"trust", 1, ROLES, r_trust},
    {"max-session", 1, ROLES, r_session},
    {"description", 1, ROLES, r_description},
};

/* The checks the API applies, for what a record brought. */
static int entity_valid(const iam_dir_entity_t *e)
{
    const kind_info_t *k = &dir_kind_info[e->kind];
    aws_error_t err;
    if (!e->name || !e->path || !e->id ||
        dir_name_check(e->name, k->name_field, k->name_max, &err) < 0 ||
        dir_path_check(e->path, &err) < 0 || strlen(e->id) != 21 ||
        strncmp(e->id, k->id_prefix, 4) || dir_tags_check(e->tags, e->n_tags, &err) < 0)
        return -1;
    if (e->kind == IAM_DIR_ROLE && !((const iam_dir_role_t *)e)->trust)
        return -1;
    return 0;
}

/* Runs one line through a table: -1 for a known line whose fields do not fit. */
static int dispatch_entity(iam_dir_entity_t *e, line_t *l)
{
    for (size_t i = 0; i < sizeof(ent_lines) / sizeof(ent_lines[0]); i++) {
        const ent_line_t *t = &ent_lines[i];
        if (strcmp(t->tag, l->f[0]))
            continue;
        if (!(t->kinds & (1u << e->kind)) || l->n != t->n_fields + 1)
            return -1;
        return t->fn(e, l->f);
    }
    return 0;
}

iam_dir_entity_t *dir_rec_entity_parse(iam_dir_kind_t kind, const char *account, const char *text,
                                       size_t len)
{
    iam_dir_entity_t *e = xcalloc(1, dir_kind_info[kind].size);
    size_t pos = 0;
    int rc = len > RECORD_MAX ? -1 : 0;
    e->kind = kind;
    snprintf(e->account, sizeof(e->account), "%s", account);
    if (kind == IAM_DIR_ROLE)
        ((iam_dir_role_t *)e)->max_session = IAM_DIR_SESSION_DEFAULT;
    while (rc == 0 && pos < len) {
        line_t l = {0};
        rc = line_read(text, len, &pos, &l);
        if (rc == 0 && l.n && l.f[0][0])
            rc = dispatch_entity(e, &l);
        line_clear(&l);
    }
    if (rc < 0 || entity_valid(e) < 0) {
        dir_entity_free(e);
        return NULL;
    }
    dir_entity_derive(e);
    return e;
}

/* ---- policy lines --------------------------------------------------------------------- */

typedef struct pol_read {
    iam_dir_policy_t *p;
    char *def;
    bool have_next;
} pol_read_t;

typedef struct pol_line {
    const char *tag;
    size_t n_fields;
    int (*fn)(pol_read_t *r, char **f);
} pol_line_t;

static int p_name(pol_read_t *r, char **f)
{
    return take(&r->p->name, &f[1]);
}
static int p_path(pol_read_t *r, char **f)
{
    return take(&r->p->path, &f[1]);
}
static int p_id(pol_read_t *r, char **f)
{
    return take(&r->p->id, &f[1]);
}
static int p_description(pol_read_t *r, char **f)
{
    return take(&r->p->description, &f[1]);
}
static int p_default(pol_read_t *r, char **f)
{
    return take(&r->def, &f[1]);
}

static int p_created(pol_read_t *r, char **f)
{
    return parse_u64(f[1], &r->p->create_ms);
}

static int p_updated(pol_read_t *r, char **f)
{
    return parse_u64(f[1], &r->p->update_ms);
}

static int p_next(pol_read_t *r, char **f)
{
    uint64_t v;
    if (parse_u64(f[1], &v) < 0 || v < 2 || v > 1000000)
        return -1;
    r->p->next = (unsigned)v;
    r->have_next = true;
    return 0;
}

static int p_tag(pol_read_t *r, char **f)
{
    return take_tag(&r->p->tags, &r->p->n_tags, f);
}

static int p_version(pol_read_t *r, char **f)
{
    iam_dir_policy_t *p = r->p;
    iam_policy_t *pol;
    aws_error_t err;
    uint64_t created, num;
    if (p->n_versions >= IAM_DIR_VERSIONS_MAX || f[1][0] != 'v' || parse_u64(f[1] + 1, &num) < 0 ||
        num == 0 || strlen(f[1]) >= sizeof(p->versions->id) || parse_u64(f[2], &created) < 0)
        return -1;
    for (size_t i = 0; i < p->n_versions; i++)
        if (!strcmp(p->versions[i].id, f[1]))
            return -1;
    if (dir_parse(f[3], IAM_POLICY_IDENTITY, &pol, &err) < 0)
        return -1;
    p->versions = xrealloc(p->versions, (p->n_versions + 1) * sizeof(*p->versions));
    iam_dir_version_t *v = &p->versions[p->n_versions++];
    *v = (iam_dir_version_t){.text = f[3], .policy = pol, .create_ms = created};
    snprintf(v->id, sizeof(v->id), "%s", f[1]);
    f[3] = NULL;
    return 0;
}

static const pol_line_t pol_lines[] = {
    {"name", 1, p_name},       {"path", 1, p_path},       {"id", 1, p_id},
    {"created", 1, p_created}, {"updated", 1, p_updated}, {"description", 1, p_description},
    {"next", 1, p_next},       {"tag", 2, p_tag},         {"version", 3, p_version},
    {"default", 1, p_default},
};

static int dispatch_policy(pol_read_t *r, line_t *l)
{
    for (size_t i = 0; i < sizeof(pol_lines) / sizeof(pol_lines[0]); i++) {
        if (strcmp(pol_lines[i].tag, l->f[0]))
            continue;
        if (l->n != pol_lines[i].n_fields + 1)
            return -1;
        return pol_lines[i].fn(r, l->f);
    }
    return 0;
}

/* Checks what a policy record brought and settles its default version. */
static int policy_finish(pol_read_t *r)
{
    iam_dir_policy_t *p = r->p;
    aws_error_t err;
    if (!p->name || !p->path || !p->id || !r->def || !p->n_versions || !r->have_next ||
        dir_name_check(p->name, "policyName", 128, &err) < 0 || dir_path_check(p->path, &err) < 0 ||
        strlen(p->id) != 21 || strncmp(p->id, "ANPA", 4) ||
        dir_tags_check(p->tags, p->n_tags, &err) < 0)
        return -1;
    for (size_t i = 0; i < p->n_versions; i++) {
        if (strtoull(p->versions[i].id + 1, NULL, 10) >= p->next)
            return -1; /* the next version would collide */
        if (!strcmp(p->versions[i].id, r->def)) {
            p->def = i;
            return 0;
        }
    }
    return -1;
}

iam_dir_policy_t *dir_rec_policy_parse(const char *account, const char *text, size_t len)
{
    pol_read_t r = {xcalloc(1, sizeof(iam_dir_policy_t)), NULL, false};
    size_t pos = 0;
    int rc = len > RECORD_MAX ? -1 : 0;
    snprintf(r.p->account, sizeof(r.p->account), "%s", account);
    while (rc == 0 && pos < len) {
        line_t l = {0};
        rc = line_read(text, len, &pos, &l);
        if (rc == 0 && l.n && l.f[0][0])
            rc = dispatch_policy(&r, &l);
        line_clear(&l);
    }
    if (rc == 0)
        rc = policy_finish(&r);
    free(r.def);
    if (rc < 0) {
        dir_policy_free(r.p);
        return NULL;
    }
    dir_policy_derive(r.p);
    return r.p;
}
