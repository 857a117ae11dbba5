/*
 * test_sesseval.c - the session split of `patron eval --sessions`
 * (sesseval.h) on a hand-made event list: where sessions are cut, which
 * are cases, and which set each case lands in.
 */
#include <errno.h>

#include "sesseval.h"
#include "testutil.h"

#define MIN 60000LL
#define HOUR (60 * MIN)

static store_event_rec_t ev(uint32_t customer, uint32_t item, int type, int64_t t)
{
    return (store_event_rec_t){ .customer = customer, .item = item, .type = (uint8_t)type,
                                .quantity = 1, .time_ms = t };
}

static void check_session(const sesseval_session_t *s, uint32_t customer, size_t hist,
                          size_t begin, size_t end)
{
    CHECK_EQ_INT(s->customer, customer);
    CHECK_EQ_INT(s->hist, hist);
    CHECK_EQ_INT(s->begin, begin);
    CHECK_EQ_INT(s->end, end);
}

int main(void)
{
    const int V = STORE_EVENT_VIEW, C = STORE_EVENT_CART, P = STORE_EVENT_PURCHASE;
    /* Customer 0: A = view, cart, buy (a case); B one view 30 min + 1 ms
     * after the purchase (its own session). Customer 1: C = view, buy (a
     * case); D = view, buy (a case); E = view, view 30 min later exactly
     * (one session, ends in a view: no case); F = two purchases at once (an
     * invoice: a case, the first line the context). */
    const store_event_rec_t e[] = {
        ev(0, 0, V, 0), ev(0, 0, C, 1 * MIN), ev(0, 0, P, 2 * MIN),
        ev(0, 1, V, 32 * MIN + 1),
        ev(1, 2, V, 1 * HOUR), ev(1, 2, P, 1 * HOUR + 10 * MIN),
        ev(1, 3, V, 20 * HOUR), ev(1, 4, P, 20 * HOUR + MIN),
        ev(1, 3, V, 25 * HOUR), ev(1, 4, V, 25 * HOUR + 30 * MIN),
        ev(1, 1, P, 30 * HOUR), ev(1, 3, P, 30 * HOUR),
    };
    const size_t n = sizeof e / sizeof *e;
    sesseval_config_t c;
    sesseval_split_t sp;

    sesseval_config_default(&c);
    CHECK_EQ_INT(c.gap_ms, 30 * MIN);
    /* Starts 0, 32m, 1h, 20h, 25h, 30h: the last 1/6 (F) test; the 2/6
     * before (D, E) validation; E is no case. */
    c.test_share = 1.0 / 6 - 1e-9;
    c.val_share = 2.0 / 6;
    CHECK_EQ_INT(sesseval_split_make(e, n, &c, &sp), 0);
    CHECK_EQ_INT(sp.n_sess, 6);
    check_session(&sp.sess[0], 0, 0, 0, 3);   /* A */
    check_session(&sp.sess[1], 0, 0, 3, 4);   /* B */
    check_session(&sp.sess[2], 1, 4, 4, 6);   /* C */
    check_session(&sp.sess[3], 1, 4, 6, 8);   /* D */
    check_session(&sp.sess[4], 1, 4, 8, 10);  /* E */
    check_session(&sp.sess[5], 1, 4, 10, 12); /* F */
    CHECK_EQ_INT(sp.val_from_ms, 20 * HOUR);
    CHECK_EQ_INT(sp.test_from_ms, 30 * HOUR);
    CHECK_EQ_INT(sp.n_val, 1);
    CHECK_EQ_INT(sp.val[0], 3);
    CHECK_EQ_INT(sp.n_test, 1);
    CHECK_EQ_INT(sp.test[0], 5);
    sesseval_split_free(&sp);

    /* Wider sets: B to D validation, E and F test (B and E are no cases). */
    c.test_share = 0.2;
    c.val_share = 0.5;
    CHECK_EQ_INT(sesseval_split_make(e, n, &c, &sp), 0);
    CHECK_EQ_INT(sp.val_from_ms, 32 * MIN + 1); /* starts[floor(6 * 0.3)]: B */
    CHECK_EQ_INT(sp.test_from_ms, 25 * HOUR); /* starts[floor(6 * 0.8)] = starts[4] */
    CHECK_EQ_INT(sp.n_val, 2);
    CHECK_EQ_INT(sp.val[0], 2);
    CHECK_EQ_INT(sp.val[1], 3);
    CHECK_EQ_INT(sp.n_test, 1);
    CHECK_EQ_INT(sp.test[0], 5);
    sesseval_split_free(&sp);
    sesseval_split_free(&sp); /* idempotent */

    /* Errors: too few sessions, shares that leave no training data. */
    CHECK_EQ_INT(sesseval_split_make(e, 3, &c, &sp), -ENOENT);
    c.val_share = 0.8;
    CHECK_EQ_INT(sesseval_split_make(e, n, &c, &sp), -EINVAL);
    sesseval_config_default(&c);
    c.gap_ms = 0;
    CHECK_EQ_INT(sesseval_split_make(e, n, &c, &sp), -EINVAL);
    return test_failures ? 1 : 0;
}
