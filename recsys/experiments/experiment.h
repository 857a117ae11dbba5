/*
 * experiment.h - A/B experiment definitions and the assignment of customers
 * to arms. Pure logic: no storage, no transport, no I/O; the server stores
 * definitions and builds an immutable experiment_set_t from them.
 *
 * Assignment is a pure function of (definitions, customer id, time), so it is
 * sticky across restarts and servers without storing anything per customer:
 *
 *  - Layers. Each experiment names a layer. Experiments in one layer are
 *    mutually exclusive; different layers overlap independently. A customer's
 *    layer position is SipHash-2-4("layer", layer name, customer id) reduced
 *    to one of EXPERIMENT_BUCKETS buckets. Within a layer the experiments are
 *    laid out in the order (start_ms, id) on disjoint contiguous bucket
 *    ranges, each llround(traffic_fraction * EXPERIMENT_BUCKETS) buckets long,
 *    starting where the previous one ends. The fractions of one layer may sum
 *    to at most 1.
 *  - Ramping. An experiment's range keeps its first bucket and only grows as
 *    its traffic rises, so everyone already in stays in. Ramping an
 *    experiment that has another laid out after it in its layer would move
 *    the later one's customers; experiment_set_update_invalid rejects that
 *    (and any other update that would move customers of a started
 *    experiment). New experiments start later and so go to the end.
 *  - Arms. The arm is chosen by a second, independent hash,
 *    SipHash-2-4("arm", salt, customer id), mapped to [0, 1) with 53-bit
 *    resolution and looked up in the arms' cumulative weights. It does not
 *    depend on traffic, so ramping never changes a customer's arm.
 *  - Forced arms (QA) override the layer hash, the traffic fraction and the
 *    arm hash for the named customers, but not the time window. Forced
 *    assignments are flagged so results can leave them out.
 *  - Time window: an experiment assigns nobody outside [start_ms, stop_ms)
 *    (stop_ms 0 = no stop). Its layer range stays reserved before the start
 *    and after the stop, so starting or stopping one experiment never moves
 *    another's customers.
 *
 * Errors: functions return 0 or a negative errno value (-EINVAL for a bad
 * definition or argument, -ENOMEM, -ENOBUFS when an output array is too
 * small) and, where they take err/cap, write a message naming the experiment
 * and field, e.g. "experiment 'hero': arms[1].weight: must be > 0 (got 0)".
 */
#ifndef PATRON_RECSYS_EXPERIMENT_H
#define PATRON_RECSYS_EXPERIMENT_H

#include <stddef.h>
#include <stdint.h>

/* Experiment, salt, layer and arm ids: 1..EXPERIMENT_MAX_ID bytes of
 * [A-Za-z0-9_.-]. */
#define EXPERIMENT_MAX_ID 128
/* Customer ids: 1..EXPERIMENT_MAX_CUSTOMER bytes, no control characters
 * (the store's limit, STORE_MAX_ID). */
#define EXPERIMENT_MAX_CUSTOMER 256
#define EXPERIMENT_MIN_ARMS 2
#define EXPERIMENT_MAX_ARMS 16
/* Layer resolution: traffic fractions are multiples of 1/EXPERIMENT_BUCKETS
 * (rounded to nearest; at least one bucket). */
#define EXPERIMENT_BUCKETS 10000
/* Arm weights must sum to 1 within this. */
#define EXPERIMENT_WEIGHT_TOLERANCE 1e-9

/* What an arm serves. */
typedef struct experiment_arm {
    char id[EXPERIMENT_MAX_ID + 1];
    double weight;           /* > 0; an experiment's weights sum to 1 */
    uint64_t model_version;  /* 0 = whatever model is current */
    double popularity_blend; /* 0..1 */
    int coupons_off;         /* nonzero: no coupons at all in this arm */
    double coupon_lambda;    /* coupon policy's lambda, finite, >= 0;
                                ignored when coupons_off */
    double diversity;        /* 0..1: Recommend's diversity (diversify.h) for
                                requests that set none; 0 = none */
    uint32_t max_per_category; /* likewise the category cap; 0 = none */
} experiment_arm_t;

/* A named customer pinned to an arm, for QA. */
typedef struct experiment_forced {
    char customer_id[EXPERIMENT_MAX_CUSTOMER + 1];
    char arm_id[EXPERIMENT_MAX_ID + 1];
} experiment_forced_t;

typedef struct experiment {
    char id[EXPERIMENT_MAX_ID + 1];
    char salt[EXPERIMENT_MAX_ID + 1];  /* arm hash key; change it to reshuffle */
    char layer[EXPERIMENT_MAX_ID + 1];
    double traffic_fraction;           /* (0, 1] */
    int64_t start_ms;                  /* >= 0 */
    int64_t stop_ms;                   /* 0 = open-ended, else > start_ms */
    size_t n_arms;                     /* EXPERIMENT_MIN_ARMS..MAX_ARMS */
    experiment_arm_t arms[EXPERIMENT_MAX_ARMS];
    size_t n_forced;
    /* Borrowed in definitions the caller passes in (experiment_set_new copies
     * them); in experiments returned by the set, owned by the set. */
    const experiment_forced_t *forced;
} experiment_t;

/* An immutable set of experiments, safe to share between threads for
 * reading. Build a new set to change anything. */
typedef struct experiment_set experiment_set_t;

/* One layer's answer for a customer. The pointers point into the set and stay
 * valid until experiment_set_free; do not modify them. */
typedef struct experiment_assignment {
    const experiment_t *experiment;
    const experiment_arm_t *arm;
    size_t arm_index;   /* arm - experiment->arms */
    int forced;         /* 1: from the forced list (QA), not from hashing */
} experiment_assignment_t;

/* Checks one definition on its own: ids, salt, layer, traffic, window, arms
 * (count, unique ids, weights > 0 summing to 1, blend and diversity in
 * [0,1], lambda),
 * forced customers (valid ids, known arm, listed once). Returns 0 if valid,
 * else -EINVAL with a message in err (which may be NULL when cap is 0). */
int experiment_invalid(const experiment_t *e, char *err, size_t cap);

/* Checks that every arm's nonzero model_version is among the n versions the
 * caller has loaded. Returns 0 or -EINVAL with a message naming the arm. */
int experiment_models_invalid(const experiment_t *e, const uint64_t *versions,
                              size_t n, char *err, size_t cap);

/* Checks n definitions as a set: each one (experiment_invalid), no duplicate
 * experiment ids, the traffic of each layer sums to at most 1, and no
 * customer forced into two experiments of one layer. Returns 0 or -EINVAL
 * (-ENOMEM if a scratch allocation fails) with a message. */
int experiment_set_invalid(const experiment_t *defs, size_t n, char *err,
                           size_t cap);

/* Builds a set from n definitions (n may be 0), after experiment_set_invalid.
 * Copies everything, including the forced lists: defs may be freed after.
 * On success *out owns a set to release with experiment_set_free. Returns 0,
 * -EINVAL (message in err) or -ENOMEM. */
int experiment_set_new(const experiment_t *defs, size_t n,
                       experiment_set_t **out, char *err, size_t cap);

/* Frees a set; NULL is fine. Invalidates every pointer obtained from it. */
void experiment_set_free(experiment_set_t *set);

/* Number of experiments and of distinct layers: experiment_assign never
 * returns more than experiment_set_layers(set) assignments. */
size_t experiment_set_count(const experiment_set_t *set);
size_t experiment_set_layers(const experiment_set_t *set);

/* The i-th experiment (in the order given to experiment_set_new), or NULL if
 * i is out of range. Owned by the set. */
const experiment_t *experiment_set_at(const experiment_set_t *set, size_t i);

/* The experiment with this id, or NULL. Owned by the set. */
const experiment_t *experiment_set_find(const experiment_set_t *set,
                                        const char *id);

/* The bucket range [*lo, *hi) the experiment occupies in its layer. Returns
 * 0, or -EINVAL if id is not in the set. */
int experiment_set_range(const experiment_set_t *set, const char *id,
                         uint32_t *lo, uint32_t *hi);

/* Checks that replacing prev with next moves no customer of an experiment
 * that has started by now_ms (start_ms <= now_ms in prev): its salt, layer,
 * start and arms (ids, order, weights) stay the same, and its layer range
 * keeps its first bucket (growing or shrinking it only ramps traffic).
 * Experiments that have not started, new ones and removed ones are free to
 * change (a removal that would shift a started experiment is caught by that
 * experiment's check). Returns 0 or -EINVAL with a message. */
int experiment_set_update_invalid(const experiment_set_t *prev,
                                  const experiment_set_t *next, int64_t now_ms,
                                  char *err, size_t cap);

/* Assigns a customer at time now_ms: at most one experiment per layer, in
 * layer-name order. Writes up to cap assignments to out and the number found
 * to *n. Returns 0; -ENOBUFS if more than cap were found (the first cap are
 * written, *n is the full count); -EINVAL for a NULL argument or a customer
 * id that is empty, too long or has control characters. Allocates nothing;
 * cheap enough for every request (see bench/bench_experiment.c). */
int experiment_assign(const experiment_set_t *set, const char *customer_id,
                      int64_t now_ms, experiment_assignment_t *out, size_t cap,
                      size_t *n);

/* The customer's arm in one experiment, as experiment_assign would pick it
 * (forced lists of its layer, window, layer range, arm hash). Sets *in to 1
 * and fills *out when the customer is in it, else sets *in to 0. Returns 0,
 * or -EINVAL (unknown experiment, bad customer id, NULL argument). */
int experiment_assign_one(const experiment_set_t *set, const char *experiment_id,
                          const char *customer_id, int64_t now_ms,
                          experiment_assignment_t *out, int *in);

/* The hash assignment uses: SipHash-2-4 under the module's fixed key of
 * domain '\0' key '\0' customer_id. Domain is "layer" (key = layer name) or
 * "arm" (key = salt). Exposed for tests and offline analysis. */
uint64_t experiment_hash(const char *domain, const char *key,
                         const char *customer_id);

/* Bucket in [0, EXPERIMENT_BUCKETS) of a hash (multiply-shift of its high 32
 * bits), and its position in [0, 1) with 53-bit resolution. */
uint32_t experiment_bucket(uint64_t hash);
double experiment_unit(uint64_t hash);

/* A message for an error code returned by this module. Static string. */
const char *experiment_strerror(int err);

#endif
