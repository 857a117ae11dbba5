/*
 * app_owners.c - the list of customer-data owners (custdata.h), assembled
 * here where the domain modules are wired together: DeleteCustomer and
 * ExportCustomer walk it (customers_erase.h), so a module that starts
 * keeping customer data joins erasure and export by adding one line below.
 */
#include "app.h"

#include <string.h>

#include "coupon_erase.h"
#include "exp_erase.h"
#include "log.h"
#include "store_custdata.h"

static void forget_shown(void *ctx, const char *customer_id,
                         const custdata_erased_t *erased)
{
    (void)erased;
    shown_forget(((app_t *)ctx)->shown, customer_id);
}

/* The served model still holds the erased customer's factor row in memory.
 * Until serving can patch one row of its snapshot, reload the (already
 * zeroed) stored version. Models pinned by experiment arms keep theirs
 * until they are reloaded. */
static void forget_factors(void *ctx, const char *customer_id,
                           const custdata_erased_t *erased)
{
    int rc;
    (void)customer_id;
    if (!erased->had_index)
        return;
    if ((rc = app_reload_force(ctx)) != 0)
        plog(LOG_WARN, "erasure: reloading the model failed (%s); the served "
             "model keeps the erased factor row until the next reload", strerror(-rc));
}

void app_owners_init(app_t *a)
{
    size_t n = 0;
    a->owners[n++] = store_custdata_owner();
    a->owners[n++] = couponstore_custdata_owner();
    a->owners[n++] = expstore_custdata_owner();
    a->owners[n++] = (custdata_owner_t){ .name = "recently shown", .ctx = a,
                                         .forget = forget_shown };
    a->owners[n++] = (custdata_owner_t){ .name = "served model", .ctx = a,
                                         .forget = forget_factors };
    a->n_owners = n;
}
