/*
 * cli_eval_comp.h - `patron eval --data DIR --complements` (cli_train.c
 * parses the flags): the basket hold-one-out table of compeval.h.
 */
#ifndef PATRON_CLI_EVAL_COMP_H
#define PATRON_CLI_EVAL_COMP_H

#include <stdint.h>

#include "train.h"

/* Runs the protocol on the store in data with train's weights and iALS
 * settings and the cut-off k (1..1000), prints the table (on stderr with
 * json, the JSON on stdout). Returns the exit status. */
int cli_eval_complements(const char *data, uint64_t map_bytes, const train_config_t *train,
                         uint32_t k, int json);

#endif
