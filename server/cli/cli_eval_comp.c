/*
 * cli_eval_comp.c - `patron eval --data DIR --complements`: basket
 * hold-one-out HR@K / NDCG@K of ComplementaryItems against SimilarItems, raw
 * co-occurrence counts and popularity (recsys/eval/compeval.h), as a table
 * or JSON.
 */
#include "cli_eval_comp.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>

#include "cli.h"
#include "clitime.h"
#include "compeval.h"

static double share(uint64_t part, uint64_t whole)
{
    return whole ? (double)part / (double)whole : 0.0;
}

static double mean(double sum, uint64_t n)
{
    return n ? sum / (double)n : 0.0;
}

static void print_table(FILE *f, const char *data, const compeval_config_t *c,
                        const compeval_report_t *r)
{
    char cut[CLI_TIME_CAP];
    cli_time_format(r->cut_ms, cut);
    fprintf(f, "%s: basket hold-one-out, baskets from %s on held out (latest %.0f%%); "
            "%u training baskets, %u held-out baskets, %llu cases (%llu with a long-tail "
            "cart: every item in < %u training baskets), %u items; training %.2f s\n",
            data, cut, c->test_share * 100, r->train_baskets, r->test_baskets,
            (unsigned long long)r->cases, (unsigned long long)r->tail_cases,
            COPURCHASE_TAIL_SUPPORT, r->items, r->train_seconds);
    char hr[16], nd[16], hrt[24], ndt[24];
    snprintf(hr, sizeof hr, "HR@%u", c->k);
    snprintf(nd, sizeof nd, "NDCG@%u", c->k);
    snprintf(hrt, sizeof hrt, "HR@%u tail", c->k);
    snprintf(ndt, sizeof ndt, "NDCG@%u tail", c->k);
    fprintf(f, "%-30s %8s %8s %12s %12s\n", "method", hr, nd, hrt, ndt);
    for (int k = 0; k < COMPEVAL_METHODS; k++) {
        const compeval_row_t *m = &r->rows[k];
        fprintf(f, "%-30s %8.4f %8.4f %12.4f %12.4f\n", m->name, share(m->hits, r->cases),
                mean(m->dcg, r->cases), share(m->tail_hits, r->tail_cases),
                mean(m->tail_dcg, r->tail_cases));
    }
}

static json_object *report_json(const char *data, const compeval_config_t *c,
                                const compeval_report_t *r)
{
    json_object *o = json_object_new_object(), *rows = json_object_new_array();
    json_object_object_add(o, "protocol", json_object_new_string("basket_hold_one_out"));
    json_object_object_add(o, "data", json_object_new_string(data));
    json_object_object_add(o, "test_share", json_object_new_double(c->test_share));
    json_object_object_add(o, "k", json_object_new_int64(c->k));
    json_object_object_add(o, "cut_unix_ms", json_object_new_int64(r->cut_ms));
    json_object_object_add(o, "training_baskets", json_object_new_int64(r->train_baskets));
    json_object_object_add(o, "held_out_baskets", json_object_new_int64(r->test_baskets));
    json_object_object_add(o, "cases", json_object_new_int64((int64_t)r->cases));
    json_object_object_add(o, "tail_cases", json_object_new_int64((int64_t)r->tail_cases));
    json_object_object_add(o, "items", json_object_new_int64(r->items));
    for (int k = 0; k < COMPEVAL_METHODS; k++) {
        json_object *m = json_object_new_object();
        json_object_object_add(m, "method", json_object_new_string(r->rows[k].name));
        json_object_object_add(m, "hr", json_object_new_double(share(r->rows[k].hits, r->cases)));
        json_object_object_add(m, "ndcg", json_object_new_double(mean(r->rows[k].dcg, r->cases)));
        json_object_object_add(m, "hr_tail", json_object_new_double(
                                   share(r->rows[k].tail_hits, r->tail_cases)));
        json_object_object_add(m, "ndcg_tail", json_object_new_double(
                                   mean(r->rows[k].tail_dcg, r->tail_cases)));
        json_object_array_add(rows, m);
    }
    json_object_object_add(o, "methods", rows);
    return o;
}

int cli_eval_complements(const char *data, uint64_t map_bytes, const train_config_t *train,
                         uint32_t k, int json)
{
    compeval_config_t c;
    compeval_report_t r;
    store_t *s;
    int rc;

    compeval_config_default(&c);
    c.train = *train;
    c.train.copurchase = NULL;
    c.k = k;
    if (cli_store_open(data, map_bytes, 0, &s) != 0)
        return 1;
    rc = compeval_run(s, &c, &r);
    store_close(s);
    if (rc == -ENOENT) {
        fprintf(stderr, "patron: no held-out basket of two or more items, or nothing to "
                "train on before them\n");
        return 1;
    }
    if (rc) {
        cli_error(rc, "complements evaluation failed");
        return 1;
    }
    print_table(json ? stderr : stdout, data, &c, &r);
    return json && cli_json_print(report_json(data, &c, &r)) != 0 ? 1 : 0;
}
