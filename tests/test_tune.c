/*
 * test_tune.c - the hyper-parameter search on an NCF-style data set.
 *
 * A planted data set (user groups that each use only their own item cluster)
 * with every user's held-out item inside the cluster and negatives outside:
 * any sensible setting ranks the held-out item first, so the search must
 * report trials whose scores are real, pick the best of them by NDCG@10,
 * repeat itself exactly for the same seed, and refuse bad configurations.
 */
#include "tune.h"
#include "testutil.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>

enum {
    GROUPS = 4,
    USERS_PER_GROUP = 30,
    CLUSTER = 25,
    PER_USER = 10,
    N_USERS = GROUPS * USERS_PER_GROUP,
    N_ITEMS = GROUPS * CLUSTER,
    N_NEG = 20,
};

/* User u takes items (u + 3k) mod CLUSTER of its cluster for k < PER_USER;
 * its held-out item is the next one; negatives come from other clusters. */
static int build(ncf_data_t *d)
{
    static uint32_t rows[N_USERS * PER_USER], cols[N_USERS * PER_USER];
    static float vals[N_USERS * PER_USER];
    size_t n = 0;
    memset(d, 0, sizeof *d);
    d->n_users = N_USERS;
    d->n_items = N_ITEMS;
    d->n_neg = N_NEG;
    d->test_item = malloc(N_USERS * sizeof *d->test_item);
    d->negatives = malloc((size_t)N_USERS * N_NEG * sizeof *d->negatives);
    if (!d->test_item || !d->negatives)
        return -ENOMEM;
    for (uint32_t u = 0; u < N_USERS; u++) {
        uint32_t g = u / USERS_PER_GROUP, base = g * CLUSTER;
        for (uint32_t k = 0; k < PER_USER; k++) {
            rows[n] = u;
            cols[n] = base + (u + 3 * k) % CLUSTER;
            vals[n++] = 1.0f;
        }
        d->test_item[u] = base + (u + 3 * PER_USER) % CLUSTER;
        for (uint32_t k = 0; k < N_NEG; k++)
            d->negatives[(size_t)u * N_NEG + k] =
                ((g + 1 + k % (GROUPS - 1)) % GROUPS) * CLUSTER +
                (u + 7 * k) % CLUSTER;
    }
    return csr_from_triplets(N_USERS, N_ITEMS, n, rows, cols, vals,
                                  &d->train);
}

typedef struct log {
    tune_trial_t trial[16];
    uint32_t calls, stop_after;
    int best_ok;
} log_t;

static int record(void *ctx, const tune_trial_t *t, const tune_trial_t *best)
{
    log_t *l = ctx;
    if (l->calls < 16)
        l->trial[l->calls] = *t;
    l->calls++;
    /* The best so far is never worse than this trial. */
    if (best->ndcg < t->ndcg)
        l->best_ok = 0;
    return l->stop_after && l->calls >= l->stop_after;
}

static tune_config_t small_config(void)
{
    tune_config_t c;
    tune_config_default(&c);
    c.base.factors = 8;
    c.base.iterations = 4;
    c.base.threads = 1;
    c.trials = 5;
    c.seconds = 0.0; /* no time limit: the trial count decides */
    c.seed = 7;
    return c;
}

static void test_search(const ncf_data_t *d)
{
    tune_config_t c = small_config();
    log_t a = { .best_ok = 1 }, b = { .best_ok = 1 };
    tune_trial_t best_a, best_b;
    CHECK_EQ_INT(tune_ncf(d, &c, record, &a, &best_a), 0);
    CHECK_EQ_INT(a.calls, 5);
    CHECK(a.best_ok);

    /* Trial 0 is the base settings; the search touches only its knobs. */
    CHECK(memcmp(&a.trial[0].params, &c.base, sizeof c.base) == 0);
    double top = -1.0;
    for (uint32_t k = 0; k < a.calls; k++) {
        const tune_trial_t *t = &a.trial[k];
        CHECK_EQ_INT(t->index, k);
        CHECK(t->hr >= 0.0 && t->hr <= 1.0 && t->ndcg >= 0.0 &&
              t->ndcg <= t->hr);
        CHECK(t->params.iterations == c.base.iterations &&
              t->params.solver == c.base.solver &&
              t->params.threads == c.base.threads);
        CHECK(t->params.factors >= 1 && t->params.reg > 0.0f &&
              t->params.alpha0 > 0.0f && t->params.nu >= 0.0f);
        if (t->ndcg > top)
            top = t->ndcg;
    }
    CHECK(best_a.ndcg == top);
    /* The planted structure is easy: the best trial finds it. */
    printf("tune: best HR@10 %.3f NDCG@10 %.3f (factors %u, nu %g)\n",
           best_a.hr, best_a.ndcg, best_a.params.factors, best_a.params.nu);
    CHECK(best_a.hr > 0.9);

    /* Same seed, same trials. */
    CHECK_EQ_INT(tune_ncf(d, &c, record, &b, &best_b), 0);
    CHECK_EQ_INT(b.calls, a.calls);
    for (uint32_t k = 0; k < a.calls && k < b.calls; k++)
        CHECK(memcmp(&a.trial[k].params, &b.trial[k].params,
                     sizeof a.trial[k].params) == 0 &&
              a.trial[k].ndcg == b.trial[k].ndcg);

    /* A nonzero return from the callback stops the search. */
    log_t s = { .best_ok = 1, .stop_after = 2 };
    CHECK_EQ_INT(tune_ncf(d, &c, record, &s, &best_b), 0);
    CHECK_EQ_INT(s.calls, 2);
}

static void test_bad_config(const ncf_data_t *d)
{
    tune_config_t c = small_config();
    tune_trial_t best;
    CHECK_EQ_INT(tune_ncf(NULL, &c, NULL, NULL, &best), -EINVAL);
    CHECK_EQ_INT(tune_ncf(d, NULL, NULL, NULL, &best), -EINVAL);
    CHECK_EQ_INT(tune_ncf(d, &c, NULL, NULL, NULL), -EINVAL);
    c.trials = 0;
    CHECK_EQ_INT(tune_ncf(d, &c, NULL, NULL, &best), -EINVAL);
    c = small_config();
    c.seconds = NAN;
    CHECK_EQ_INT(tune_ncf(d, &c, NULL, NULL, &best), -EINVAL);
    /* Bad training settings surface as ials_train's error. */
    c = small_config();
    c.base.threads = 0;
    CHECK_EQ_INT(tune_ncf(d, &c, NULL, NULL, &best), -EINVAL);
}

static void test_defaults(void)
{
    ials_params_t p;
    tune_ncf_defaults(&p);
    CHECK_EQ_INT(p.solver, IALS_SOLVER_CG);
    CHECK(p.factors >= 64 && p.nu > 0.0f && p.alpha0 < 1.0f);
    tune_config_t c;
    tune_config_default(&c);
    CHECK(memcmp(&c.base, &p, sizeof p) == 0);
    CHECK(c.trials >= 1 && c.seconds > 0.0);
}

int main(void)
{
    ncf_data_t d;
    if (build(&d) != 0) {
        fprintf(stderr, "could not build the planted data set\n");
        return 1;
    }
    test_search(&d);
    test_bad_config(&d);
    test_defaults();
    ncf_free(&d);
    TEST_MAIN_END();
}
