/* owners.c - the durable owners of customer data (owners.h). */
#include "owners.h"

#include "consentstore.h"
#include "contactstore.h"
#include "coupon_erase.h"
#include "exp_erase.h"
#include "referral_store.h"
#include "store_custdata.h"
#include "triggers.h"

size_t owners_durable(custdata_owner_t out[OWNERS_DURABLE])
{
    size_t n = 0;
    out[n++] = store_custdata_owner();
    out[n++] = couponstore_custdata_owner();
    out[n++] = expstore_custdata_owner();
    out[n++] = consentstore_custdata_owner();
    out[n++] = contactstore_custdata_owner();
    out[n++] = triggers_custdata_owner();
    out[n++] = referral_custdata_owner();
    return n;
}
