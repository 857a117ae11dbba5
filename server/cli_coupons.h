/*
 * cli_coupons.h - the coupon commands of `patron` (server/cli.c dispatches
 * to them). Each takes the command's own argv (argv[0] is the command name),
 * parses its flags and returns the exit status: 0 success, 1 failure,
 * 2 bad usage.
 *
 *   patron train-uplift --data DIR [--window-days D] [--as-of UNIX_MS]
 *   patron eval-uplift  --data DIR [--budgets B1,B2,...] [--window-days D]
 *                       [--as-of UNIX_MS]
 */
#ifndef PATRON_SERVER_CLI_COUPONS_H
#define PATRON_SERVER_CLI_COUPONS_H

int cli_train_uplift(int argc, char **argv);
int cli_eval_uplift(int argc, char **argv);

#endif
