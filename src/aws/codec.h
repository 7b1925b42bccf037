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
