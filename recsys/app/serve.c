/*
 * serve.c - Recommend, RankItems and SimilarItems as use cases on domain
 * types (serve.h): arms applied, exposure logged, shown recorded.
 */
#include "serve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exposure.h"

/* Logs the served items as the exposure; store item index = model index. */
static int log_served(const serve_env_t *env, const arms_t *arms, const char *customer_id,
                      const char *request_id, const rec_item_t *items, size_t n)
{
    uint32_t *ids = NULL;
    int rc;

    if (!arms->n)
        return 0;
    if (n && !(ids = malloc(n * sizeof *ids)))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        ids[i] = items[i].item;
    rc = exposure_log(env->store, arms, customer_id, request_id, ids, n);
    free(ids);
    if (rc == 0)
        counters_exposure(env->counters, arms);
    return rc;
}

static void record_shown(const serve_env_t *env, const char *customer_id,
                         const rec_item_t *items, size_t n, int64_t now_ms)
{
    uint32_t ids[SHOWN_PER_CUSTOMER];
    size_t m = n < SHOWN_PER_CUSTOMER ? n : SHOWN_PER_CUSTOMER;
    for (size_t i = 0; i < m; i++)
        ids[i] = items[i].item;
    shown_record(env->shown, customer_id, ids, m, now_ms);
}

int serve_recommend(const serve_env_t *env, const model_t *m, const catalog_t *c,
                    const arms_t *arms,
                    const rec_query_t *q, uint32_t exclude_shown_minutes,
                    const char *request_id, rec_item_t *out, size_t *n,
                    int *personalized, const char **failed)
{
    uint32_t recent[SHOWN_PER_CUSTOMER];
    rec_query_t aq = *q;
    int rc;

    *failed = "recommend";
    if (exclude_shown_minutes > SERVE_MAX_SHOWN_MINUTES)
        return -EINVAL;
    if (exclude_shown_minutes && !q->non_personalized) {
        int64_t since = arms->now_ms - (int64_t)exclude_shown_minutes * 60000;
        aq.deny_items = recent;
        aq.n_deny_items = shown_since(env->shown, q->customer_id, since, recent,
                                      SHOWN_PER_CUSTOMER);
    }
    aq.popularity_blend = arms->popularity_blend;
    aq.now_ms = arms->now_ms; /* the customer's ongoing session counts */
    if (!div_active(&aq.diversity)) /* the request's own settings win */
        aq.diversity = (div_params_t){ arms->diversity, arms->max_per_category };
    if ((rc = rec_recommend(env->store, m, c, &aq, out, n, personalized)) != 0)
        return rc;
    if ((rc = log_served(env, arms, q->customer_id, request_id, out, *n)) != 0) {
        *failed = "logging the exposure (nothing was served)";
        return rc;
    }
    record_shown(env, q->customer_id, out, *n, arms->now_ms);
    return 0;
}

int serve_rank(const serve_env_t *env, const model_t *m, const catalog_t *c,
               const arms_t *arms,
               const char *customer_id, int non_personalized,
               const char *const *item_ids, size_t n,
               const char *request_id, rec_item_t *ranked, size_t *n_ranked,
               size_t *unknown, size_t *n_unknown, int *personalized,
               const char **failed)
{
    rec_query_t q = { .customer_id = customer_id, .k = 1,
                      .popularity_blend = arms->popularity_blend,
                      .non_personalized = non_personalized };
    uint32_t *known = malloc((n ? n : 1) * sizeof *known);
    size_t nk = 0, nu = 0;
    int rc = -ENOMEM;

    *failed = "rank items";
    *n_ranked = *n_unknown = 0;
    if (!known)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (catalog_item_index(c, item_ids[i], &known[nk]) == 0 &&
            known[nk] < m->hdr.n_items)
            nk++;
        else
            unknown[nu++] = i;
    }
    rc = rec_rank_query(env->store, m, c, &q, known, nk, ranked, personalized);
    free(known);
    if (rc)
        return rc;
    if ((rc = log_served(env, arms, customer_id, request_id, ranked, nk)) != 0) {
        *failed = "logging the exposure (nothing was served)";
        return rc;
    }
    *n_ranked = nk;
    *n_unknown = nu;
    return 0;
}

int serve_similar(const model_t *m, const catalog_t *c, const char *item_id, uint32_t k,
                  const rec_filters_t *filters, const rec_access_t *access,
                  rec_item_t *out, size_t *n)
{
    uint32_t item;
    *n = 0;
    if (catalog_item_index(c, item_id, &item) != 0)
        return -ENOENT;
    if (item >= m->hdr.n_items)
        return -ENODATA;
    return rec_similar(m, c, item, k, filters, access, out, n);
}
