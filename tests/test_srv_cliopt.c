/*
 * test_srv_cliopt.c - the option parser every `patron` command uses
 * (server/cli/cliopt.h): values land in their fields, ranges and required
 * flags are enforced with the flag named, --help answers without running,
 * and a second parse of the same argv works (patron eval parses twice).
 */
#include "testutil.h"

#include <unistd.h>

#include "cliopt.h"

typedef struct opts_under_test {
    const char *data;
    int flag;
    double d;
    float f;
    uint32_t u;
    long long ll;
    uint64_t seed;
    int calls;
} out_t;

static int count_call(void *dest, const char *v)
{
    out_t *o = dest;
    if (strcmp(v, "bad") == 0)
        return -1;
    o->calls++;
    return 0;
}

static const cli_cmd_t cmd = { "test", "--data DIR", NULL };

/* Runs cli_parse on a NULL-terminated argv with stderr and stdout silenced. */
static int run(out_t *o, cli_opt_t **opts_out, char **argv)
{
    static cli_opt_t opts[16];
    cli_opt_t t[] = {
        CLI_STR("data", "DIR", "dir", CLI_REQUIRED, &o->data),
        CLI_FLAG("flag", "a flag", &o->flag),
        CLI_NUM("d", "X", "double", -1, 1, &o->d),
        CLI_FLT("f", "X", "float", 0, 10, &o->f),
        { "k", 'k', CLI_KIND_U32, &o->u, 1, 1000, "N", "count", 0, NULL, 0 },
        CLI_I64("ll", "N", "long", -5, 1e15, &o->ll),
        CLI_U64("seed", "N", "seed", &o->seed),
        CLI_CALL("call", "V", "custom", count_call, o),
        CLI_END,
    };
    int argc = 0, rc;
    memcpy(opts, t, sizeof t);
    while (argv[argc])
        argc++;
    memset(o, 0, sizeof *o);
    fflush(stdout);
    fflush(stderr);
    FILE *devnull = fopen("/dev/null", "w");
    int so = dup(1), se = dup(2);
    dup2(fileno(devnull), 1);
    dup2(fileno(devnull), 2);
    rc = cli_parse(argc, argv, 1, &cmd, opts);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    fclose(devnull);
    *opts_out = opts;
    return rc;
}

int main(void)
{
    out_t o;
    cli_opt_t *opts;

    char *ok[] = { "test", "--data", "/d", "--flag", "--d=-0.5", "--f", "2.5", "-k", "7",
                   "--ll", "-5", "--seed", "18446744073709551615", "--call", "x",
                   "--call", "y", NULL };
    CHECK_EQ_INT(run(&o, &opts, ok), CLI_PARSED);
    CHECK_STREQ(o.data, "/d");
    CHECK(o.flag == 1 && o.d == -0.5 && o.f == 2.5f && o.u == 7 && o.ll == -5);
    CHECK(o.seed == UINT64_MAX);
    CHECK_EQ_INT(o.calls, 2);
    CHECK(cli_opt_find(opts, "flag")->given && !cli_opt_find(opts, "nope"));
    /* the same argv again: getopt is reset */
    CHECK_EQ_INT(run(&o, &opts, ok), CLI_PARSED);
    CHECK_EQ_INT(o.u, 7);

    char *minimal[] = { "test", "--data", "x", NULL };
    CHECK_EQ_INT(run(&o, &opts, minimal), CLI_PARSED);
    CHECK(!cli_opt_find(opts, "flag")->given && o.u == 0);

    char *help[] = { "test", "--help", NULL };
    CHECK_EQ_INT(run(&o, &opts, help), CLI_OK);
    char *help_short[] = { "test", "-h", "--bogus", NULL };
    CHECK_EQ_INT(run(&o, &opts, help_short), CLI_OK);

    char *missing[] = { "test", "--flag", NULL };
    CHECK_EQ_INT(run(&o, &opts, missing), CLI_USAGE);
    char *range[] = { "test", "--data", "x", "-k", "0", NULL };
    CHECK_EQ_INT(run(&o, &opts, range), CLI_USAGE);
    char *frac[] = { "test", "--data", "x", "-k", "2.5", NULL };
    CHECK_EQ_INT(run(&o, &opts, frac), CLI_USAGE);
    char *junk[] = { "test", "--data", "x", "--d", "0.5x", NULL };
    CHECK_EQ_INT(run(&o, &opts, junk), CLI_USAGE);
    char *neg_seed[] = { "test", "--data", "x", "--seed", "-1", NULL };
    CHECK_EQ_INT(run(&o, &opts, neg_seed), CLI_USAGE);
    char *unknown[] = { "test", "--data", "x", "--nope", NULL };
    CHECK_EQ_INT(run(&o, &opts, unknown), CLI_USAGE);
    char *no_value[] = { "test", "--data", NULL };
    CHECK_EQ_INT(run(&o, &opts, no_value), CLI_USAGE);
    char *stray[] = { "test", "--data", "x", "extra", NULL };
    CHECK_EQ_INT(run(&o, &opts, stray), CLI_USAGE);
    char *bad_call[] = { "test", "--data", "x", "--call", "bad", NULL };
    CHECK_EQ_INT(run(&o, &opts, bad_call), CLI_USAGE);
    return test_failures ? 1 : 0;
}
