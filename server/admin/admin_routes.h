/*
 * admin_routes.h - what patrond's admin HTTP listener (admin_http.h) serves,
 * each route reading the app_t passed as the listener's ctx:
 *
 *   GET /healthz  200 "ok" while the process runs (liveness).
 *   GET /readyz   200 "ready" when a model is loaded, the process is not
 *                 draining and the store takes writes (app_unready,
 *                 app_store_writable); else 503 "not ready: <reason>".
 *   GET /metrics  Prometheus text exposition 0.0.4 (metrics.h).
 *
 * Handlers run on the listener's thread; they only read the app's snapshots
 * and atomic counters, so they never wait for a gRPC call.
 */
#ifndef PATRON_SERVER_ADMIN_ROUTES_H
#define PATRON_SERVER_ADMIN_ROUTES_H

#include "admin_http.h"

extern const admin_route_t admin_routes[];
extern const size_t admin_n_routes;

#endif
