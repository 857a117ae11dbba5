/*
 * cli_experiments.h - the `patron` subcommands for experiments. Each takes
 * the command's own argv (argv[0] is the command name) and returns the exit
 * status: 0 success, 1 failure, 2 bad usage.
 */
#ifndef PATRON_SERVER_CLI_EXPERIMENTS_H
#define PATRON_SERVER_CLI_EXPERIMENTS_H

int cli_experiment(int argc, char **argv);
int cli_simulate_experiment(int argc, char **argv);

#endif
