/*
 * codec — the wire protocols, driven by the service models.
 *
 * Every service handler sees one shape of input and output: a jansson tree
 * shaped like the AWS JSON protocol's payload (member names as in the model,
 * integers as integers, blobs as base64 strings). The codecs translate:
 *   awsjson  AWS JSON 1.0/1.1: parse and validate against the model; dump.
 *   query    form parameters (Action=...&Version=...) in, XML out, with the
 *            model's flattening and locationName rules (botocore's serializer
 *            in reverse).
 *   restjson REST-JSON (Lambda): the operation found by method and URI
 *            template; members from URI labels, the query string, headers and
 *            the JSON body (or a raw payload); out the same way.
 * Errors are encoded per protocol from the one aws_error_t. The codecs know
 * nothing of HTTP connections or of any service's semantics.
 */
#ifndef NAGARE_AWS_CODEC_H
#define NAGARE_AWS_CODEC_H

#include "aws/error.h"
#include "aws/model.h"
#include "base/buf.h"

#include <jansson.h>

typedef enum aws_protocol {
    AWS_PROTO_JSON,
    AWS_PROTO_QUERY,
    AWS_PROTO_RESTJSON,
} aws_protocol_t;

/* Decodes form parameters (from codec_form_parse of a POST body or a GET
 * query string; borrowed) into *out (a new object the caller owns) per op's
 * input shape. 0, or -1 with err. */
int codec_query_decode(const model_service_t *svc, const model_op_t *op, json_t *form, json_t **out,
                       aws_error_t *err);

/* Parses a JSON body and validates it against op's input shape (types,
 * required members). An empty body is an empty object. 0, or -1 with err. */
int codec_json_decode(const model_service_t *svc, const model_op_t *op, const char *body,
                      size_t len, json_t **out, aws_error_t *err);

/* Writes op's XML response for output (may be NULL) into out. */
void codec_query_encode(const model_service_t *svc, const model_op_t *op, const json_t *output,
                        const char *request_id, buf_t *out);
/* Writes the JSON response body (`{}` when output is NULL). */
void codec_json_encode(const json_t *output, buf_t *out);

/* Checks a decoded input tree against op's input shape (types, required
 * members), as codec_json_decode does. 0, or -1 with err. */
int codec_json_validate(const model_service_t *svc, const model_op_t *op, const json_t *in,
                        aws_error_t *err);

/* Percent-decodes s (len bytes) into out (room for len bytes); '+' becomes a
 * space when plus_is_space (forms), stays itself otherwise (URI paths).
 * Returns the decoded length. */
size_t codec_url_decode(const char *s, size_t len, char *out, bool plus_is_space);

/* ---- REST-JSON ---------------------------------------------------------- */

/* A request or response header (the same layout as the HTTP server's). */
typedef struct codec_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} codec_header_t;

/* What the REST-JSON codec reads of a request. */
typedef struct codec_rest_request {
    const char *method; /* "GET", ... */
    const char *path;   /* raw (percent-encoded), without the query */
    size_t path_len;
    const char *query; /* raw, may be NULL */
    size_t query_len;
    const codec_header_t *headers;
    size_t n_headers;
    const char *body;
    size_t body_len;
} codec_rest_request_t;

/* The operation of svc whose method and requestUri template match req (a
 * {Label} is one non-empty path segment, a {Label+} the rest of the path;
 * a template's literal query keys must be present); the most literal template
 * wins. NULL when none matches. */
const model_op_t *codec_rest_route(const model_service_t *svc, const codec_rest_request_t *req);

/* Decodes req into *out (a new object the caller owns) per op's input shape:
 * URI labels (percent-decoded), query-string members, header members, then
 * the JSON body, or the raw body as the payload member when that is a blob
 * (base64 in the tree, like every blob) or string. Validates the result. 0, or
 * -1 with err. */
int codec_rest_decode(const model_service_t *svc, const model_op_t *op,
                      const codec_rest_request_t *req, json_t **out, aws_error_t *err);

/* Encodes op's output (may be NULL): *status (the op's success code, or a
 * statusCode member), header members into *headers (a new object of header
 * name -> string the caller owns), and the body: the JSON of the remaining
 * members, or the payload member (a blob raw, a structure as JSON). */
void codec_rest_encode(const model_service_t *svc, const model_op_t *op, const json_t *output,
                       int *status, json_t **headers, buf_t *body);

/* Writes the REST-JSON error body for err: {"Type":"User"|"Service",
 * "<message member>":...}, the message member spelled as the error's shape in
 * the model spells it ("message" or "Message"). The x-amzn-ErrorType header is
 * err->code. */
void codec_rest_error(const model_service_t *svc, const aws_error_t *err, buf_t *out);

/* Writes the query-protocol ErrorResponse for err. */
void codec_query_error(const model_service_t *svc, const aws_error_t *err, const char *request_id,
                       buf_t *out);
/* Writes the JSON error body; fills hdr (the x-amzn-query-error value
 * "<query code>;Sender|Receiver") for services that are query-compatible. */
void codec_json_error(const model_service_t *svc, const aws_error_t *err, buf_t *out, char *hdr,
                      size_t hdrlen);

/* The query-protocol code of err: its own, else the model's, else its code. */
const char *codec_error_query_code(const model_service_t *svc, const aws_error_t *err);

/* Splits a form string into decoded key -> value pairs (a new object); values
 * may hold any bytes. Exposed for the router, which needs Action first. */
json_t *codec_form_parse(const char *form, size_t len);

/* Appends s (len bytes) XML-escaped to out. */
void codec_xml_escape(buf_t *out, const char *s, size_t len);

#endif
