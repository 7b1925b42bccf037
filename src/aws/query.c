/*
 * query — the AWS query protocol: form parameters in, XML out.
 *
 * Decoding walks the operation's input shape and looks each member up by the
 * name botocore's QuerySerializer would give it (member locationName, ".N"
 * list indices, "member"/"entry" wrappers unless flattened, map key/value
 * names), so one table-driven routine serves every query action of every
 * service. Encoding walks the output shape the same way to produce the XML
 * that botocore's XML parser reads. See codec.h.
 */
#include "aws/codec.h"
#include "base/hex.h"
#include "base/xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Form parameters: the decoded pairs, plus every dotted prefix of every key,
 * so "does anything live under Entry.3?" is one hash lookup. */
typedef struct form {
    json_t *pairs;
    json_t *prefixes;
} form_t;

size_t codec_url_decode(const char *s, size_t len, char *out, bool plus_is_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+' && plus_is_space) {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < len && hex_digit(s[i + 1]) >= 0 &&
                   hex_digit(s[i + 2]) >= 0) {
            out[o++] = (char)(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    return o;
}

json_t *codec_form_parse(const char *form, size_t len)
{
    json_t *obj = json_object();
    char *tmp = xmalloc(len + 1);
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && form[end] != '&')
            end++;
        size_t eq = i;
        while (eq < end && form[eq] != '=')
            eq++;
        if (end > i) {
            size_t klen = codec_url_decode(form + i, eq - i, tmp, true);
            char *key = xmemdup(tmp, klen);
            size_t vlen = eq < end ? codec_url_decode(form + eq + 1, end - eq - 1, tmp, true) : 0;
            json_object_setn_new_nocheck(obj, key, klen, json_stringn_nocheck(tmp, vlen));
            free(key);
        }
        i = end + 1;
    }
    free(tmp);
    return obj;
}

#define MAX_KEY_LEN 256

static void form_index(form_t *f)
{
    const char *key;
    json_t *v;
    f->prefixes = json_object();
    json_object_foreach(f->pairs, key, v)
    {
        size_t len = strlen(key);
        /* Every prefix is a copy: a long key of many dots would cost its
         * length squared. No name in any model comes near this bound. */
        if (len > MAX_KEY_LEN)
            continue;
        for (size_t i = 0; i <= len; i++)
            if (key[i] == '.' || key[i] == '\0')
                json_object_setn_new_nocheck(f->prefixes, key, i, json_true());
    }
}

static const char *form_get(const form_t *f, const char *key, size_t *len)
{
    json_t *v = json_object_get(f->pairs, key);
    if (!v)
        return NULL;
    *len = json_string_length(v);
    return json_string_value(v);
}

static int parse_scalar(const model_shape_t *sh, const char *name, const char *s, size_t len,
                        json_t **out, aws_error_t *err)
{
    char *end;
    switch (sh->type) {
    case MODEL_INTEGER:
    case MODEL_LONG:
    case MODEL_TIMESTAMP: {
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (len == 0 || end != s + len || errno)
            return aws_error_set(err, 400, "InvalidParameterValue",
                                 "Value %.*s for parameter %s is invalid. Reason: must be an "
                                 "integer value.",
                                 (int)(len > 64 ? 64 : len), s, name);
        *out = json_integer(v);
        return 0;
    }
    case MODEL_DOUBLE:
        *out = json_real(strtod(s, NULL));
        return 0;
    case MODEL_BOOLEAN:
        if (len == 4 && !strncasecmp(s, "true", 4))
            *out = json_true();
        else if (len == 5 && !strncasecmp(s, "false", 5))
            *out = json_false();
        else
            return aws_error_set(err, 400, "InvalidParameterValue",
                                 "Value %.*s for parameter %s is invalid. Reason: must be a "
                                 "boolean.",
                                 (int)(len > 64 ? 64 : len), s, name);
        return 0;
    default:
        *out = json_stringn_nocheck(s, len);
        return 0;
    }
}

static int decode_shape(const model_service_t *svc, const form_t *f, int idx, buf_t *prefix,
                        json_t **out, aws_error_t *err);

/* The name a structure member goes by under prefix (botocore's rules). */
static void member_name(const model_service_t *svc, const model_member_t *m, buf_t *name)
{
    const model_shape_t *sh = model_shape(svc, m->shape);
    const char *n = m->loc ? m->loc : m->name;
    if (sh->type == MODEL_LIST && sh->flattened && sh->member_loc)
        n = sh->member_loc;
    if (name->len)
        buf_putc(name, '.');
    buf_puts(name, n);
}

/* botocore sends an empty list as its member name with an empty value
 * ("Entries="), so that the service can tell [] from absent. */
static bool empty_list(const model_service_t *svc, const form_t *f, const model_member_t *m,
                       buf_t *prefix, size_t base)
{
    size_t len;
    if (model_shape(svc, m->shape)->type != MODEL_LIST)
        return false;
    prefix->len = base;
    prefix->data[base] = '\0';
    if (base)
        buf_putc(prefix, '.');
    buf_puts(prefix, m->loc ? m->loc : m->name);
    const char *v = form_get(f, prefix->data, &len);
    return v && len == 0;
}

static int decode_struct(const model_service_t *svc, const form_t *f, const model_shape_t *sh,
                         buf_t *prefix, json_t **out, aws_error_t *err)
{
    json_t *obj = json_object();
    size_t base = prefix->len;
    bool present = base == 0 || json_object_get(f->prefixes, prefix->data);
    int rc = -1;
    for (int i = 0; i < sh->n_members; i++) {
        const model_member_t *m = &sh->members[i];
        json_t *v = NULL;
        prefix->len = base;
        prefix->data[base] = '\0';
        member_name(svc, m, prefix);
        if (decode_shape(svc, f, m->shape, prefix, &v, err) < 0)
            goto out;
        if (!v && empty_list(svc, f, m, prefix, base))
            v = json_array();
        if (v)
            json_object_set_new(obj, m->name, v);
        else if (m->required && present)
            goto missing;
    }
    rc = 0;
    goto out;
missing:
    aws_error_set(err, 400, "MissingParameter", "The request must contain the parameter %s.",
                  prefix->data);
out:
    prefix->len = base;
    prefix->data[base] = '\0';
    if (rc < 0 || (json_object_size(obj) == 0 && base != 0)) {
        json_decref(obj);
        obj = NULL;
    }
    *out = obj;
    return rc;
}

static int decode_list(const model_service_t *svc, const form_t *f, const model_shape_t *sh,
                       buf_t *prefix, json_t **out, aws_error_t *err)
{
    size_t base = prefix->len;
    if (!sh->flattened)
        buf_printf(prefix, ".%s", sh->member_loc ? sh->member_loc : "member");
    size_t list_base = prefix->len;
    json_t *arr = NULL;
    int rc = 0;
    for (size_t i = 1;; i++) {
        prefix->len = list_base;
        buf_printf(prefix, ".%zu", i);
        if (!json_object_get(f->prefixes, prefix->data))
            break;
        json_t *v = NULL;
        rc = decode_shape(svc, f, sh->member, prefix, &v, err);
        if (rc < 0)
            break;
        if (!arr)
            arr = json_array();
        json_array_append_new(arr, v ? v : json_null());
    }
    prefix->len = base;
    prefix->data[base] = '\0';
    if (rc < 0) {
        json_decref(arr);
        arr = NULL;
    }
    *out = arr;
    return rc;
}

static int decode_map(const model_service_t *svc, const form_t *f, const model_shape_t *sh,
                      buf_t *prefix, json_t **out, aws_error_t *err)
{
    size_t base = prefix->len;
    if (!sh->flattened)
        buf_puts(prefix, ".entry");
    size_t map_base = prefix->len;
    json_t *obj = NULL;
    int rc = 0;
    for (size_t i = 1;; i++) {
        prefix->len = map_base;
        buf_printf(prefix, ".%zu", i);
        if (!json_object_get(f->prefixes, prefix->data))
            break;
        size_t entry = prefix->len, klen = 0;
        buf_printf(prefix, ".%s", sh->key_loc ? sh->key_loc : "key");
        const char *k = form_get(f, prefix->data, &klen);
        prefix->len = entry;
        buf_printf(prefix, ".%s", sh->value_loc ? sh->value_loc : "value");
        json_t *v = NULL;
        rc = decode_shape(svc, f, sh->value, prefix, &v, err);
        if (rc < 0)
            break;
        if (!obj)
            obj = json_object();
        if (k)
            json_object_setn_new_nocheck(obj, k, klen, v ? v : json_null());
        else
            json_decref(v);
    }
    prefix->len = base;
    prefix->data[base] = '\0';
    if (rc < 0) {
        json_decref(obj);
        obj = NULL;
    }
    *out = obj;
    return rc;
}

static int decode_shape(const model_service_t *svc, const form_t *f, int idx, buf_t *prefix,
                        json_t **out, aws_error_t *err)
{
    const model_shape_t *sh = model_shape(svc, idx);
    size_t len;
    const char *s;
    *out = NULL;
    switch (sh->type) {
    case MODEL_STRUCTURE:
        return decode_struct(svc, f, sh, prefix, out, err);
    case MODEL_LIST:
        return decode_list(svc, f, sh, prefix, out, err);
    case MODEL_MAP:
        return decode_map(svc, f, sh, prefix, out, err);
    default:
        s = form_get(f, prefix->data, &len);
        return s ? parse_scalar(sh, prefix->data, s, len, out, err) : 0;
    }
}

int codec_query_decode(const model_service_t *svc, const model_op_t *op, json_t *form, json_t **out,
                       aws_error_t *err)
{
    form_t f = {form, NULL};
    buf_t prefix;
    json_t *obj = NULL;
    int rc;
    if (op->input < 0) {
        *out = json_object();
        return 0;
    }
    form_index(&f);
    buf_init(&prefix, 0);
    buf_puts(&prefix, "");
    rc = decode_shape(svc, &f, op->input, &prefix, &obj, err);
    buf_free(&prefix);
    json_decref(f.prefixes);
    if (rc < 0)
        return -1;
    *out = obj ? obj : json_object();
    return 0;
}

/* ---- XML out ---------------------------------------------------------- */

void codec_xml_escape(buf_t *out, const char *s, size_t len)
{
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        case '\r':
            rep = "&#xD;";
            break; /* XML parsers fold a bare CR into LF */
        case '\t':
        case '\n':
            continue;
        default:
            /* XML 1.0 cannot carry other control characters at all, not even
             * as references: they become U+FFFD rather than break the document. */
            if ((unsigned char)s[i] >= 0x20)
                continue;
            rep = "&#xFFFD;";
            break;
        }
        buf_append(out, s + run, i - run);
        buf_puts(out, rep);
        run = i + 1;
    }
    buf_append(out, s + run, len - run);
}

static void encode_value(const model_service_t *svc, int idx, const char *tag, const json_t *v,
                         buf_t *out);

static void open_tag(buf_t *out, const char *tag)
{
    buf_printf(out, "<%s>", tag);
}

static void close_tag(buf_t *out, const char *tag)
{
    buf_printf(out, "</%s>", tag);
}

static void encode_members(const model_service_t *svc, const model_shape_t *sh, const json_t *v,
                           buf_t *out)
{
    for (int i = 0; i < sh->n_members; i++) {
        const model_member_t *m = &sh->members[i];
        const json_t *mv = json_object_get(v, m->name);
        if (!mv || json_is_null(mv))
            continue;
        encode_value(svc, m->shape, m->loc ? m->loc : m->name, mv, out);
    }
}

static void encode_list(const model_service_t *svc, const model_shape_t *sh, const char *tag,
                        const json_t *v, buf_t *out)
{
    size_t i;
    const json_t *el;
    if (sh->flattened) {
        const char *etag = sh->member_loc ? sh->member_loc : tag;
        json_array_foreach(v, i, el) encode_value(svc, sh->member, etag, el, out);
        return;
    }
    open_tag(out, tag);
    json_array_foreach(v, i, el)
        encode_value(svc, sh->member, sh->member_loc ? sh->member_loc : "member", el, out);
    close_tag(out, tag);
}

static void encode_map(const model_service_t *svc, const model_shape_t *sh, const char *tag,
                       const json_t *v, buf_t *out)
{
    const char *k;
    const json_t *mv;
    const char *ktag = sh->key_loc ? sh->key_loc : "key";
    const char *etag = sh->flattened ? tag : "entry";
    if (!sh->flattened)
        open_tag(out, tag);
    json_object_foreach((json_t *)v, k, mv)
    {
        open_tag(out, etag);
        open_tag(out, ktag);
        codec_xml_escape(out, k, strlen(k));
        close_tag(out, ktag);
        encode_value(svc, sh->value, sh->value_loc ? sh->value_loc : "value", mv, out);
        close_tag(out, etag);
    }
    if (!sh->flattened)
        close_tag(out, tag);
}

static void encode_value(const model_service_t *svc, int idx, const char *tag, const json_t *v,
                         buf_t *out)
{
    const model_shape_t *sh = model_shape(svc, idx);
    switch (sh->type) {
    case MODEL_STRUCTURE:
        open_tag(out, tag);
        encode_members(svc, sh, v, out);
        close_tag(out, tag);
        return;
    case MODEL_LIST:
        encode_list(svc, sh, tag, v, out);
        return;
    case MODEL_MAP:
        encode_map(svc, sh, tag, v, out);
        return;
    default:
        break;
    }
    open_tag(out, tag);
    if (json_is_string(v))
        codec_xml_escape(out, json_string_value(v), json_string_length(v));
    else if (json_is_integer(v))
        buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_boolean(v))
        buf_puts(out, json_is_true(v) ? "true" : "false");
    else if (json_is_real(v))
        buf_printf(out, "%.17g", json_real_value(v));
    close_tag(out, tag);
}

void codec_query_encode(const model_service_t *svc, const model_op_t *op, const json_t *output,
                        const char *request_id, buf_t *out)
{
    buf_printf(out, "<?xml version=\"1.0\"?><%sResponse xmlns=\"%s\">", op->name,
               svc->xml_ns ? svc->xml_ns : "");
    if (op->output >= 0 && op->result_wrapper) {
        const model_shape_t *sh = model_shape(svc, op->output);
        open_tag(out, op->result_wrapper);
        if (output)
            encode_members(svc, sh, output, out);
        close_tag(out, op->result_wrapper);
    }
    buf_printf(out, "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>",
               request_id, op->name);
}

const char *codec_error_query_code(const model_service_t *svc, const aws_error_t *err)
{
    if (err->query_code)
        return err->query_code;
    const model_shape_t *sh = svc ? model_error_find(svc, err->code) : NULL;
    return sh && sh->error_code ? sh->error_code : err->code;
}

void codec_query_error(const model_service_t *svc, const aws_error_t *err, const char *request_id,
                       buf_t *out)
{
    buf_printf(out, "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"%s\"><Error><Type>%s</Type>",
               svc && svc->xml_ns ? svc->xml_ns : "", err->sender ? "Sender" : "Receiver");
    buf_puts(out, "<Code>");
    const char *code = codec_error_query_code(svc, err);
    codec_xml_escape(out, code, strlen(code));
    buf_puts(out, "</Code><Message>");
    codec_xml_escape(out, err->message, strlen(err->message));
    buf_printf(out, "</Message><Detail/></Error><RequestId>%s</RequestId></ErrorResponse>",
               request_id);
}
