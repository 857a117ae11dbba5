/*
 * test_audience.c - the segment expression language: precedence (through the
 * canonical printer), error messages with their columns, hostile input
 * (length, nesting, unterminated strings, random token soup), and
 * audience_match against hand-written C predicates over a generated
 * population.
 */
#include <errno.h>
#include <stdint.h>
#include <strings.h>

#include "audience.h"
#include "testutil.h"

/* Parses expr with the default config and returns its canonical form in a
 * static buffer ("" on error). */
static const char *canon(const char *expr)
{
    static char out[4096];
    char err[256];
    audience_t *a = NULL;
    int rc = audience_parse(expr, NULL, &a, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "unexpected parse error for <%s>: %s\n", expr, err);
        test_failures++;
        out[0] = '\0';
        return out;
    }
    audience_format(a, out, sizeof out);
    audience_free(a);
    return out;
}

static void test_precedence(void)
{
    CHECK_STREQ(canon("orders >= 3 OR r = 5 AND f = 5"),
                "(orders >= 3 OR (r = 5 AND f = 5))");
    CHECK_STREQ(canon("r = 5 AND f = 5 OR orders >= 3"),
                "((r = 5 AND f = 5) OR orders >= 3)");
    CHECK_STREQ(canon("(orders >= 3 OR r = 5) AND f = 5"),
                "((orders >= 3 OR r = 5) AND f = 5)");
    CHECK_STREQ(canon("NOT r = 1 AND f = 2"), "(NOT r = 1 AND f = 2)");
    CHECK_STREQ(canon("NOT (r = 1 AND f = 2)"), "NOT (r = 1 AND f = 2)");
    CHECK_STREQ(canon("NOT NOT r = 1"), "NOT NOT r = 1");
    /* Chains are flat, not nested. */
    CHECK_STREQ(canon("r=1 AND f=2 AND m=3 OR r=4 OR r=5"),
                "((r = 1 AND f = 2 AND m = 3) OR r = 4 OR r = 5)");
    /* Keywords and names are case-insensitive; quotes either kind. */
    CHECK_STREQ(canon("orders>=3 and not Stage in (NEW, 'at_risk')"),
                "(orders >= 3 AND NOT stage IN (new, at_risk))");
    CHECK_STREQ(canon("region NOT IN (\"EU\", 'U\\'S') AND tier >= Silver"),
                "(region NOT IN (\"EU\", \"U'S\") AND tier >= silver)");
    CHECK_STREQ(canon("monetary > -1.5e2 AND recency_days <= .5"),
                "(monetary > -150 AND recency_days <= 0.5)");
    CHECK_STREQ(canon("segment IN (cant_lose_them, none) OR tier = none"),
                "(segment IN (cant_lose_them, none) OR tier = none)");
    /* The example of the issue. */
    CHECK_STREQ(canon("tier = gold AND stage IN (at_risk, lapsed) AND r >= 4 "
                      "AND monetary > 100 AND recency_days <= 90 AND "
                      "category = \"Garden\" AND NOT segment = hibernating OR "
                      "(orders >= 3)"),
                "((tier = gold AND stage IN (at_risk, lapsed) AND r >= 4 AND "
                "monetary > 100 AND recency_days <= 90 AND category = "
                "\"Garden\" AND NOT segment = hibernating) OR orders >= 3)");
}

/* Parses expr expecting failure rc and exactly the message want. */
static void check_error(const char *expr, int rc, const char *want)
{
    char err[256] = "untouched";
    audience_t *a = (audience_t *)&err; /* must be reset to NULL */
    CHECK_EQ_INT(audience_parse(expr, NULL, &a, err, sizeof err), rc);
    CHECK(a == NULL);
    if (want)
        CHECK_STREQ(err, want);
}

static void test_errors(void)
{
    check_error("tiers = gold", -EINVAL, "col 1: unknown field 'tiers'");
    check_error("tier = glod", -EINVAL,
                "col 8: unknown tier 'glod' (expected one of: bronze, silver, "
                "gold, platinum, none)");
    check_error("stage IN (new, lapsd)", -EINVAL,
                "col 16: unknown stage 'lapsd' (expected one of: prospect, new, "
                "active, at_risk, lapsed, won_back)");
    check_error("orders >= ", -EINVAL,
                "col 11: expected a number for 'orders', found end of expression");
    check_error("orders >= gold", -EINVAL,
                "col 11: expected a number for 'orders', found 'gold'");
    check_error("stage < active", -EINVAL,
                "col 7: operator '<' does not apply to 'stage' (use = != IN)");
    check_error("category >= \"a\"", -EINVAL,
                "col 10: operator '>=' does not apply to 'category' (use = != IN)");
    check_error("(orders > 1", -EINVAL,
                "col 12: expected ')' to close '(' at col 1, found end of expression");
    check_error("orders > 1)", -EINVAL, "col 11: unmatched ')', found ')'");
    check_error("orders > 1 r = 2", -EINVAL,
                "col 12: expected AND, OR or the end, found 'r'");
    check_error("region = \"abc", -EINVAL, "col 10: unterminated string starting \"");
    check_error("orders > 1 AND", -EINVAL,
                "col 15: expected a field, '(' or NOT, found end of expression");
    check_error("", -EINVAL, "col 1: empty expression");
    check_error("   ", -EINVAL, "col 1: empty expression");
    check_error("orders > 12abc", -EINVAL, "col 10: malformed number, found '12abc'");
    check_error("orders # 3", -EINVAL, "col 8: unexpected character, found '#'");
    check_error("orders ! 3", -EINVAL, "col 8: expected '!=', found '!'");
    check_error("orders == 3", -EINVAL,
                "col 9: expected a number for 'orders', found '='");
    check_error("orders 3", -EINVAL,
                "col 8: expected an operator after 'orders', found '3'");
    check_error("region IN ()", -EINVAL,
                "col 12: expected a name or string for 'region', found ')'");
    check_error("region IN (a b)", -EINVAL,
                "col 14: expected ',' or ')' in IN list, found 'b'");
    check_error("region IN a", -EINVAL, "col 11: expected '(' after IN, found 'a'");
    check_error("r NOT = 1", -EINVAL, "col 7: expected IN after NOT, found '='");
    check_error("segment = champion", -EINVAL, NULL);
    check_error("orders > 1 \x01", -EINVAL,
                "col 12: unexpected character, found '\\x01'");
    check_error("orders > 1e999", -EINVAL, "col 10: number out of range");
    check_error(NULL, -EINVAL, "col 1: no expression");

    /* A small err buffer is truncated, never overrun. */
    char small[8];
    audience_t *a = NULL;
    CHECK_EQ_INT(audience_parse("tiers = 1", NULL, &a, small, sizeof small),
                 -EINVAL);
    CHECK_STREQ(small, "col 1: ");
    CHECK_EQ_INT(audience_parse("tiers = 1", NULL, &a, NULL, 0), -EINVAL);
    CHECK_EQ_INT(audience_parse("r = 1", NULL, NULL, small, sizeof small), -EINVAL);

    /* Names come from the config: a custom tier table. */
    profile_config_t cfg;
    profile_config_default(&cfg);
    cfg.n_tiers = 2;
    snprintf(cfg.tiers[0].name, PROFILE_NAME_MAX, "member");
    snprintf(cfg.tiers[1].name, PROFILE_NAME_MAX, "vip");
    char err[256];
    CHECK_EQ_INT(audience_parse("tier = vip", &cfg, &a, err, sizeof err), 0);
    audience_free(a);
    CHECK_EQ_INT(audience_parse("tier = gold", &cfg, &a, err, sizeof err), -EINVAL);
    CHECK_STREQ(err, "col 8: unknown tier 'gold' (expected one of: member, vip, none)");
    cfg.lapse_factor = 0;
    CHECK_EQ_INT(audience_parse("r = 1", &cfg, &a, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "lapse_factor") != NULL);
}

static char big[3 * AUDIENCE_MAX_EXPR];

static void test_hostile(void)
{
    char err[256];
    audience_t *a = NULL;
    size_t n;

    /* Too long: refused before any parsing. */
    memset(big, 0, sizeof big);
    for (n = 0; n + 12 < AUDIENCE_MAX_EXPR + 100;)
        n += (size_t)sprintf(big + n, "r = 1 AND ");
    sprintf(big + n, "r = 1");
    CHECK_EQ_INT(audience_parse(big, NULL, &a, err, sizeof err), -E2BIG);
    CHECK(strstr(err, "longer than 4096 bytes") != NULL);

    /* Just under the limit: ~400 comparisons in one flat AND. */
    memset(big, 0, sizeof big);
    for (n = 0; n + 20 < AUDIENCE_MAX_EXPR;)
        n += (size_t)sprintf(big + n, "r = 1 AND ");
    sprintf(big + n, "f = 2");
    CHECK_EQ_INT(audience_parse(big, NULL, &a, err, sizeof err), 0);
    audience_row_t row = { .r = 1, .f = 2, .stage = 2, .orders = 1 };
    CHECK_EQ_INT(audience_match(a, &row), 1);
    row.f = 3;
    CHECK_EQ_INT(audience_match(a, &row), 0);
    audience_free(a);

    /* Nesting: AUDIENCE_MAX_DEPTH parentheses are fine, one more is not. */
    for (int depth = AUDIENCE_MAX_DEPTH; depth <= AUDIENCE_MAX_DEPTH + 1; depth++) {
        n = 0;
        for (int i = 0; i < depth; i++)
            big[n++] = '(';
        n += (size_t)sprintf(big + n, "r = 1");
        for (int i = 0; i < depth; i++)
            big[n++] = ')';
        big[n] = '\0';
        int rc = audience_parse(big, NULL, &a, err, sizeof err);
        CHECK_EQ_INT(rc, depth <= AUDIENCE_MAX_DEPTH ? 0 : -E2BIG);
        if (rc == 0) {
            row.r = 1;
            CHECK_EQ_INT(audience_match(a, &row), 1);
            audience_free(a);
        } else {
            CHECK_STREQ(err, "col 33: nesting deeper than 32");
        }
    }
    /* 4000 open parentheses, 1000 NOTs. */
    memset(big, '(', 4000);
    big[4000] = '\0';
    CHECK_EQ_INT(audience_parse(big, NULL, &a, err, sizeof err), -E2BIG);
    for (n = 0; n < 4000; n += 4)
        memcpy(big + n, "NOT ", 4);
    sprintf(big + n, "r = 1");
    CHECK_EQ_INT(audience_parse(big, NULL, &a, err, sizeof err), -E2BIG);
    /* An even number of NOTs within the limit is the comparison itself. */
    n = 0;
    for (int i = 0; i < AUDIENCE_MAX_DEPTH; i++)
        n += (size_t)sprintf(big + n, "not ");
    sprintf(big + n, "r = 1");
    CHECK_EQ_INT(audience_parse(big, NULL, &a, err, sizeof err), 0);
    row.r = 1;
    CHECK_EQ_INT(audience_match(a, &row), 1);
    row.r = 2;
    CHECK_EQ_INT(audience_match(a, &row), 0);
    audience_free(a);

    /* Strings: unterminated and long, overlong identifiers, huge IN lists. */
    n = (size_t)sprintf(big, "region = \"");
    memset(big + n, 'x', 3000);
    big[n + 3000] = '\0';
    CHECK_EQ_INT(audience_parse(big, NULL, &a, err, sizeof err), -E2BIG);
    CHECK_STREQ(err, "col 10: string longer than 256 bytes");
    memset(big, 'a', 300);
    sprintf(big + 300, " = 1");
    CHECK_EQ_INT(audience_parse(big, NULL, &a, err, sizeof err), -E2BIG);
    n = (size_t)sprintf(big, "r IN (");
    for (int i = 0; i < AUDIENCE_MAX_LIST + 1; i++)
        n += (size_t)sprintf(big + n, "%s1", i ? "," : "");
    sprintf(big + n, ")");
    CHECK_EQ_INT(audience_parse(big, NULL, &a, err, sizeof err), -E2BIG);
    CHECK(strstr(err, "more than 256 values") != NULL);
    n = (size_t)sprintf(big, "region = \"abc\\");
    CHECK_EQ_INT(audience_parse(big, NULL, &a, err, sizeof err), -EINVAL);
}

/* Random expressions: valid ones built from the grammar, then (half of the
 * time) mutated by one byte, plus soups of random tokens. The parser must
 * accept every unmutated one, answer everything with 0, -EINVAL or -E2BIG and
 * a "col N:" message, and whatever parses must print to a form that parses
 * back to the same form. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng_state >> 33) % n);
}

typedef struct sbuf {
    char s[2048];
    size_t n;
} sbuf_t;

static void put(sbuf_t *b, const char *text)
{
    int w = snprintf(b->s + b->n, sizeof b->s - b->n, "%s", text);
    if (w > 0)
        b->n = b->n + (size_t)w < sizeof b->s ? b->n + (size_t)w : sizeof b->s - 1;
}

static void gen_comparison(sbuf_t *b)
{
    static const char *const num_fields[] = { "r", "orders", "monetary",
                                              "recency_days", "points",
                                              "birthday_month", "clv", "churn_p" };
    static const char *const ops[] = { "=", "!=", "<", "<=", ">", ">=" };
    static const char *const nums[] = { "1", "-2.5", "1e3", ".5", "100" };
    static const char *const stages[] = { "new", "'active'", "LAPSED", "won_back" };
    static const char *const texts[] = { "\"Garden\"", "toys", "'a\\'b'",
                                         "\"q\\\"x\\\\\"" };
    switch (rnd(4)) {
    case 0:
        put(b, num_fields[rnd(6)]);
        put(b, " ");
        put(b, ops[rnd(6)]);
        put(b, " ");
        put(b, nums[rnd(5)]);
        return;
    case 1:
        put(b, "tier ");
        put(b, ops[rnd(6)]);
        put(b, rnd(2) ? " gold" : " none");
        return;
    case 2:
        put(b, rnd(2) ? "stage IN (" : "stage NOT IN (");
        for (uint32_t i = 0, k = 1 + rnd(3); i < k; i++) {
            put(b, i ? ", " : "");
            put(b, stages[rnd(4)]);
        }
        put(b, ")");
        return;
    default:
        put(b, rnd(2) ? "category " : "region ");
        put(b, rnd(2) ? "= " : "!= ");
        put(b, texts[rnd(4)]);
        return;
    }
}

static void gen_expr(sbuf_t *b, int depth)
{
    uint32_t k = 1 + rnd(3);
    for (uint32_t i = 0; i < k; i++) {
        if (i)
            put(b, rnd(2) ? " AND " : " or ");
        if (rnd(4) == 0)
            put(b, "NOT ");
        if (depth < 6 && rnd(3) == 0) {
            put(b, "(");
            gen_expr(b, depth + 1);
            put(b, ")");
        } else {
            gen_comparison(b);
        }
    }
}

static void gen_soup(sbuf_t *b)
{
    static const char *const pieces[] = {
        "r", "orders", "tier", "stage", "segment", "category", "region",
        "=", "!=", "<", "<=", ">=", "IN", "NOT", "AND", "OR", "(", ")", ",",
        "1", "-2.5", "gold", "new", "lost", "\"Garden\"", "'x", "\"", "!",
        "#", "1e", ".", "none", "\\", "\x7f",
    };
    for (uint32_t i = 0, len = 1 + rnd(24); i < len; i++) {
        put(b, pieces[rnd(sizeof pieces / sizeof pieces[0])]);
        put(b, rnd(4) ? " " : "");
    }
}

static void mutate(sbuf_t *b)
{
    static const char bytes[] = "()'\",=<>!ANDOR x1.\\";
    size_t at = rnd((uint32_t)b->n);
    if (rnd(2))
        b->s[at] = bytes[rnd(sizeof bytes - 1)];
    else
        memmove(b->s + at, b->s + at + 1, b->n - at); /* delete, NUL moves */
}

static void test_fuzz(void)
{
    char err[256], form[8192], form2[8192];
    int parsed = 0, failed = 0;

    for (int iter = 0; iter < 20000; iter++) {
        sbuf_t b = { .n = 0 };
        b.s[0] = '\0';
        int kind = (int)rnd(3); /* 0 valid, 1 mutated, 2 soup */
        if (kind == 2) {
            gen_soup(&b);
        } else {
            gen_expr(&b, 0);
            if (kind == 1)
                mutate(&b);
        }
        audience_t *a = NULL;
        int rc = audience_parse(b.s, NULL, &a, err, sizeof err);
        if (kind == 0 && rc != 0)
            fprintf(stderr, "valid expression refused: <%s>: %s\n", b.s, err);
        CHECK(kind != 0 || rc == 0);
        if (rc == 0) {
            parsed++;
            audience_format(a, form, sizeof form);
            audience_free(a);
            CHECK_EQ_INT(audience_parse(form, NULL, &a, err, sizeof err), 0);
            audience_format(a, form2, sizeof form2);
            audience_free(a);
            CHECK_STREQ(form, form2);
        } else {
            failed++;
            CHECK(rc == -EINVAL || rc == -E2BIG);
            CHECK(strncmp(err, "col ", 4) == 0);
            CHECK(a == NULL);
        }
    }
    CHECK(parsed > 5000 && failed > 5000);
}

/* ---- audience_match against brute force ------------------------------------------ */

enum { POP = 3000 };

static const char *const cat_names[] = { "Garden", "Toys", "Books", "Kitchen",
                                         "Sport" };
static const char *const regions[] = { "EU", "us", "", NULL, "APAC" };

typedef struct person {
    audience_row_t row;
} person_t;

static void make_population(person_t *pop)
{
    for (int i = 0; i < POP; i++) {
        audience_row_t *r = &pop[i].row;
        memset(r, 0, sizeof *r);
        r->orders = rnd(4) ? rnd(12) : 0;
        r->tier = (int)rnd(5) - 1;
        r->segment = r->orders ? (int)rnd(11) : -1;
        r->stage = r->orders ? 1 + (int)rnd(5) : 0;
        if (r->orders) {
            r->r = (uint8_t)(1 + rnd(5));
            r->f = (uint8_t)(1 + rnd(5));
            r->m = (uint8_t)(1 + rnd(5));
            r->recency_days = rnd(4000) / 10.0;
            r->average_basket = rnd(3000) / 10.0;
        }
        r->monetary = r->orders ? rnd(200000) / 100.0 : 0.0;
        r->typical_gap_days = r->orders > 1 ? rnd(900) / 10.0 : 0.0;
        r->points = (int64_t)r->monetary;
        r->views = rnd(50);
        r->carts = rnd(10);
        r->n_categories = r->orders ? rnd(4) : 0;
        for (size_t c = 0; c < r->n_categories; c++)
            r->categories[c] = cat_names[rnd(5)];
        r->region = regions[rnd(5)];
        r->signup_month = (uint8_t)rnd(13);
        r->birthday_month = (uint8_t)rnd(13);
        r->has_clv = r->orders > 0 && rnd(8) != 0; /* some: no model yet */
        if (r->has_clv) {
            r->clv = rnd(100000) / 100.0;
            r->churn_p = rnd(1001) / 1000.0;
        }
    }
}

static int has_cat(const audience_row_t *r, const char *name)
{
    for (size_t c = 0; c < r->n_categories; c++)
        if (strcasecmp(r->categories[c], name) == 0)
            return 1;
    return 0;
}

/* Default segment indices: see profile.c's default table. */
enum { SEG_CHAMPIONS = 0, SEG_LOYAL = 1, SEG_HIBERNATING = 10 };
enum { TIER_SILVER = 1, TIER_GOLD = 2 };

static int pred_issue(const audience_row_t *r)
{
    return (r->tier == TIER_GOLD &&
            (r->stage == PROFILE_STAGE_AT_RISK || r->stage == PROFILE_STAGE_LAPSED) &&
            r->r >= 4 && r->monetary > 100 && r->orders > 0 &&
            r->recency_days <= 90 && has_cat(r, "garden") &&
            !(r->segment == SEG_HIBERNATING)) ||
           r->orders >= 3;
}

static int pred_tier_stage(const audience_row_t *r)
{
    return r->tier >= TIER_SILVER &&
           (r->stage == PROFILE_STAGE_AT_RISK || r->stage == PROFILE_STAGE_LAPSED);
}

static int pred_cat_region(const audience_row_t *r)
{
    int region_known = r->region && r->region[0];
    return has_cat(r, "Garden") ||
           (region_known && strcasecmp(r->region, "eu") != 0);
}

static int pred_unknowns(const audience_row_t *r)
{
    int recent = r->orders > 0 && r->recency_days <= 30;
    int slow = r->orders > 1 && r->typical_gap_days > 20;
    return !(recent || slow);
}

static int pred_not_in(const audience_row_t *r)
{
    return !has_cat(r, "Garden") && !has_cat(r, "Toys") &&
           (r->m == 4 || r->m == 5) && r->birthday_month == 12;
}

static int pred_segments(const audience_row_t *r)
{
    return r->segment == -1 ||
           ((r->segment == SEG_CHAMPIONS || r->segment == SEG_LOYAL) &&
            r->points > 500);
}

static int pred_ranges(const audience_row_t *r)
{
    return r->monetary >= 250 && r->monetary < 1000 && r->orders != 2 &&
           r->signup_month >= 6 && r->views + 0 > 10 && r->carts <= 3 &&
           r->average_basket > 0;
}

static int pred_region_ne(const audience_row_t *r)
{
    return r->region && r->region[0] && strcasecmp(r->region, "us") != 0 &&
           r->f <= 2;
}

static int pred_clv(const audience_row_t *r)
{
    return r->has_clv && ((r->clv >= 500 && r->churn_p > 0.6) || r->churn_p <= 0.1);
}

/* Unknown (no orders, no model) is false for both, so NOT selects them. */
static int pred_clv_unknown(const audience_row_t *r)
{
    return !(r->has_clv && r->clv < 100);
}

static void test_match_brute_force(void)
{
    static person_t pop[POP];
    static const struct {
        const char *expr;
        int (*pred)(const audience_row_t *);
    } cases[] = {
        { "tier = gold AND stage IN (at_risk, lapsed) AND r >= 4 AND "
          "monetary > 100 AND recency_days <= 90 AND category = \"Garden\" "
          "AND NOT segment = hibernating OR (orders >= 3)", pred_issue },
        { "tier >= silver AND stage IN (at_risk, lapsed)", pred_tier_stage },
        { "category = 'garden' OR region != EU", pred_cat_region },
        { "NOT (recency_days <= 30 OR typical_gap_days > 20)", pred_unknowns },
        { "category NOT IN (Garden, toys) AND m IN (4, 5) AND birthday_month = 12",
          pred_not_in },
        { "segment = none OR segment IN (champions, loyal) AND points > 500",
          pred_segments },
        { "monetary >= 250 AND monetary < 1000 AND orders != 2 AND "
          "signup_month >= 6 AND views > 10 AND carts <= 3 AND average_basket > 0",
          pred_ranges },
        { "region != 'US' AND f <= 2", pred_region_ne },
        { "clv >= 500 AND churn_p > 0.6 OR churn_p <= 0.1", pred_clv },
        { "NOT clv < 100", pred_clv_unknown },
    };
    char err[256];

    make_population(pop);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        audience_t *a = NULL;
        int rc = audience_parse(cases[c].expr, NULL, &a, err, sizeof err);
        CHECK_EQ_INT(rc, 0);
        if (rc) {
            fprintf(stderr, "%s\n", err);
            continue;
        }
        int matched = 0, wrong = 0;
        for (int i = 0; i < POP; i++) {
            int got = audience_match(a, &pop[i].row);
            int want = cases[c].pred(&pop[i].row) != 0;
            matched += want;
            if (got != want && wrong++ < 3)
                fprintf(stderr, "case %zu row %d: got %d want %d\n", c, i, got,
                        want);
        }
        CHECK_EQ_INT(wrong, 0);
        /* each expression selects a real, proper subset */
        CHECK(matched > 0 && matched < POP);
        audience_free(a);
    }
    CHECK_EQ_INT(audience_match(NULL, &pop[0].row), 0);
}

/* The row filled from real profiles: the default segment indices the brute
 * force assumes are the config's. */
static void test_default_indices(void)
{
    profile_config_t cfg;
    profile_config_default(&cfg);
    CHECK_STREQ(profile_segment_name(&cfg, SEG_CHAMPIONS), "champions");
    CHECK_STREQ(profile_segment_name(&cfg, SEG_LOYAL), "loyal");
    CHECK_STREQ(profile_segment_name(&cfg, SEG_HIBERNATING), "hibernating");
    CHECK_STREQ(profile_tier_name(&cfg, TIER_SILVER), "silver");
    CHECK_STREQ(profile_tier_name(&cfg, TIER_GOLD), "gold");
}

int main(void)
{
    test_precedence();
    test_errors();
    test_hostile();
    test_fuzz();
    test_default_indices();
    test_match_brute_force();
    TEST_MAIN_END();
}
