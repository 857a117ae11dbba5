/*
 * pbjson.h - the proto3 JSON mapping (protobuf.dev/programming-guides/
 * proto3/#json) over protobuf-c descriptors: one converter, both ways, for
 * any message type, so the HTTP/JSON gateway (gateway.h) has no code per
 * method.
 *
 * JSON -> message accepts:
 *   - field names in lowerCamelCase ("timeUnixMs") or as declared
 *     ("time_unix_ms"); null means "the default";
 *   - 64-bit integers as decimal strings or numbers, 32-bit ones too;
 *     a number must be integral and in the field's range;
 *   - enums by value name ("EVENT_TYPE_VIEW") or by number;
 *   - float/double as numbers, numeric strings, "NaN", "Infinity",
 *     "-Infinity";
 *   - bytes as base64 (standard or URL-safe alphabet, padding optional);
 *   - repeated fields as arrays, messages as objects.
 * It refuses, naming the field path ("events[2].timeUnixMs"): an unknown
 * field, a field given twice (under both names) or two members of one
 * oneof, a value of the wrong JSON type, an out-of-range or fractional
 * integer, an unknown enum name, bad base64, a string with a NUL character.
 * Text is read by json-c in its strict mode (no comments, no trailing
 * commas) and must be valid UTF-8; an error names the byte offset.
 *
 * message -> JSON writes lowerCamelCase names; fields holding their default
 * (0 or -0, "", false, empty, unset message) are omitted unless they have
 * presence (proto3 `optional`, oneof members); 64-bit integers as strings;
 * enums by name (by number when the value has no name); float and double
 * in the shortest form that reads back to the same value.
 *
 * Not covered: map fields (written as arrays of entries) and the
 * google.protobuf well-known types (written as plain messages); the Patron
 * API uses neither.
 *
 * Threads: no state; safe from any thread.
 */
#ifndef PATRON_SERVER_PBJSON_H
#define PATRON_SERVER_PBJSON_H

#include <json-c/json.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* Parses JSON text (len bytes, not NUL-terminated; an empty or blank text
 * is the empty message {}) into a new message of type d. *out is freed with
 * protobuf_c_message_free_unpacked(*out, NULL). Returns 0, -EINVAL with a
 * message in err (the byte offset of bad JSON, or the field path), or
 * -ENOMEM. */
int pbjson_parse(const ProtobufCMessageDescriptor *d, const char *text, size_t len,
                 ProtobufCMessage **out, char *err, size_t cap);

/* The same from an already parsed JSON value (borrowed). */
int pbjson_from_object(const ProtobufCMessageDescriptor *d, json_object *obj,
                       ProtobufCMessage **out, char *err, size_t cap);

/* m as a new JSON object (release with json_object_put). Returns 0,
 * -EINVAL with err naming the field when a string is not valid UTF-8, or
 * -ENOMEM. */
int pbjson_to_object(const ProtobufCMessage *m, json_object **out, char *err, size_t cap);

/* m as compact JSON text: malloc'd, NUL-terminated, *len bytes without the
 * NUL. Returns NULL with err set on the errors of pbjson_to_object. */
char *pbjson_format(const ProtobufCMessage *m, size_t *len, char *err, size_t cap);

/* The JSON text of a JSON value (borrowed), compact, as pbjson_format
 * writes it: malloc'd, NUL-terminated; NULL when out of memory. */
char *pbjson_text(json_object *obj, size_t *len);

/* An upper bound on the number of values in JSON text (len bytes): 1 plus
 * the commas, '[' and '{' outside strings. One pass, no allocation: lets a
 * caller refuse a text that would parse into too many objects before
 * json-c allocates them. */
size_t pbjson_count_values(const char *text, size_t len);

/* lowerCamelCase JSON name of a proto field name, as protoc derives it
 * ("time_unix_ms" -> "timeUnixMs"), into out (cut to cap). */
void pbjson_json_name(const char *name, char *out, size_t cap);

#endif
