/*
 * cliopt.c - table-driven option parsing over getopt_long (contract in
 * cliopt.h).
 */
#include "cliopt.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bytesize.h"

/* getopt_long values: the table index + OPT_BASE; 'h' is --help. */
#define OPT_BASE 256
#define MAX_OPTS 64

static size_t count_opts(const cli_opt_t *opts)
{
    size_t n = 0;
    while (opts[n].name)
        n++;
    return n;
}

const cli_opt_t *cli_opt_find(const cli_opt_t *opts, const char *name)
{
    for (; opts->name; opts++)
        if (strcmp(opts->name, name) == 0)
            return opts;
    return NULL;
}

/* Who is parsing, for messages and help: "patron compact" or "patrond",
 * and the environment prefix of cli_parse_env (NULL for cli_parse). */
typedef struct parser {
    char who[128];
    const cli_cmd_t *cmd;
    const char *env_prefix;
} parser_t;

static int is_integer_kind(cli_kind_t k)
{
    return k == CLI_KIND_U32 || k == CLI_KIND_INT || k == CLI_KIND_I64;
}

/* label is "--name" or the environment variable the value came from. */
static int bad_value(const parser_t *p, const char *label, const cli_opt_t *o, const char *value)
{
    if (is_integer_kind(o->kind))
        fprintf(stderr, "%s: %s: expected an integer in %.17g..%.17g, got \"%s\"\n",
                p->who, label, o->lo, o->hi, value);
    else
        fprintf(stderr, "%s: %s: expected a number in %g..%g, got \"%s\"\n",
                p->who, label, o->lo, o->hi, value);
    return -1;
}

static int set_u64(const parser_t *p, const char *label, const cli_opt_t *o, const char *value)
{
    char *end;
    unsigned long long v;
    errno = 0;
    v = strtoull(value, &end, 10);
    if (errno || end == value || *end || value[0] == '-') {
        fprintf(stderr, "%s: %s: expected an unsigned integer, got \"%s\"\n", p->who, label,
                value);
        return -1;
    }
    *(uint64_t *)o->dest = (uint64_t)v;
    return 0;
}

/* Stores value into o->dest according to o->kind; 0 or -1 (printed). */
static int set_value(const parser_t *p, const char *label, const cli_opt_t *o,
                     const char *value)
{
    char *end;
    double v;

    switch (o->kind) {
    case CLI_KIND_FLAG:
        *(int *)o->dest = 1;
        return 0;
    case CLI_KIND_STR:
        *(const char **)o->dest = value;
        return 0;
    case CLI_KIND_CALL: /* the parse function says why */
        return o->parse(o->dest, value) == 0 ? 0 : -1;
    case CLI_KIND_U64:
        return set_u64(p, label, o, value);
    default:
        break;
    }
    errno = 0;
    v = strtod(value, &end);
    if (errno || end == value || *end || !(v >= o->lo && v <= o->hi))
        return bad_value(p, label, o, value);
    if (is_integer_kind(o->kind) && v != floor(v))
        return bad_value(p, label, o, value);
    switch (o->kind) {
    case CLI_KIND_DOUBLE: *(double *)o->dest = v; break;
    case CLI_KIND_FLOAT: *(float *)o->dest = (float)v; break;
    case CLI_KIND_U32: *(uint32_t *)o->dest = (uint32_t)v; break;
    case CLI_KIND_INT: *(int *)o->dest = (int)v; break;
    case CLI_KIND_I64: *(long long *)o->dest = (long long)v; break;
    default: break;
    }
    return 0;
}

/* The getopt_long tables for opts: long options and the short string. */
static int build_getopt(const cli_opt_t *opts, size_t n, struct option *lo, char *shorts)
{
    size_t s = 0;
    if (n + 2 > MAX_OPTS)
        return -1;
    shorts[s++] = ':'; /* missing values come back as ':' */
    shorts[s++] = 'h';
    for (size_t i = 0; i < n; i++) {
        int has_arg = opts[i].kind == CLI_KIND_FLAG ? no_argument : required_argument;
        lo[i] = (struct option){ opts[i].name, has_arg, NULL, OPT_BASE + (int)i };
        if (opts[i].short_name) {
            shorts[s++] = opts[i].short_name;
            if (has_arg == required_argument)
                shorts[s++] = ':';
        }
    }
    lo[n] = (struct option){ "help", no_argument, NULL, 'h' };
    lo[n + 1] = (struct option){ NULL, 0, NULL, 0 };
    shorts[s] = '\0';
    return 0;
}

static int short_index(const cli_opt_t *opts, size_t n, int c)
{
    for (size_t i = 0; i < n; i++)
        if (opts[i].short_name && opts[i].short_name == c)
            return (int)i;
    return -1;
}

static int usage_hint(const parser_t *p)
{
    fprintf(stderr, "%s: see %s --help\n", p->who, p->who);
    return CLI_USAGE;
}

static int check_required(const parser_t *p, const cli_opt_t *opts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((opts[i].flags & CLI_REQUIRED) && !opts[i].given) {
            fprintf(stderr, "%s: --%s is required\n", p->who, opts[i].name);
            return -1;
        }
    return 0;
}

static void help(const parser_t *p, const cli_opt_t *opts);

/* Whether an action flag (CLI_ACTION) was given. */
static int action_given(const cli_opt_t *opts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((opts[i].flags & CLI_ACTION) && opts[i].given)
            return 1;
    return 0;
}

/* Parses the command line: CLI_PARSED, CLI_OK after --help, CLI_USAGE. */
static int parse_argv(const parser_t *p, int argc, char **argv, cli_opt_t *opts, size_t n)
{
    struct option lo[MAX_OPTS];
    char shorts[2 * MAX_OPTS + 3];
    char label[80];
    int c, idx;

    if (build_getopt(opts, n, lo, shorts) != 0)
        return CLI_USAGE;
    for (size_t i = 0; i < n; i++)
        opts[i].given = 0;
    optind = 0; /* full reset, so a second parse of the same argv works */
    opterr = 0;
    while ((c = getopt_long(argc, argv, shorts, lo, &idx)) != -1) {
        int i = c >= OPT_BASE ? c - OPT_BASE : short_index(opts, n, c);
        if (c == 'h' && i < 0) {
            help(p, opts);
            return CLI_OK;
        }
        if (c == ':') {
            fprintf(stderr, "%s: %s needs a value\n", p->who, argv[optind - 1]);
            return usage_hint(p);
        }
        if (i < 0) {
            fprintf(stderr, "%s: unknown option \"%s\"\n", p->who, argv[optind - 1]);
            return usage_hint(p);
        }
        snprintf(label, sizeof label, "--%s", opts[i].name);
        if (set_value(p, label, &opts[i], optarg) != 0)
            return CLI_USAGE;
        opts[i].given = CLI_GIVEN_ARGV;
    }
    if (optind != argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\"\n", p->who, argv[optind]);
        return usage_hint(p);
    }
    return CLI_PARSED;
}

void cli_env_name(const char *env_prefix, const cli_opt_t *o, char *buf, size_t cap)
{
    size_t len = 0;
    for (const char *s = env_prefix; *s && len + 1 < cap; s++)
        buf[len++] = *s;
    for (const char *s = o->name; *s && len + 1 < cap; s++)
        buf[len++] = *s == '-' ? '_' : (char)toupper((unsigned char)*s);
    if (cap)
        buf[len < cap ? len : cap - 1] = '\0';
}

/* A flag's variable: 1 set, 0 unset, -1 neither (printed). */
static int env_flag(const parser_t *p, const char *var, const char *value)
{
    static const char *const yes[] = { "1", "true", "yes", "on" };
    static const char *const no[] = { "0", "false", "no", "off" };
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(value, yes[i]) == 0)
            return 1;
        if (strcasecmp(value, no[i]) == 0)
            return 0;
    }
    fprintf(stderr, "%s: %s: expected 1/true/yes/on or 0/false/no/off, got \"%s\"\n", p->who,
            var, value);
    return -1;
}

/* Fills the options the command line left out from the environment. */
static int parse_env(const parser_t *p, cli_opt_t *opts, size_t n)
{
    char var[128];
    for (size_t i = 0; i < n; i++) {
        const char *value;
        int rc;
        if (opts[i].given || (opts[i].flags & CLI_NOENV))
            continue;
        cli_env_name(p->env_prefix, &opts[i], var, sizeof var);
        if (!(value = getenv(var)) || !*value)
            continue;
        if (opts[i].kind == CLI_KIND_FLAG) {
            if ((rc = env_flag(p, var, value)) < 0)
                return CLI_USAGE;
            if (rc == 0)
                continue;
        }
        if (set_value(p, var, &opts[i], value) != 0) {
            if (opts[i].kind == CLI_KIND_CALL)
                fprintf(stderr, "%s: (that value came from %s)\n", p->who, var);
            return CLI_USAGE;
        }
        opts[i].given = CLI_GIVEN_ENV;
    }
    return CLI_PARSED;
}

int cli_parse(int argc, char **argv, int first, const cli_cmd_t *cmd, cli_opt_t *opts)
{
    parser_t p = { .cmd = cmd };
    size_t n = count_opts(opts);
    int rc;

    snprintf(p.who, sizeof p.who, "patron %s", cmd->name);
    /* getopt sees argv from the word before the first flag. */
    rc = parse_argv(&p, argc - (first - 1), argv + (first - 1), opts, n);
    if (rc != CLI_PARSED || action_given(opts, n))
        return rc;
    if (check_required(&p, opts, n) != 0)
        return usage_hint(&p);
    return CLI_PARSED;
}

int cli_parse_env(int argc, char **argv, const cli_cmd_t *cmd, cli_opt_t *opts,
                  const char *env_prefix)
{
    parser_t p = { .cmd = cmd, .env_prefix = env_prefix };
    size_t n = count_opts(opts);
    int rc;

    snprintf(p.who, sizeof p.who, "%s", cmd->name);
    if ((rc = parse_argv(&p, argc, argv, opts, n)) != CLI_PARSED || action_given(opts, n))
        return rc;
    if ((rc = parse_env(&p, opts, n)) != CLI_PARSED)
        return rc;
    if (check_required(&p, opts, n) != 0)
        return usage_hint(&p);
    return CLI_PARSED;
}

/* "--name ARG" or "-k, --name ARG" into buf. */
static void option_label(const cli_opt_t *o, char *buf, size_t cap)
{
    int len = 0;
    if (o->short_name && o->name[0] == o->short_name && !o->name[1]) {
        snprintf(buf, cap, "-%c%s%s", o->short_name, o->arg ? " " : "", o->arg ? o->arg : "");
        return;
    }
    if (o->short_name)
        len = snprintf(buf, cap, "-%c, ", o->short_name);
    snprintf(buf + len, cap - (size_t)len, "--%s%s%s", o->name, o->arg ? " " : "",
             o->arg ? o->arg : "");
}

#define HELP_INDENT "                                   " /* 2 + 32 + 1 columns */

/* The help text of o; its later lines (after '\n') indented under the first. */
static void print_help_text(const cli_opt_t *o)
{
    const char *s = o->help ? o->help : "", *nl;
    while ((nl = strchr(s, '\n')) != NULL) {
        printf("%.*s\n%s", (int)(nl - s), s, HELP_INDENT);
        s = nl + 1;
    }
    printf("%s", s);
}

static void help(const parser_t *p, const cli_opt_t *opts)
{
    char label[96], var[128];
    printf("usage: %s %s\n", p->who, p->cmd->synopsis ? p->cmd->synopsis : "");
    if (p->cmd->about)
        printf("\n%s\n", p->cmd->about);
    printf("\noptions:\n");
    for (const cli_opt_t *o = opts; o->name; o++) {
        option_label(o, label, sizeof label);
        printf("  %-32s ", label);
        print_help_text(o);
        printf("%s", o->flags & CLI_REQUIRED ? " (required)" : "");
        if (is_integer_kind(o->kind))
            printf(" [%.17g..%.17g]", o->lo, o->hi);
        else if (o->kind == CLI_KIND_DOUBLE || o->kind == CLI_KIND_FLOAT)
            printf(" [%g..%g]", o->lo, o->hi);
        printf("\n");
        if (p->env_prefix && !(o->flags & CLI_NOENV)) {
            cli_env_name(p->env_prefix, o, var, sizeof var);
            printf("%s(env %s)\n", HELP_INDENT, var);
        }
    }
    printf("  %-32s %s\n", "-h, --help", "this help");
}

void cli_help(const cli_cmd_t *cmd, const cli_opt_t *opts)
{
    parser_t p = { .cmd = cmd };
    snprintf(p.who, sizeof p.who, "patron %s", cmd->name);
    help(&p, opts);
}

int cli_parse_map_size(void *dest, const char *value)
{
    if (bytesize_parse(value, dest) != 0) {
        fprintf(stderr, "--map-size: expected a size such as 4096, 512M, 64G or "
                "1T, got \"%s\"\n", value);
        return -1;
    }
    return 0;
}
