/*
 * test_base_monotime.c - the monotonic clock (base/monotime.h) never goes
 * back and measures a known pause to within its bounds.
 */
#include "testutil.h"

#include <time.h>

#include "monotime.h"

int main(void)
{
    double prev = monotime_seconds();
    long back = 0;
    for (int i = 0; i < 100000; i++) {
        double t = monotime_seconds();
        back += t < prev;
        prev = t;
    }
    CHECK_EQ_INT(back, 0);
    /* a 20 ms pause measures at least 20 ms (and, unless the machine is
     * stalled, well under a second) */
    struct timespec pause = { 0, 20 * 1000 * 1000 };
    double t0 = monotime_seconds();
    nanosleep(&pause, NULL);
    double dt = monotime_seconds() - t0;
    CHECK(dt >= 0.020 && dt < 5.0);
    return test_failures ? 1 : 0;
}
