/*
 * cli_coupons.h - the coupon commands of `patron` (server/cli/cli.c dispatches
 * to them). Each takes the command's own argv (argv[0] is the command name),
 * parses its flags and returns the exit status: 0 success, 1 failure,
 * 2 bad usage.
 *
 *   patron train-uplift --data DIR [--window-days D] [--as-of UNIX_MS]
 *                       [--per-coupon [--min-rows N]]
 *   patron eval-uplift  --data DIR [--budgets B1,B2,...] [--test-share F]
 *                       [--in-sample] [--window-days D] [--as-of UNIX_MS]
 *
 * train-uplift fits the default model on every finished offer; --per-coupon
 * also fits one per catalog coupon with at least N (default 200) treated and
 * N control rows, stored under the coupon id (others are skipped, with a
 * note). eval-uplift fits on the customers outside a test share F (default
 * 0.3, by a hash of the customer id) and reports on the customers inside it;
 * --in-sample adds the stored default model's figures on every row, labelled
 * optimistic. An empty train or test split is a failure (exit 1).
 */
#ifndef PATRON_SERVER_CLI_COUPONS_H
#define PATRON_SERVER_CLI_COUPONS_H

int cli_train_uplift(int argc, char **argv);
int cli_eval_uplift(int argc, char **argv);

#endif
