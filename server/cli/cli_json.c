/*
 * cli_json.c - how every `patron ... --json` report is written (cli.h).
 */
#include "cli.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>

int cli_json_print(struct json_object *o)
{
    const char *s;
    int rc = -ENOMEM;

    if (o && (s = json_object_to_json_string_ext(
                  o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)) != NULL)
        rc = printf("%s\n", s) >= 0 && fflush(stdout) == 0 ? 0 : -EIO;
    if (rc)
        cli_error(rc, "writing the JSON report");
    json_object_put(o);
    return rc;
}
