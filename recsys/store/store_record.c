/*
 * store_record.c - packing and unpacking stored records, and the message
 * that names an undecodable one (store_record.h).
 */
#include "store_internal.h"
#include "store_record.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Per thread, like errno: see store_record.h. */
static _Thread_local char last_error[STORE_ERROR_MAX];

/* Keys are often ids, sometimes binary (big-endian indices, "a NUL b"):
 * printable bytes as they are, the rest as \xNN, long keys cut. */
static void render_key(char *out, size_t cap, const void *key, size_t klen)
{
    const unsigned char *k = key;
    size_t o = 0;
    for (size_t i = 0; i < klen && o + 8 < cap; i++) {
        if (k[i] >= 0x20 && k[i] < 0x7f && k[i] != '"' && k[i] != '\\')
            out[o++] = (char)k[i];
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", k[i]);
    }
    if (o + 8 >= cap && klen)
        o += (size_t)snprintf(out + o, cap - o, "...");
    out[o] = '\0';
}

void store_get_error(char *buf)
{
    memcpy(buf, last_error, sizeof last_error);
}

void store_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
}

int store_record_bad(const char *table, const void *key, size_t klen, const char *what)
{
    char k[200];
    render_key(k, sizeof k, key, klen);
    store_set_error("table %s, key \"%s\": %s", table, k, what);
    return -EBADMSG;
}

/* Whether m kept an unknown field numbered 0 (see store_record_unpack). */
static int has_field_zero(const ProtobufCMessage *m)
{
    for (unsigned i = 0; i < m->n_unknown_fields; i++)
        if (m->unknown_fields[i].tag == 0)
            return 1;
    return 0;
}

int store_record_unpack(const ProtobufCMessageDescriptor *d, const char *table,
                        const void *key, size_t klen, const void *val, size_t vlen,
                        ProtobufCMessage **out)
{
    char what[160];
    *out = protobuf_c_message_unpack(d, NULL, vlen, val);
    if (*out && !has_field_zero(*out))
        return 0;
    store_record_free(*out);
    *out = NULL;
    snprintf(what, sizeof what, "not a %s record (%zu bytes)", d->name, vlen);
    return store_record_bad(table, key, klen, what);
}

void store_record_free(ProtobufCMessage *m)
{
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
}

int store_record_pack(const ProtobufCMessage *m, void **buf, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    unsigned char *b = malloc(n ? n : 1);
    if (!b)
        return -ENOMEM;
    *len = protobuf_c_message_pack(m, b);
    *buf = b;
    return 0;
}

int store_tx_get_record(store_tx_t *tx, const char *table, const void *key, size_t klen,
                        const ProtobufCMessageDescriptor *d, ProtobufCMessage **out)
{
    const void *val;
    size_t vlen;
    int rc = store_tx_get_ref(tx, table, key, klen, &val, &vlen);
    *out = NULL;
    return rc ? rc : store_record_unpack(d, table, key, klen, val, vlen, out);
}

int store_tx_put_record(store_tx_t *tx, const char *table, const void *key, size_t klen,
                        const ProtobufCMessage *m)
{
    void *buf = NULL;
    size_t len = 0;
    int rc = store_record_pack(m, &buf, &len);
    if (rc == 0)
        rc = store_tx_put(tx, table, key, klen, buf, len);
    free(buf);
    return rc;
}

int store_table_get_record(store_t *s, const char *table, const void *key, size_t klen,
                           const ProtobufCMessageDescriptor *d, ProtobufCMessage **out)
{
    void *val = NULL;
    size_t vlen = 0;
    int rc = store_table_get(s, table, key, klen, &val, &vlen);
    *out = NULL;
    if (rc == 0)
        rc = store_record_unpack(d, table, key, klen, val, vlen, out);
    free(val);
    return rc;
}

int store_table_put_record(store_t *s, const char *table, const void *key, size_t klen,
                           const ProtobufCMessage *m)
{
    void *buf = NULL;
    size_t len = 0;
    int rc = store_record_pack(m, &buf, &len);
    if (rc == 0)
        rc = store_table_put(s, table, key, klen, buf, len);
    free(buf);
    return rc;
}

int store_record_copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        return 0;
    memcpy(dst, src ? src : "", n + 1);
    return 1;
}

const char *store_record_error(void)
{
    return last_error;
}

const char *store_strerror(int rc)
{
    if ((rc == -EBADMSG || rc == -EPROTONOSUPPORT || rc == -EFBIG) && last_error[0])
        return last_error;
    return strerror(rc < 0 ? -rc : rc);
}
