/*
 * test_srv_log.c - the log line formats (log.h): a JSON line is one object
 * on one line that a JSON parser reads back to exactly the message and
 * fields given, whatever bytes they hold (quotes, backslashes, newlines,
 * control characters, bytes that are not UTF-8); a text line is one line
 * with its key=value pairs splittable; a long line is cut, not overrun.
 */
#include <json-c/json.h>
#include <string.h>

#include "log.h"
#include "testutil.h"

/* 2026-11-25T18:00:00.123Z */
static const struct timespec WHEN = { 1795629600, 123456789 };

/* Whether line holds a byte JSON must escape (newlines, control characters). */
static int has_control(const char *line)
{
    for (const unsigned char *p = (const unsigned char *)line; *p; p++)
        if (*p < 0x20)
            return 1;
    return 0;
}

static const char *str_of(json_object *obj, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static void test_json_fields_round_trip(void)
{
    const char *msg = "say \"hi\"\\ then\nnew line\r\tand \x01\x1f\x7f end";
    log_field_t f[] = {
        LOG_STR("method", "/patron.v1.Recommender/Recommend"),
        LOG_STR("status", "OK"),
        LOG_NUM("ms", 12),
        LOG_NUM("model_version", 18446744073709551615ULL >> 1),
        LOG_STR("peer", "ipv4:127.0.0.1:5555"),
        LOG_STR("quoted", "a\"b\\c\nd"),
        LOG_STR("empty", NULL),
        LOG_REAL("real", "0.125"),
        LOG_REAL("notreal", "nan"),
    };
    char buf[2048];
    int len = log_format_line(LOG_FORMAT_JSON, &WHEN, LOG_INFO, msg, f, 9, buf, sizeof buf);
    json_object *obj, *v;

    CHECK(len > 0 && (size_t)len < sizeof buf);
    CHECK_EQ_INT(strlen(buf), len);
    CHECK(!has_control(buf));
    CHECK(buf[0] == '{' && buf[len - 1] == '}');
    obj = json_tokener_parse(buf);
    CHECK(obj && json_object_is_type(obj, json_type_object));
    if (!obj)
        return;
    CHECK_STREQ(str_of(obj, "ts"), "2026-11-25T18:00:00.123Z");
    CHECK_STREQ(str_of(obj, "level"), "info");
    CHECK_STREQ(str_of(obj, "msg"), msg);
    CHECK_STREQ(str_of(obj, "method"), "/patron.v1.Recommender/Recommend");
    CHECK_STREQ(str_of(obj, "status"), "OK");
    CHECK_STREQ(str_of(obj, "peer"), "ipv4:127.0.0.1:5555");
    CHECK_STREQ(str_of(obj, "quoted"), "a\"b\\c\nd");
    CHECK_STREQ(str_of(obj, "empty"), "");
    CHECK(json_object_object_get_ex(obj, "ms", &v) && json_object_is_type(v, json_type_int) &&
          json_object_get_int64(v) == 12);
    CHECK(json_object_object_get_ex(obj, "model_version", &v) &&
          json_object_get_int64(v) == (long long)(18446744073709551615ULL >> 1));
    CHECK(json_object_object_get_ex(obj, "real", &v) && json_object_is_type(v, json_type_double) &&
          json_object_get_double(v) == 0.125);
    CHECK(strstr(buf, "\"real\":0.125,"));
    CHECK_STREQ(str_of(obj, "notreal"), "nan"); /* not a JSON number: a string */
    CHECK_EQ_INT(json_object_object_length(obj), 12);
    /* Control characters are escaped as JSON requires, not passed raw. */
    CHECK(strstr(buf, "\\u0001") && strstr(buf, "\\n") && strstr(buf, "\\\""));
    json_object_put(obj);
}

/* A byte that is not UTF-8 (an unknown method's path, say) would make the
 * line unreadable for a strict parser: it becomes '?'. */
static void test_json_invalid_utf8(void)
{
    log_field_t f[] = { LOG_STR("method", "/x\xff\xfe/\xc3\xa9t\xc3") };
    char buf[512];
    json_object *obj;
    int len = log_format_line(LOG_FORMAT_JSON, &WHEN, LOG_WARN, "caf\xc3\xa9 \xe2\x82", f, 1,
                              buf, sizeof buf);

    CHECK(len > 0);
    obj = json_tokener_parse(buf);
    CHECK(obj != NULL);
    if (!obj)
        return;
    CHECK_STREQ(str_of(obj, "msg"), "caf\xc3\xa9 ??");
    CHECK_STREQ(str_of(obj, "method"), "/x?" "?/\xc3\xa9t?");
    CHECK_STREQ(str_of(obj, "level"), "warn");
    json_object_put(obj);
}

static void test_text_line(void)
{
    log_field_t f[] = {
        LOG_STR("method", "/grpc.health.v1.Health/Check"),
        LOG_NUM("ms", 0),
        LOG_STR("request_id", ""),
        LOG_STR("arm", "with space"),
        LOG_STR("x", "q\"uo=te\n"),
        LOG_REAL("ms", "1.500"),
    };
    char buf[512];
    int len = log_format_line(LOG_FORMAT_TEXT, &WHEN, LOG_ERROR, "two\nlines\x01", f, 6, buf,
                              sizeof buf);

    CHECK(len > 0);
    CHECK(!has_control(buf));
    CHECK_STREQ(buf, "2026-11-25T18:00:00.123Z patrond error two lines  "
                     "method=/grpc.health.v1.Health/Check ms=0 request_id=- "
                     "arm=\"with space\" x=\"q\\\"uo=te \" ms=1.500");
}

/* Too small a buffer: cut and terminated, the full length returned. */
static void test_cut(void)
{
    char small[16], big[256];
    int full = log_format_line(LOG_FORMAT_JSON, &WHEN, LOG_INFO, "hello", NULL, 0, big,
                               sizeof big);
    int len = log_format_line(LOG_FORMAT_JSON, &WHEN, LOG_INFO, "hello", NULL, 0, small,
                              sizeof small);
    CHECK_EQ_INT(len, full);
    CHECK_EQ_INT(strlen(small), sizeof small - 1);
    CHECK(strncmp(small, big, sizeof small - 1) == 0);
    CHECK_STREQ(big, "{\"ts\":\"2026-11-25T18:00:00.123Z\",\"level\":\"info\",\"msg\":\"hello\"}");
}

static void test_parse(void)
{
    log_format_t f = LOG_FORMAT_JSON;
    CHECK_EQ_INT(log_format_parse("text", &f), 0);
    CHECK_EQ_INT(f, LOG_FORMAT_TEXT);
    CHECK_EQ_INT(log_format_parse("json", &f), 0);
    CHECK_EQ_INT(f, LOG_FORMAT_JSON);
    CHECK_EQ_INT(log_format_parse("JSON", &f), -1);
    CHECK_EQ_INT(log_format_parse("", &f), -1);
    CHECK_EQ_INT(log_format_parse(NULL, &f), -1);
}

int main(void)
{
    test_json_fields_round_trip();
    test_json_invalid_utf8();
    test_text_line();
    test_cut();
    test_parse();
    TEST_MAIN_END();
}
