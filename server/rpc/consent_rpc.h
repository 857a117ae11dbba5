/*
 * consent_rpc.h - the consent and contact-policy methods of
 * patron.v1.Profiles (SetPreferences, ListConsentChanges, CheckContact,
 * RecordContact), and the ContactPreferences message other handlers
 * (GetProfile, ExportCustomer) show. Translation only: the rules are
 * recsys/customers/consent.c and contact.c, the storage consentstore.c and
 * contactstore.c.
 */
#ifndef PATRON_SERVER_CONSENT_RPC_H
#define PATRON_SERVER_CONSENT_RPC_H

#include "app.h"
#include "consent.h"
#include "contact.h"
#include "patron/v1/profiles.pb-c.h"
#include "transport.h"

/* A ContactPreferences message over a consent_t; strings borrow from the
 * consent_t and from this struct (do not move it after filling). */
typedef struct prefs_msg {
    Patron__V1__ContactPreferences p;
    char quiet[16];
    Patron__V1__Channel allowed[CONSENT_N_CHANNELS];
} prefs_msg_t;

/* Fills m from c (the customer's stored choices) with the effective
 * permissions under cfg's consent default. */
void prefs_msg_fill(const contact_config_t *cfg, const consent_t *c, prefs_msg_t *m);

/* The API's Channel as consent_channel_t: -1 for UNSPECIFIED, -2 for a
 * value outside the enum. */
int channel_from_pb(int pb);

void h_set_preferences(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                       size_t len, rpc_reply_t *out);
void h_list_consent_changes(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                            size_t len, rpc_reply_t *out);
void h_check_contact(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                     size_t len, rpc_reply_t *out);
void h_record_contact(void *app, const rpc_call_info_t *ci, const uint8_t *req,
                      size_t len, rpc_reply_t *out);

#endif
