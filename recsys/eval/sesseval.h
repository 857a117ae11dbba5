/*
 * sesseval.h - `patron eval --data DIR --sessions`: how well the current
 * session predicts what the customer buys, for session-aware serving
 * (session.h) against two baselines.
 *
 * Sessions: each customer's events (time order) cut wherever two
 * neighbours are more than gap_ms apart (an Online Retail invoice, whose
 * lines share one timestamp, is one session). Sessions are ordered by start
 * time; the last test_share of them are the test sessions, the val_share
 * before those the validation sessions. A session is a case when its last
 * event is a purchase and something came before it in the session: the
 * purchased item is the target, the session's earlier events the context,
 * the customer's events before the session the history.
 *
 * Each set is scored against a model trained (train_config_t, as
 * `patron train`) on the events strictly before the set's first session,
 * and a V-SKNN index (vsknn.h) over the sessions that ended before it:
 *   fold-in        factors folded in from history + context (foldin.h),
 *                  what Recommend did before sessions counted;
 *   V-SKNN         the context alone;
 *   session-aware  the fold-in blended with the context's recency-weighted
 *                  fold-in (session.h).
 * The blend and half-life are chosen on the validation cases over a grid
 * (half-lives 1, 2, 4, 8 events or no decay; blends 0, 0.1, .., 1): the
 * smallest blend within one standard error of the best NDCG@K (sesseval.c
 * says why), and only then applied to the test
 * cases. Every item is ranked (nothing excluded); ties in score go to the
 * more popular item in the training data, then the lower index. Recall@K =
 * share of cases with the target in the top K; NDCG@K = mean of
 * 1 / log2(rank + 1) over hits.
 *
 * Memory: every event (~48 bytes) and one score vector per method.
 * Errors: 0 or a negative errno; no printing.
 */
#ifndef PATRON_RECSYS_SESSEVAL_H
#define PATRON_RECSYS_SESSEVAL_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "store.h"
#include "train.h"
#include "vsknn.h"

typedef struct sesseval_config {
    int64_t gap_ms;        /* > 0 (default SESSION_GAP_MS_DEFAULT) */
    double test_share;     /* of sessions, > 0 (default 0.1) */
    double val_share;      /* > 0, test_share + val_share < 1 (default 0.1) */
    uint32_t k;            /* cut-off, 1..1000 (default 20) */
    vsknn_params_t knn;    /* default VSKNN_K_DEFAULT, VSKNN_SAMPLE_DEFAULT */
} sesseval_config_t;

void sesseval_config_default(sesseval_config_t *c);

typedef struct sesseval_session {
    uint32_t customer;
    size_t hist;           /* the customer's first event */
    size_t begin, end;     /* the session's events [begin, end) */
} sesseval_session_t;

typedef struct sesseval_split {
    sesseval_session_t *sess; /* every session, in event order */
    size_t n_sess;
    int64_t val_from_ms, test_from_ms; /* first start of each set */
    uint32_t *val, *test;     /* the cases: indices into sess */
    size_t n_val, n_test;
} sesseval_split_t;

/*
 * Splits ev[0..n) (grouped by customer, time order within one: as
 * store_scan_events gives them) into sessions and cases. out gets its own
 * arrays (sesseval_split_free); ev is not kept. Returns 0, -EINVAL (bad
 * config), -ENOENT (fewer than 3 sessions), -ENOMEM.
 */
int sesseval_split_make(const store_event_rec_t *ev, size_t n, const sesseval_config_t *c,
                        sesseval_split_t *out);
void sesseval_split_free(sesseval_split_t *sp); /* NULL-safe */

typedef struct sesseval_metrics {
    double recall, ndcg;
} sesseval_metrics_t;

typedef struct sesseval_report {
    uint64_t events;
    size_t sessions, n_val, n_test;
    int64_t val_from_ms, test_from_ms;
    session_params_t learned;          /* gap, half-life and blend chosen */
    sesseval_metrics_t val_foldin, val_session; /* on the validation cases */
    sesseval_metrics_t foldin, vsknn, session;  /* on the test cases */
    double train_seconds;              /* both trainings */
} sesseval_report_t;

/*
 * Reads every event of s, splits, trains twice (before the validation and
 * before the test sessions), learns the blend and scores the test cases.
 * Returns 0, -EINVAL (config), -ENOENT (no events, or no validation or test
 * case), -ENOMEM, an ials_train or a store error.
 */
int sesseval_run(store_t *s, const train_config_t *tc, const sesseval_config_t *c,
                 sesseval_report_t *rep);

#endif
