/*
 * test_session.c - the current session's bounds, its recency weights and
 * the blend of directions (session.h), on numbers worked out by hand.
 */
#include <math.h>

#include "session.h"
#include "testutil.h"

static void test_last_start(void)
{
    store_event_rec_t ev[4] = { { .time_ms = 0 }, { .time_ms = 10 }, { .time_ms = 5000 },
                                { .time_ms = 5100 } };
    CHECK_EQ_INT(session_last_start(ev, 4, 100), 2);    /* 5000 - 10 > 100 */
    CHECK_EQ_INT(session_last_start(ev, 4, 4990), 0);   /* a gap of exactly 4990 */
    CHECK_EQ_INT(session_last_start(ev, 4, 4989), 2);
    CHECK_EQ_INT(session_last_start(ev, 4, 99), 3);     /* 100 apart: cut */
    CHECK_EQ_INT(session_last_start(ev, 1, 1), 0);
    CHECK_EQ_INT(session_last_start(ev, 0, 1), 0);
}

static void test_weights(void)
{
    float w[3];
    session_weights(3, 1.0f, w);
    CHECK(w[0] == 0.25f && w[1] == 0.5f && w[2] == 1.0f);
    session_weights(3, 2.0f, w);
    CHECK(fabsf(w[1] - 0.70710678f) < 1e-6f && w[2] == 1.0f);
}

static void test_blend(void)
{
    const float xl[2] = { 2, 0 }, xs[2] = { 0, 5 }, zero[2] = { 0, 0 };
    float out[2];
    session_blend(xl, xs, 0.0f, 2, out);   /* the long-term vector */
    CHECK(out[0] == 2 && out[1] == 0);
    session_blend(xl, xs, 1.0f, 2, out);   /* the session's direction, xl's length */
    CHECK(fabsf(out[0]) < 1e-6f && fabsf(out[1] - 2) < 1e-6f);
    session_blend(xl, xs, 0.5f, 2, out);   /* halfway: (1, 1) at length 2 */
    CHECK(fabsf(out[0] - sqrtf(2)) < 1e-6f && fabsf(out[1] - sqrtf(2)) < 1e-6f);
    session_blend(xl, xs, 0.25f, 2, out);  /* (0.75, 0.25) scaled to length 2 */
    CHECK(fabsf(out[0] / out[1] - 3) < 1e-5f &&
          fabsf(out[0] * out[0] + out[1] * out[1] - 4) < 1e-5f);
    session_blend(zero, xs, 0.5f, 2, out); /* no history: the session as it is */
    CHECK(fabsf(out[0]) < 1e-6f && fabsf(out[1] - 5) < 1e-5f);
    session_blend(xl, zero, 0.5f, 2, out); /* an empty session changes nothing */
    CHECK(fabsf(out[0] - 2) < 1e-6f && fabsf(out[1]) < 1e-6f);
}

int main(void)
{
    session_params_t p;
    test_last_start();
    test_weights();
    test_blend();
    session_params_default(&p);
    CHECK(p.gap_ms == SESSION_GAP_MS_DEFAULT && p.blend > 0 && p.blend < 1 &&
          p.half_life > 0);
    return test_failures ? 1 : 0;
}
