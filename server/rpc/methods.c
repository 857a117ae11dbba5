/*
 * methods.c - the one list of what patrond serves (methods.h).
 *
 * PATRON_SERVICES names each service once; PATRON_METHODS lists every
 * method under its service. Both expand into patron_api, which the
 * transport dispatches from, health answers for, reflection lists and
 * GetServerStats names. To serve a new method add one M(...) line (and,
 * for a new service, one S(...) line); a method naming an unlisted service
 * does not compile.
 */
#include "methods.h"

#include "admin_rpc.h"
#include "consent_rpc.h"
#include "coupons_rpc.h"
#include "events_rpc.h"
#include "experiments_rpc.h"
#include "health_rpc.h"
#include "points_rpc.h"
#include "profiles_rpc.h"
#include "programme_rpc.h"
#include "referrals_rpc.h"
#include "recommender_rpc.h"
#include "rewards_rpc.h"
#include "reflection.h"
#include "stats_rpc.h"
#include "triggers_rpc.h"

#define SVC_RECOMMENDER "patron.v1.Recommender"
#define SVC_EVENTS "patron.v1.Events"
#define SVC_PROFILES "patron.v1.Profiles"
#define SVC_EXPERIMENTS "patron.v1.Experiments"
#define SVC_ADMIN "patron.v1.Admin"
#define SVC_COUPONS "patron.v1.Coupons"
#define SVC_TRIGGERS "patron.v1.Triggers"
#define SVC_HEALTH "grpc.health.v1.Health"
#define SVC_REFLECTION "grpc.reflection.v1.ServerReflection"
#define SVC_REFLECTION_ALPHA "grpc.reflection.v1alpha.ServerReflection"

/* S(service, flags) */
#define PATRON_SERVICES(S)                     \
    S(RECOMMENDER, RPC_SVC_NEEDS_MODEL)        \
    S(EVENTS, 0)                               \
    S(PROFILES, 0)                             \
    S(EXPERIMENTS, RPC_SVC_NEEDS_EXPERIMENTS)  \
    S(ADMIN, 0)                                \
    S(COUPONS, 0)                              \
    S(TRIGGERS, 0)                             \
    S(HEALTH, 0)                               \
    S(REFLECTION, 0)                           \
    S(REFLECTION_ALPHA, 0)

/* M(service, method, how it is called) */
#define PATRON_METHODS(M)                                                       \
    M(RECOMMENDER, "Recommend", UNARY(h_recommend))                             \
    M(RECOMMENDER, "SimilarItems", UNARY(h_similar_items))                      \
    M(RECOMMENDER, "RankItems", UNARY(h_rank_items))                            \
    M(RECOMMENDER, "ComplementaryItems", UNARY(h_complementary_items))          \
    M(EVENTS, "RecordEvents", ASYNC(h_record_events, h_record_events_async))    \
    M(EVENTS, "StreamEvents", STREAM(RPC_CLIENT_STREAM, stream_events_ops))     \
    M(PROFILES, "GetProfile", UNARY(h_get_profile))                             \
    M(PROFILES, "SelectAudience", STREAM(RPC_SERVER_STREAM, select_audience_ops)) \
    M(PROFILES, "DeleteCustomer", OFF_PATH(AUDITED(UNARY(h_delete_customer))))  \
    M(PROFILES, "ExportCustomer", AUDITED(UNARY(h_export_customer)))            \
    M(PROFILES, "SetCustomerAttributes", UNARY(h_set_attributes))               \
    M(PROFILES, "RedeemPoints", UNARY(h_redeem_points))                         \
    M(PROFILES, "ListPointsLedger", UNARY(h_list_points_ledger))                \
    M(PROFILES, "AdjustPoints", AUDITED(UNARY(h_adjust_points)))                \
    M(PROFILES, "ListRewards", UNARY(h_list_rewards))                          \
    M(PROFILES, "MergeCustomers", AUDITED(UNARY(h_merge_customers)))            \
    M(PROFILES, "SetPreferences", AUDITED(UNARY(h_set_preferences)))            \
    M(PROFILES, "ListConsentChanges", UNARY(h_list_consent_changes))            \
    M(PROFILES, "CheckContact", UNARY(h_check_contact))                         \
    M(PROFILES, "RecordContact", UNARY(h_record_contact))                       \
    M(PROFILES, "RecordSignup", UNARY(h_record_signup))                         \
    M(EXPERIMENTS, "CreateExperiment", OFF_PATH(AUDITED(UNARY(h_create_experiment)))) \
    M(EXPERIMENTS, "UpdateExperiment", OFF_PATH(AUDITED(UNARY(h_update_experiment)))) \
    M(EXPERIMENTS, "ListExperiments", UNARY(h_list_experiments))                \
    M(EXPERIMENTS, "GetAssignment", UNARY(h_get_assignment))                    \
    M(EXPERIMENTS, "GetExperimentResults", UNARY(h_experiment_results))         \
    M(ADMIN, "UpsertItems", OFF_PATH(AUDITED(UNARY(h_upsert_items))))           \
    M(ADMIN, "GetModelInfo", UNARY(h_model_info))                               \
    M(ADMIN, "ReloadModel", OFF_PATH(AUDITED(UNARY(h_reload_model))))           \
    M(ADMIN, "GetServerStats", UNARY(h_server_stats))                           \
    M(ADMIN, "GetProgramme", UNARY(h_get_programme))                            \
    M(ADMIN, "SetProgramme", AUDITED(UNARY(h_set_programme)))                   \
    M(ADMIN, "ListProgrammeVersions", UNARY(h_list_programme_versions))         \
    M(ADMIN, "RollbackProgramme", AUDITED(UNARY(h_rollback_programme)))         \
    M(COUPONS, "UpsertCoupon", AUDITED(UNARY(h_upsert_coupon)))                 \
    M(COUPONS, "TargetCoupons", UNARY(h_target_coupons))                        \
    M(COUPONS, "SelectCampaignAudience",                                        \
      STREAM(RPC_SERVER_STREAM, select_campaign_audience_ops))                  \
    M(COUPONS, "RecordRedemption", UNARY(h_record_redemption))                  \
    M(TRIGGERS, "Subscribe", STREAM(RPC_SERVER_STREAM, triggers_subscribe_ops)) \
    M(HEALTH, "Check", UNARY(h_health_check))                                   \
    M(HEALTH, "Watch", STREAM(RPC_SERVER_STREAM, health_watch_ops))             \
    M(REFLECTION, "ServerReflectionInfo", STREAM(RPC_BIDI_STREAM, reflection_stream_ops)) \
    M(REFLECTION_ALPHA, "ServerReflectionInfo",                                 \
      STREAM(RPC_BIDI_STREAM, reflection_stream_ops))

#define UNARY(fn) .kind = RPC_UNARY, .handler = fn
/* The transport runs afn (transport.h's rpc_async_handler_fn), the HTTP
 * gateway fn: the same answer either way. */
#define ASYNC(fn, afn) UNARY(fn), .async_handler = afn
/* Erasure, export, merges and admin writes leave an audit line (transport.h). */
#define AUDITED(how) how, .audit = 1
#define STREAM(k, ops) .kind = k, .stream = &ops
/* Calls that load models, rewrite every stored model or rebuild a snapshot
 * run on the admin thread, never on the request workers (transport.h's
 * rpc_lane_t): ReloadModel, Create/UpdateExperiment (they load the model
 * versions arms pin), DeleteCustomer (every stored model's factor row, the
 * experiment set), UpsertItems (a new catalog snapshot). */
#define OFF_PATH(how) how, .lane = RPC_LANE_ADMIN
#define AS_SERVICE(id, fl) { .name = SVC_##id, .flags = fl },
#define AS_METHOD(id, name, how) { .path = "/" SVC_##id "/" name, how },

static const rpc_service_t services[] = { PATRON_SERVICES(AS_SERVICE) };
static const rpc_method_t methods[] = { PATRON_METHODS(AS_METHOD) };

const rpc_api_t patron_api = {
    .methods = methods,
    .n_methods = sizeof methods / sizeof methods[0],
    .services = services,
    .n_services = sizeof services / sizeof services[0],
};
