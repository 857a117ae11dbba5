/*
 * referral_def.h - the referral programme an operator writes in the
 * profile settings file (profile_file.h; README "Referrals"):
 *
 *   referral = referrer_points N friend_points M [window_days D]
 *              [cap K per year|month|ever]
 *
 * Both sides are paid once the friend's first purchase that is not
 * refunded within window_days (default 30) has passed that window
 * (referrals.h); at most K referrals of one referrer are paid per UTC
 * calendar year or month of the reward (or ever). Without the line the
 * programme pays nothing (codes and links are still kept).
 *
 * Pure: no I/O, no global state.
 */
#ifndef PATRON_RECSYS_REFERRAL_DEF_H
#define PATRON_RECSYS_REFERRAL_DEF_H

#include <stddef.h>
#include <stdint.h>

#define REFERRAL_MAX_POINTS 1000000000  /* one side's reward */
#define REFERRAL_MAX_WINDOW_DAYS 3650
#define REFERRAL_DEFAULT_WINDOW_DAYS 30

typedef enum referral_cap_period {
    REFERRAL_CAP_NONE = 0,   /* no cap */
    REFERRAL_CAP_YEAR = 1,   /* per UTC calendar year of the reward */
    REFERRAL_CAP_MONTH = 2,  /* per UTC calendar month */
    REFERRAL_CAP_EVER = 3,   /* per referrer, ever */
} referral_cap_period_t;

typedef struct referral_config {
    int enabled;                   /* a referral line was read */
    int64_t referrer_points;       /* 0..REFERRAL_MAX_POINTS */
    int64_t friend_points;
    uint32_t window_days;          /* [30] 1..REFERRAL_MAX_WINDOW_DAYS */
    uint32_t cap;                  /* referrals paid per period; 0 with NONE */
    referral_cap_period_t cap_period;
    unsigned line;                 /* of the settings file; 0: none */
} referral_config_t;

/* No programme: nothing paid, window 30 days. */
void referral_config_default(referral_config_t *rc);

/*
 * One settings line: NULL when applied, "" when key is not "referral"
 * (the caller tries its own keys), else what is wrong naming the option
 * (static). A second referral line replaces the first.
 */
const char *referral_def_line(referral_config_t *rc, const char *key, const char *value,
                              unsigned line);

#endif
