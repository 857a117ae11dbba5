/*
 * app_owners.c - the list of customer-data owners (custdata.h), assembled
 * here where the domain modules are wired together: DeleteCustomer and
 * ExportCustomer walk it (customers_erase.h): the durable owners
 * (owners.h), then what this process keeps in memory. A module that starts
 * keeping customer data joins erasure and export with one line there or
 * here.
 */
#include "app.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "owners.h"

static void forget_shown(void *ctx, const char *customer_id,
                         const custdata_erased_t *erased)
{
    (void)erased;
    shown_forget(((app_t *)ctx)->shown, customer_id);
}

/* The experiment set in memory still pins the customer when a stored
 * definition did (the erasure rewrote those): the slot serves the stored
 * definitions again (exp_slot_forget). */
static void forget_pins(void *ctx, const char *customer_id,
                        const custdata_erased_t *erased)
{
    app_t *a = ctx;
    char err[256];
    int rc;

    (void)erased;
    if ((rc = exp_slot_forget(&a->experiments, customer_id, err, sizeof err)) != 0)
        plog(LOG_WARN, "erasure: reloading the experiments failed (%s: %s); the "
             "erased customer stays pinned in memory until the next change or restart",
             err, strerror(-rc));
}

/* Loaded models (the served one and those experiment arms pin) stop using
 * the erased customer's factor row at once: a bit in each snapshot, no
 * reload and no index rebuild (app_forget_customer). */
static void forget_factors(void *ctx, const char *customer_id,
                           const custdata_erased_t *erased)
{
    (void)customer_id;
    if (erased->had_index)
        app_forget_customer(ctx, erased->index);
}

void app_owners_init(app_t *a)
{
    size_t n = owners_durable(a->owners);
    a->owners[n++] = (custdata_owner_t){ .name = "recently shown", .ctx = a,
                                         .forget = forget_shown };
    a->owners[n++] = (custdata_owner_t){ .name = "served model", .ctx = a,
                                         .forget = forget_factors };
    a->owners[n++] = (custdata_owner_t){ .name = "experiment set", .ctx = a,
                                         .forget = forget_pins };
    a->n_owners = n;
}
