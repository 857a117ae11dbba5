/*
 * ncf.c - reading the NCF leave-one-out files and computing HR/NDCG (see
 * ncf.h). zlib's gzopen reads both plain and gzip-compressed files, so the
 * published .gz files are read in place.
 */
#include "ncf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "grow.h"
#include "rng.h"

#define LINE_MAX_BYTES 65536
#define MAX_ID 100000000u

typedef struct pairs {
    uint32_t *u, *i;
    int64_t *ts;
    size_t n, cap;
} pairs_t;

static int pairs_push(pairs_t *p, uint32_t u, uint32_t i, int64_t ts)
{
    void *const cols[] = { &p->u, &p->i, &p->ts };
    const size_t sizes[] = { sizeof *p->u, sizeof *p->i, sizeof *p->ts };
    if (grow_parallel(&p->cap, p->n + 1, 3, cols, sizes) != 0)
        return -ENOMEM;
    p->u[p->n] = u;
    p->i[p->n] = i;
    p->ts[p->n] = ts;
    p->n++;
    return 0;
}

static void pairs_free(pairs_t *p)
{
    free(p->u);
    free(p->i);
    free(p->ts);
}

/* Opens prefix+suffix, or prefix+suffix+".gz". */
static gzFile open_either(const char *prefix, const char *suffix, char *path,
                          size_t cap)
{
    gzFile f;
    snprintf(path, cap, "%s%s", prefix, suffix);
    if ((f = gzopen(path, "rb")) != NULL)
        return f;
    snprintf(path, cap, "%s%s.gz", prefix, suffix);
    return gzopen(path, "rb");
}

static int parse_id(const char **s, uint32_t *out)
{
    char *end;
    unsigned long v;
    while (**s == ' ' || **s == '\t')
        (*s)++;
    if (**s < '0' || **s > '9')
        return -1;
    errno = 0;
    v = strtoul(*s, &end, 10);
    if (errno || v >= MAX_ID)
        return -1;
    *out = (uint32_t)v;
    *s = end;
    return 0;
}

static int at_line_end(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    return *s == '\0';
}

/* "user \t item \t rating \t timestamp" -> pair. */
static int parse_rating(const char *line, uint32_t *u, uint32_t *i, int64_t *ts)
{
    const char *s = line;
    char *end;
    if (parse_id(&s, u) || parse_id(&s, i))
        return -1;
    strtod(s, &end); /* rating: implicit feedback ignores its value */
    if (end == s)
        return -1;
    s = end;
    *ts = strtoll(s, &end, 10);
    if (end == s || !at_line_end(end))
        return -1;
    return 0;
}

static int read_ratings(const char *prefix, const char *suffix, pairs_t *p,
                        char *err, size_t errcap)
{
    char path[4096], *line = malloc(LINE_MAX_BYTES);
    gzFile f = open_either(prefix, suffix, path, sizeof path);
    uint64_t lineno = 0;
    int rc = 0;

    if (!line || !f) {
        snprintf(err, errcap, "%s%s: %s", prefix, suffix,
                 line ? "cannot open (also tried .gz)" : "out of memory");
        rc = line ? -ENOENT : -ENOMEM;
        goto out;
    }
    while (gzgets(f, line, LINE_MAX_BYTES)) {
        uint32_t u, i;
        int64_t ts;
        lineno++;
        if (at_line_end(line))
            continue;
        if (parse_rating(line, &u, &i, &ts) != 0) {
            snprintf(err, errcap, "%s:%llu: expected user\\titem\\trating\\ttimestamp",
                     path, (unsigned long long)lineno);
            rc = -EINVAL;
            goto out;
        }
        if ((rc = pairs_push(p, u, i, ts)) != 0)
            goto out;
    }
out:
    if (f)
        gzclose(f);
    free(line);
    return rc;
}

/* "(user,item)" followed by negatives; all lines must have the same count. */
static int parse_negative_line(const char *line, uint32_t *user, uint32_t *item,
                               uint32_t *neg, uint32_t cap, uint32_t *n)
{
    const char *s = line;
    if (*s++ != '(' || parse_id(&s, user) || *s++ != ',' || parse_id(&s, item) ||
        *s++ != ')')
        return -1;
    *n = 0;
    while (!at_line_end(s)) {
        if (*n == cap || parse_id(&s, &neg[*n]))
            return -1;
        (*n)++;
    }
    return 0;
}

typedef struct neg_line {
    uint32_t user, item, n;
    uint32_t ids[1024];
} neg_line_t;

static int read_negatives(const char *prefix, ncf_data_t *d, pairs_t *negs,
                          char *err, size_t errcap)
{
    char path[4096], *line = malloc(LINE_MAX_BYTES);
    neg_line_t *nl = malloc(sizeof *nl);
    gzFile f = open_either(prefix, ".test.negative", path, sizeof path);
    uint64_t lineno = 0;
    int rc = 0;

    if (!line || !nl || !f) {
        snprintf(err, errcap, "%s.test.negative: %s", prefix,
                 line && nl ? "cannot open (also tried .gz)" : "out of memory");
        rc = line && nl ? -ENOENT : -ENOMEM;
        goto out;
    }
    d->n_neg = 0;
    while (gzgets(f, line, LINE_MAX_BYTES)) {
        lineno++;
        if (at_line_end(line))
            continue;
        if (parse_negative_line(line, &nl->user, &nl->item, nl->ids, 1024, &nl->n) ||
            nl->n == 0 || (d->n_neg && nl->n != d->n_neg)) {
            snprintf(err, errcap, "%s:%llu: expected (user,item) and %u item ids",
                     path, (unsigned long long)lineno, d->n_neg ? d->n_neg : 99);
            rc = -EINVAL;
            goto out;
        }
        d->n_neg = nl->n;
        /* Stored as (user, negative) pairs; the test item rides in ts. */
        for (uint32_t j = 0; j < nl->n && rc == 0; j++)
            rc = pairs_push(negs, nl->user, nl->ids[j], nl->item);
        if (rc)
            goto out;
    }
out:
    if (f)
        gzclose(f);
    free(line);
    free(nl);
    return rc;
}

static uint32_t max_plus_one(const uint32_t *v, size_t n, uint32_t cur)
{
    for (size_t k = 0; k < n; k++)
        if (v[k] + 1 > cur)
            cur = v[k] + 1;
    return cur;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* CSR with unique sorted columns per row; keeps the latest timestamp of
 * duplicate pairs. */
static int build_train(ncf_data_t *d, const pairs_t *p)
{
    csr_t *m = &d->train;
    uint64_t *fill;
    size_t nnz = 0;

    m->n_rows = d->n_users;
    m->n_cols = d->n_items;
    m->indptr = calloc((size_t)d->n_users + 1, sizeof *m->indptr);
    m->indices = malloc((p->n ? p->n : 1) * sizeof *m->indices);
    m->values = malloc((p->n ? p->n : 1) * sizeof *m->values);
    d->train_ts = malloc((p->n ? p->n : 1) * sizeof *d->train_ts);
    fill = calloc((size_t)d->n_users + 1, sizeof *fill);
    if (!m->indptr || !m->indices || !m->values || !d->train_ts || !fill) {
        free(fill);
        return -ENOMEM;
    }
    for (size_t k = 0; k < p->n; k++)
        m->indptr[p->u[k] + 1]++;
    for (uint32_t u = 0; u < d->n_users; u++)
        m->indptr[u + 1] += m->indptr[u];
    for (size_t k = 0; k < p->n; k++) {
        uint64_t at = m->indptr[p->u[k]] + fill[p->u[k]]++;
        m->indices[at] = p->i[k];
        d->train_ts[at] = p->ts[k];
    }
    /* Sort each row by item (insertion sort keeps ts aligned; rows are short
     * relative to the whole), then drop duplicates. */
    for (uint32_t u = 0; u < d->n_users; u++) {
        uint64_t b = m->indptr[u], e = m->indptr[u + 1];
        for (uint64_t x = b + 1; x < e; x++) {
            uint32_t it = m->indices[x];
            int64_t ts = d->train_ts[x];
            uint64_t y = x;
            while (y > b && m->indices[y - 1] > it) {
                m->indices[y] = m->indices[y - 1];
                d->train_ts[y] = d->train_ts[y - 1];
                y--;
            }
            m->indices[y] = it;
            d->train_ts[y] = ts;
        }
        m->indptr[u] = nnz;
        for (uint64_t x = b; x < e; x++) {
            if (x > b && m->indices[x] == m->indices[x - 1]) {
                if (d->train_ts[x] > d->train_ts[nnz - 1])
                    d->train_ts[nnz - 1] = d->train_ts[x];
                continue;
            }
            m->indices[nnz] = m->indices[x];
            d->train_ts[nnz] = d->train_ts[x];
            m->values[nnz] = 1.0f;
            nnz++;
        }
    }
    m->indptr[d->n_users] = nnz;
    free(fill);
    return 0;
}

int ncf_load(const char *prefix, ncf_data_t *d, char *err, size_t errcap)
{
    pairs_t train = { 0 }, test = { 0 }, negs = { 0 };
    int rc;

    memset(d, 0, sizeof *d);
    err[0] = '\0';
    if ((rc = read_ratings(prefix, ".train.rating", &train, err, errcap)) ||
        (rc = read_ratings(prefix, ".test.rating", &test, err, errcap)) ||
        (rc = read_negatives(prefix, d, &negs, err, errcap)))
        goto out;
    d->n_users = max_plus_one(train.u, train.n, 0);
    d->n_users = max_plus_one(test.u, test.n, d->n_users);
    d->n_users = max_plus_one(negs.u, negs.n, d->n_users);
    d->n_items = max_plus_one(train.i, train.n, 0);
    d->n_items = max_plus_one(test.i, test.n, d->n_items);
    d->n_items = max_plus_one(negs.i, negs.n, d->n_items);
    if ((rc = build_train(d, &train)) != 0)
        goto out;
    d->test_item = malloc((size_t)d->n_users * sizeof *d->test_item);
    d->negatives = calloc((size_t)d->n_users * d->n_neg + 1, sizeof *d->negatives);
    if (!d->test_item || !d->negatives) {
        rc = -ENOMEM;
        goto out;
    }
    for (uint32_t u = 0; u < d->n_users; u++)
        d->test_item[u] = NCF_NO_ITEM;
    /* The negative file names each user's test item; it must agree with
     * test.rating. */
    for (size_t k = 0; k < test.n; k++)
        d->test_item[test.u[k]] = test.i[k];
    for (size_t k = 0; k < negs.n; k += d->n_neg) {
        uint32_t u = negs.u[k];
        if (d->test_item[u] != (uint32_t)negs.ts[k]) {
            snprintf(err, errcap, "%s.test.negative: user %u's test item %lld "
                     "differs from test.rating", prefix, u, (long long)negs.ts[k]);
            rc = -EINVAL;
            goto out;
        }
        memcpy(d->negatives + (size_t)u * d->n_neg, negs.i + k,
               d->n_neg * sizeof *d->negatives);
    }
out:
    pairs_free(&train);
    pairs_free(&test);
    pairs_free(&negs);
    if (rc)
        ncf_free(d);
    return rc;
}

void ncf_free(ncf_data_t *d)
{
    if (!d)
        return;
    csr_free(&d->train);
    free(d->test_item);
    free(d->negatives);
    free(d->train_ts);
    memset(d, 0, sizeof *d);
}

/* The test item followed by the user's distinct negatives, none equal to
 * the test item (the reference implementation keys candidates by item id,
 * so a repeated negative competes once). Returns the candidate count. */
static uint32_t distinct_candidates(const ncf_data_t *d, uint32_t u, uint32_t *cand)
{
    uint32_t m = 1;
    cand[0] = d->test_item[u];
    memcpy(cand + 1, d->negatives + (size_t)u * d->n_neg, d->n_neg * sizeof *cand);
    qsort(cand + 1, d->n_neg, sizeof *cand, cmp_u32);
    for (uint32_t j = 1; j <= d->n_neg; j++)
        if (cand[j] != cand[0] && (m == 1 || cand[j] != cand[m - 1]))
            cand[m++] = cand[j];
    return m;
}

void ncf_evaluate(const ncf_data_t *d, ncf_score_fn score, void *ctx,
                  uint32_t topn, ncf_metrics_t *out)
{
    uint32_t n = d->n_neg + 1, m;
    uint32_t *cand = malloc(n * sizeof *cand);
    float *s = malloc(n * sizeof *s);
    double hits = 0, ndcg = 0;

    memset(out, 0, sizeof *out);
    if (!cand || !s)
        goto out;
    for (uint32_t u = 0; u < d->n_users; u++) {
        uint32_t rank = 0;
        if (d->test_item[u] == NCF_NO_ITEM)
            continue;
        m = distinct_candidates(d, u, cand);
        score(ctx, u, cand, m, s);
        for (uint32_t j = 1; j < m; j++)
            rank += s[j] >= s[0];
        out->users++;
        if (rank < topn) {
            hits += 1;
            ndcg += 1.0 / log2((double)rank + 2.0);
        }
    }
    if (out->users) {
        out->hr = hits / out->users;
        out->ndcg = ndcg / out->users;
    }
out:
    free(cand);
    free(s);
}

void ncf_score_factors(void *ctx, uint32_t user, const uint32_t *items,
                       size_t n, float *scores)
{
    const ncf_factors_t *f = ctx;
    ials_score_items(f->user_f, f->item_f, f->factors, user, items, n, scores);
}

float *ncf_popularity(const ncf_data_t *d)
{
    float *pop = calloc(d->n_items ? d->n_items : 1, sizeof *pop);
    if (!pop)
        return NULL;
    for (uint64_t k = 0; k < d->train.indptr[d->n_users]; k++)
        pop[d->train.indices[k]] += 1.0f;
    return pop;
}

void ncf_score_popularity(void *ctx, uint32_t user, const uint32_t *items,
                          size_t n, float *scores)
{
    const float *pop = ctx;
    for (size_t j = 0; j < n; j++)
        scores[j] = pop[items[j]];
}

/* Index (within row u) of the latest interaction, ties broken at random. */
static uint64_t latest_in_row(const ncf_data_t *d, uint32_t u, uint64_t *rng)
{
    uint64_t b = d->train.indptr[u], e = d->train.indptr[u + 1], best = b;
    uint64_t ties = 1;
    for (uint64_t x = b + 1; x < e; x++) {
        if (d->train_ts[x] > d->train_ts[best]) {
            best = x;
            ties = 1;
        } else if (d->train_ts[x] == d->train_ts[best] &&
                   splitmix64(rng) % ++ties == 0) {
            best = x; /* reservoir sampling among equal timestamps */
        }
    }
    return best;
}

/* Has user u touched item i anywhere in d (train or test)? */
static int touched(const ncf_data_t *d, uint32_t u, uint32_t i)
{
    const uint32_t *b = d->train.indices + d->train.indptr[u];
    size_t n = d->train.indptr[u + 1] - d->train.indptr[u];
    return d->test_item[u] == i || bsearch(&i, b, n, sizeof *b, cmp_u32) != NULL;
}

int ncf_validation_split(const ncf_data_t *d, uint64_t seed, ncf_data_t *out)
{
    uint64_t rng = seed, nnz = 0;
    uint64_t *held = NULL;
    uint32_t n_neg = d->n_neg ? d->n_neg : 99;
    int rc = -ENOMEM;

    memset(out, 0, sizeof *out);
    out->n_users = d->n_users;
    out->n_items = d->n_items;
    out->n_neg = n_neg;
    out->train.n_rows = d->n_users;
    out->train.n_cols = d->n_items;
    out->train.indptr = calloc((size_t)d->n_users + 1, sizeof(uint64_t));
    out->train.indices = malloc((d->train.indptr[d->n_users] + 1) * sizeof(uint32_t));
    out->train.values = malloc((d->train.indptr[d->n_users] + 1) * sizeof(float));
    out->train_ts = malloc((d->train.indptr[d->n_users] + 1) * sizeof(int64_t));
    out->test_item = malloc((size_t)d->n_users * sizeof *out->test_item);
    out->negatives = malloc(((size_t)d->n_users * n_neg + 1) * sizeof *out->negatives);
    held = malloc(((size_t)d->n_users + 1) * sizeof *held);
    if (!out->train.indptr || !out->train.indices || !out->train.values ||
        !out->train_ts || !out->test_item || !out->negatives || !held)
        goto out;
    for (uint32_t u = 0; u < d->n_users; u++) {
        uint64_t b = d->train.indptr[u], e = d->train.indptr[u + 1];
        held[u] = e - b >= 2 ? latest_in_row(d, u, &rng) : UINT64_MAX;
        out->test_item[u] = held[u] == UINT64_MAX ? NCF_NO_ITEM
                                                  : d->train.indices[held[u]];
        out->train.indptr[u] = nnz;
        for (uint64_t x = b; x < e; x++) {
            if (x == held[u])
                continue;
            out->train.indices[nnz] = d->train.indices[x];
            out->train.values[nnz] = d->train.values[x];
            out->train_ts[nnz] = d->train_ts[x];
            nnz++;
        }
        for (uint32_t j = 0; j < n_neg && held[u] != UINT64_MAX; j++) {
            uint32_t cand;
            int guard = 0;
            do {
                cand = (uint32_t)(splitmix64(&rng) % d->n_items);
            } while (touched(d, u, cand) && ++guard < 1000);
            out->negatives[(size_t)u * n_neg + j] = cand;
        }
    }
    out->train.indptr[d->n_users] = nnz;
    rc = 0;
out:
    free(held);
    if (rc)
        ncf_free(out);
    return rc;
}
