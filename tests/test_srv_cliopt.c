/*
 * test_srv_cliopt.c - the option parser every `patron` command uses
 * (server/cli/cliopt.h): values land in their fields, ranges and required
 * flags are enforced with the flag named, --help answers without running,
 * and a second parse of the same argv works (patron eval parses twice).
 * cli_parse_env (patrond) also reads each flag from its PATRON_* variable,
 * the command line winning, and a bad variable is refused by its name.
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

static const cli_cmd_t daemon_cmd = { "testd", "--data DIR", NULL };

/* What the last run printed to stderr. */
static char last_err[4096];

/* Runs cli_parse (or cli_parse_env with prefix "PATRON_TEST_" when env) on
 * a NULL-terminated argv with stdout silenced and stderr kept in last_err. */
static int run_parser(out_t *o, cli_opt_t **opts_out, char **argv, int env)
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
    FILE *devnull = fopen("/dev/null", "w"), *err = tmpfile();
    int so = dup(1), se = dup(2);
    dup2(fileno(devnull), 1);
    dup2(fileno(err), 2);
    rc = env ? cli_parse_env(argc, argv, &daemon_cmd, opts, "PATRON_TEST_")
             : cli_parse(argc, argv, 1, &cmd, opts);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    fclose(devnull);
    rewind(err);
    last_err[fread(last_err, 1, sizeof last_err - 1, err)] = '\0';
    fclose(err);
    *opts_out = opts;
    return rc;
}

static int run(out_t *o, cli_opt_t **opts_out, char **argv)
{
    return run_parser(o, opts_out, argv, 0);
}

/* Every kind from the environment; the command line wins; bad variables
 * are refused naming the variable, empty ones count as unset. */
static void check_env(void)
{
    out_t o;
    cli_opt_t *opts;
    char var[64];
    char *bare[] = { "testd", NULL };
    char *data_arg[] = { "testd", "--data", "/argv", "-k", "9", NULL };

    CHECK_EQ_INT(run_parser(&o, &opts, bare, 1), CLI_USAGE); /* --data required */
    CHECK(strstr(last_err, "testd: --data is required") != NULL);

    setenv("PATRON_TEST_DATA", "/env", 1);
    setenv("PATRON_TEST_FLAG", "yes", 1);
    setenv("PATRON_TEST_D", "0.25", 1);
    setenv("PATRON_TEST_K", "12", 1);
    setenv("PATRON_TEST_LL", "-3", 1);
    setenv("PATRON_TEST_SEED", "42", 1);
    setenv("PATRON_TEST_CALL", "x", 1);
    setenv("PATRON_TEST_F", "", 1); /* empty: unset */
    CHECK_EQ_INT(run_parser(&o, &opts, bare, 1), CLI_PARSED);
    CHECK_STREQ(o.data, "/env");
    CHECK(o.flag == 1 && o.d == 0.25 && o.u == 12 && o.ll == -3 && o.seed == 42);
    CHECK(o.calls == 1 && o.f == 0.0f);
    CHECK_EQ_INT(cli_opt_find(opts, "data")->given, CLI_GIVEN_ENV);
    CHECK_EQ_INT(cli_opt_find(opts, "f")->given, 0);

    CHECK_EQ_INT(run_parser(&o, &opts, data_arg, 1), CLI_PARSED);
    CHECK_STREQ(o.data, "/argv");
    CHECK_EQ_INT(o.u, 9);
    CHECK_EQ_INT(cli_opt_find(opts, "data")->given, CLI_GIVEN_ARGV);

    setenv("PATRON_TEST_FLAG", "off", 1);
    CHECK_EQ_INT(run_parser(&o, &opts, bare, 1), CLI_PARSED);
    CHECK(o.flag == 0 && !cli_opt_find(opts, "flag")->given);
    setenv("PATRON_TEST_FLAG", "maybe", 1);
    CHECK_EQ_INT(run_parser(&o, &opts, bare, 1), CLI_USAGE);
    CHECK(strstr(last_err, "PATRON_TEST_FLAG") != NULL);
    unsetenv("PATRON_TEST_FLAG");

    setenv("PATRON_TEST_K", "0", 1); /* out of range */
    CHECK_EQ_INT(run_parser(&o, &opts, bare, 1), CLI_USAGE);
    CHECK(strstr(last_err, "testd: PATRON_TEST_K: expected an integer in 1..1000") != NULL);
    CHECK_EQ_INT(run_parser(&o, &opts, data_arg, 1), CLI_PARSED); /* argv wins */
    unsetenv("PATRON_TEST_K");

    setenv("PATRON_TEST_CALL", "bad", 1);
    CHECK_EQ_INT(run_parser(&o, &opts, bare, 1), CLI_USAGE);
    CHECK(strstr(last_err, "PATRON_TEST_CALL") != NULL);
    unsetenv("PATRON_TEST_CALL");

    /* cli_parse (the patron commands) never reads the environment. */
    char *plain[] = { "test", NULL };
    CHECK_EQ_INT(run(&o, &opts, plain), CLI_USAGE);

    cli_env_name("PATRON_", &(cli_opt_t)CLI_FLAG("admin-listen", "", NULL), var, sizeof var);
    CHECK_STREQ(var, "PATRON_ADMIN_LISTEN");
    cli_env_name("PATRON_", &(cli_opt_t)CLI_FLAG("admin-listen", "", NULL), var, 10);
    CHECK_STREQ(var, "PATRON_AD");
    for (const char *const *v = (const char *const[]){ "DATA", "D", "LL", "SEED", NULL }; *v;
         v++) {
        snprintf(var, sizeof var, "PATRON_TEST_%s", *v);
        unsetenv(var);
    }
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

    check_env();
    return test_failures ? 1 : 0;
}
