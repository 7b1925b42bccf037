/*
 * awsjson — the AWS JSON 1.0/1.1 protocol: parse and validate, dump, errors.
 *
 * Input is checked against the operation's input shape: types must match
 * (a string where an integer belongs is a SerializationException, as AWS's
 * JSON services answer) and required members must be present. Unknown members
 * are ignored, as AWS does. See codec.h.
 */
#include "aws/codec.h"
#include "aws/jsonread.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int type_ok(const model_shape_t *sh, const json_t *v)
{
    switch (sh->type) {
    case MODEL_STRUCTURE:
    case MODEL_MAP:
        return json_is_object(v);
    case MODEL_LIST:
        return json_is_array(v);
    case MODEL_STRING:
    case MODEL_BLOB:
        return json_is_string(v);
    case MODEL_INTEGER:
    case MODEL_LONG:
        return json_is_integer(v);
    case MODEL_BOOLEAN:
        return json_is_boolean(v);
    case MODEL_TIMESTAMP:
    case MODEL_DOUBLE:
        return json_is_number(v);
    }
    return 0;
}

static int validate(const model_service_t *svc, int idx, const char *path, const json_t *v,
                    aws_error_t *err, int depth, bool in_order);

/* A structure's members in model order, each looked up in v: the first member
 * missing while required, or invalid, is the error AWS reports. Below it every
 * structure is walked in order too, so an error costs linear time. */
static int validate_struct_in_order(const model_service_t *svc, const model_shape_t *sh,
                                    const json_t *v, aws_error_t *err, int depth)
{
    for (int i = 0; i < sh->n_members; i++) {
        const model_member_t *m = &sh->members[i];
        const json_t *mv = json_object_get(v, m->name);
        if (!mv) {
            if (m->required)
                return aws_error_set(err, 400, "MissingParameter",
                                     "The request must contain the parameter %s.", m->name);
            continue;
        }
        if (validate(svc, m->shape, m->name, mv, err, depth + 1, true) < 0)
            return -1;
    }
    return 0;
}

static int member_index(const model_shape_t *sh, const char *name)
{
    for (int i = 0; i < sh->n_members; i++)
        if (!strcmp(sh->members[i].name, name))
            return i;
    return -1;
}

/* The same verdict as validate_struct_in_order, from the members present: a
 * request carries a few of a structure's members, and a hash lookup for each
 * member of the model (eight per SendMessageBatch entry) showed in profiles.
 * On any error the in-order walk runs again, so the error reported is the one
 * it would have chosen. */
static int validate_struct(const model_service_t *svc, const model_shape_t *sh, const json_t *v,
                           aws_error_t *err, int depth)
{
    uint64_t seen = 0;
    const char *k;
    const json_t *mv;
    if (sh->n_members > 64)
        return validate_struct_in_order(svc, sh, v, err, depth);
    json_object_foreach((json_t *)v, k, mv)
    {
        int i = member_index(sh, k);
        if (i < 0)
            continue;
        seen |= 1ull << i;
        if (validate(svc, sh->members[i].shape, k, mv, err, depth + 1, false) < 0)
            return validate_struct_in_order(svc, sh, v, err, depth);
    }
    for (int i = 0; i < sh->n_members; i++)
        if (sh->members[i].required && !(seen & (1ull << i)))
            return validate_struct_in_order(svc, sh, v, err, depth);
    return 0;
}

static int validate(const model_service_t *svc, int idx, const char *path, const json_t *v,
                    aws_error_t *err, int depth, bool in_order)
{
    const model_shape_t *sh = model_shape(svc, idx);
    if (json_is_null(v))
        return 0;
    if (depth > 32 || !type_ok(sh, v))
        return aws_error_set(err, 400, "SerializationException",
                             "Start of structure or map found where not expected at %s.", path);
    if (sh->type == MODEL_STRUCTURE) {
        if ((in_order ? validate_struct_in_order : validate_struct)(svc, sh, v, err, depth) < 0)
            return -1;
    } else if (sh->type == MODEL_LIST) {
        size_t i;
        const json_t *el;
        json_array_foreach(v, i, el) if (validate(svc, sh->member, path, el, err, depth + 1,
                                                  in_order) < 0) return -1;
    } else if (sh->type == MODEL_MAP) {
        const char *k;
        const json_t *mv;
        json_object_foreach((json_t *)v, k, mv)
        {
            if (validate(svc, sh->value, k, mv, err, depth + 1, in_order) < 0)
                return -1;
        }
    }
    return 0;
}

int codec_json_decode(const model_service_t *svc, const model_op_t *op, const char *body,
                      size_t len, json_t **out, aws_error_t *err)
{
    jsonread_error_t jerr;
    json_t *v;
    if (len == 0) {
        v = json_object();
    } else {
        v = jsonread_parse(body, len, &jerr);
        if (!v)
            return aws_error_set(err, 400, "SerializationException",
                                 "Could not parse request body: %s at byte %zu.", jerr.text,
                                 jerr.position);
    }
    if (!json_is_object(v)) {
        json_decref(v);
        return aws_error_set(err, 400, "SerializationException",
                             "Request body must be a JSON object.");
    }
    if (codec_json_validate(svc, op, v, err) < 0) {
        json_decref(v);
        return -1;
    }
    *out = v;
    return 0;
}

int codec_json_validate(const model_service_t *svc, const model_op_t *op, const json_t *in,
                        aws_error_t *err)
{
    return op->input >= 0 ? validate(svc, op->input, op->name, in, err, 0, false) : 0;
}

/* Whether any of the eight bytes of w is a control character, '"' or '\\':
 * the classic "has a zero byte" test, ((x - 0x01..) & ~x & 0x80..), applied
 * to w ^ '"', to w ^ '\\' and (as "has a byte below 0x20") to w itself. The
 * answer for the word is exact; which byte matched is left to the caller. */
static bool word_needs_escape(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    uint64_t hit = ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b);
    return (hit & highs) != 0;
}

/* The first offset from i on where an escape may be needed, advancing whole
 * words of plain bytes. */
static size_t skip_plain_words(const char *s, size_t i, size_t len)
{
    uint64_t w;
    for (; i + 8 <= len; i += 8) {
        memcpy(&w, s + i, 8);
        if (word_needs_escape(w))
            break;
    }
    return i;
}

/* Appends s as a JSON string. Runs of plain bytes are copied whole; only
 * quotes, backslashes and control characters are escaped (UTF-8 passes as is,
 * as RFC 8259 allows). Plain runs are found eight bytes at a time: response
 * strings (bodies, receipt handles) are long and rarely need escaping. */
static void emit_string(buf_t *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;
    buf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        i = skip_plain_words(s, i, len);
        if (i >= len)
            break;
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        buf_append(out, s + run, i - run);
        run = i + 1;
        switch (ch) {
        case '"':
            buf_puts(out, "\\\"");
            break;
        case '\\':
            buf_puts(out, "\\\\");
            break;
        case '\n':
            buf_puts(out, "\\n");
            break;
        case '\r':
            buf_puts(out, "\\r");
            break;
        case '\t':
            buf_puts(out, "\\t");
            break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
            buf_append(out, u, sizeof(u));
        }
        }
    }
    buf_append(out, s + run, len - run);
    buf_putc(out, '"');
}

static void emit(buf_t *out, const json_t *v)
{
    const char *k;
    const json_t *x;
    size_t i;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        buf_putc(out, '{');
        i = 0;
        json_object_foreach((json_t *)v, k, x)
        {
            if (i++)
                buf_putc(out, ',');
            emit_string(out, k, strlen(k));
            buf_putc(out, ':');
            emit(out, x);
        }
        buf_putc(out, '}');
        break;
    case JSON_ARRAY:
        buf_putc(out, '[');
        json_array_foreach(v, i, x)
        {
            if (i)
                buf_putc(out, ',');
            emit(out, x);
        }
        buf_putc(out, ']');
        break;
    case JSON_STRING:
        emit_string(out, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL: {
        char num[40];
        int n = snprintf(num, sizeof(num), "%.17g", json_real_value(v));
        buf_append(out, num, (size_t)n);
        if (!strpbrk(num, ".eE")) /* keep it a real when read back, as jansson does */
            buf_puts(out, ".0");
        break;
    }
    case JSON_TRUE:
        buf_puts(out, "true");
        break;
    case JSON_FALSE:
        buf_puts(out, "false");
        break;
    case JSON_NULL:
        buf_puts(out, "null");
        break;
    }
}

void codec_json_encode(const json_t *output, buf_t *out)
{
    /* Our own walk rather than json_dumps: jansson's dump decodes every
     * character of every string and went through two buffers; on the
     * ReceiveMessage path it was a sixth of the server's CPU. */
    if (!output)
        buf_puts(out, "{}");
    else
        emit(out, output);
}

void codec_json_error(const model_service_t *svc, const aws_error_t *err, buf_t *out, char *hdr,
                      size_t hdrlen)
{
    json_t *e = json_object();
    char type[256];
    /* AWS's JSON services qualify the code with the service's namespace; the
     * SDKs take what follows '#'. */
    snprintf(type, sizeof(type), "com.amazonaws.%s#%s", svc ? svc->name : "coral", err->code);
    json_object_set_new(e, "__type", json_string(type));
    json_object_set_new(e, "message", json_string(err->message));
    codec_json_encode(e, out);
    json_decref(e);
    snprintf(hdr, hdrlen, "%s;%s", codec_error_query_code(svc, err),
             err->sender ? "Sender" : "Receiver");
}
