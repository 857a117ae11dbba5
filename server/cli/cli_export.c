/*
 * cli_export.c - `patron export-customer`: "export my data" from a running
 * server (Profiles/ExportCustomer), printed as JSON.
 *
 *   patron export-customer --addr HOST:PORT --user ID
 *
 * The JSON is the proto3 mapping with the proto field names (which every
 * proto3 JSON parser accepts): 64-bit integers as strings, enums by name,
 * every field printed (defaults too), so the output parses back into the
 * same ExportCustomerResponse. The printer walks the message descriptors,
 * so new fields appear without touching this file.
 */
#include "cli.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "patron/v1/profiles.pb-c.h"

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void json_double(FILE *f, double v)
{
    if (isnan(v))
        fputs("\"NaN\"", f);
    else if (isinf(v))
        fputs(v > 0 ? "\"Infinity\"" : "\"-Infinity\"", f);
    else
        fprintf(f, "%.17g", v);
}

static void json_message(FILE *f, const ProtobufCMessage *m, int depth);

/* One value of field d at p (an element of a repeated field, or the field). */
static void json_value(FILE *f, const ProtobufCFieldDescriptor *d, const void *p, int depth)
{
    switch (d->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        fprintf(f, "%" PRId32, *(const int32_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        fprintf(f, "%" PRIu32, *(const uint32_t *)p);
        break;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        fprintf(f, "\"%" PRId64 "\"", *(const int64_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        fprintf(f, "\"%" PRIu64 "\"", *(const uint64_t *)p);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        json_double(f, *(const float *)p);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        json_double(f, *(const double *)p);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        fputs(*(const protobuf_c_boolean *)p ? "true" : "false", f);
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)p;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d->descriptor, v);
        if (ev)
            json_string(f, ev->name);
        else
            fprintf(f, "%d", v);
        break;
    }
    case PROTOBUF_C_TYPE_STRING:
        json_string(f, *(char *const *)p);
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        json_message(f, *(ProtobufCMessage *const *)p, depth + 1);
        break;
    case PROTOBUF_C_TYPE_BYTES:
        fputs("\"\"", f); /* no bytes fields in the export */
        break;
    }
}

static size_t type_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    default:
        return 4;
    }
}

static void indent(FILE *f, int depth)
{
    fprintf(f, "\n%*s", 2 * depth, "");
}

static void json_message(FILE *f, const ProtobufCMessage *m, int depth)
{
    const ProtobufCMessageDescriptor *md;
    int first = 1;

    if (!m) {
        fputs("null", f);
        return;
    }
    md = m->descriptor;
    fputc('{', f);
    for (unsigned i = 0; i < md->n_fields; i++) {
        const ProtobufCFieldDescriptor *d = &md->fields[i];
        const char *at = (const char *)m + d->offset;
        if (d->type == PROTOBUF_C_TYPE_MESSAGE && d->label != PROTOBUF_C_LABEL_REPEATED &&
            !*(ProtobufCMessage *const *)at)
            continue; /* an absent sub-message */
        fputs(first ? "" : ",", f);
        first = 0;
        indent(f, depth + 1);
        json_string(f, d->name);
        fputs(": ", f);
        if (d->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)m + d->quantifier_offset);
            const char *arr = *(const char *const *)at;
            fputc('[', f);
            for (size_t j = 0; j < n; j++) {
                fputs(j ? ", " : "", f);
                json_value(f, d, arr + j * type_size(d->type), depth + 1);
            }
            fputc(']', f);
        } else {
            json_value(f, d, at, depth);
        }
    }
    if (!first)
        indent(f, depth);
    fputc('}', f);
}

static int export_customer(const char *addr, const char *user)
{
    Patron__V1__ExportCustomerRequest req = PATRON__V1__EXPORT_CUSTOMER_REQUEST__INIT;
    ProtobufCMessage *resp;

    req.customer_id = (char *)user;
    resp = cli_call(addr, "/patron.v1.Profiles/ExportCustomer", &req.base,
                    &patron__v1__export_customer_response__descriptor);
    if (!resp)
        return CLI_FAIL;
    json_message(stdout, resp, 0);
    fputc('\n', stdout);
    protobuf_c_message_free_unpacked(resp, NULL);
    return fflush(stdout) == 0 ? CLI_OK : CLI_FAIL;
}

int cli_export_customer(int argc, char **argv)
{
    static const cli_cmd_t cmd = {
        "export-customer", "--addr HOST:PORT --user ID",
        "Every row the server holds about a customer (events, attributes, points,\n"
        "coupons, offers, redemptions, experiment exposures), as JSON." };
    const char *addr = NULL, *user = NULL;
    cli_opt_t opts[] = {
        CLI_STR("addr", "HOST:PORT", "patrond's address", CLI_REQUIRED, &addr),
        CLI_STR("user", "ID", "the customer id", CLI_REQUIRED, &user),
        CLI_END,
    };
    int rc = cli_parse(argc, argv, 1, &cmd, opts);
    return rc != CLI_PARSED ? rc : export_customer(addr, user);
}
