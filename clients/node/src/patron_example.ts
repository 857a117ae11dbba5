// A storefront's first Patron integration in TypeScript (@grpc/grpc-js and
// @grpc/proto-loader; the types in src/gen come from proto-loader-gen-types,
// `npm run gen`). Checks the server's health, asks for recommendations (a
// deadline on every call, retried while the server is UNAVAILABLE), records
// what the customer did, and asks whether to give them a coupon.
//
//   PATRON_ADDR=127.0.0.1:50051 [PATRON_TOKEN=...] npm start
//
// See README.md.
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

import type { ProtoGrpcType as RecommenderProto } from './gen/recommender';
import type { ProtoGrpcType as EventsProto } from './gen/events';
import type { ProtoGrpcType as CouponsProto } from './gen/coupons';
import type { ProtoGrpcType as HealthProto } from './gen/health';
import type { HealthCheckResponse__Output } from './gen/grpc/health/v1/HealthCheckResponse';
import type { RecommendResponse__Output } from './gen/patron/v1/RecommendResponse';
import type { RecordEventsResponse__Output } from './gen/patron/v1/RecordEventsResponse';
import type { TargetCouponsResponse__Output } from './gen/patron/v1/TargetCouponsResponse';

const CALL_TIMEOUT_MS = 2000; // each attempt's deadline
const ATTEMPTS = 8;           // UNAVAILABLE: up to ~16 s of backoff in all

// The .proto files are read at run time; the options match `npm run gen`'s.
const PROTO_DIR = process.env.PATRON_PROTO_DIR ?? path.resolve(__dirname, '../../../proto');
const GRPC_PROTO_DIR = process.env.GRPC_PROTO_DIR ?? '/usr/share/grpc-proto';
const definition = protoLoader.loadSync(
  ['patron/v1/recommender.proto', 'patron/v1/events.proto', 'patron/v1/coupons.proto',
   'grpc/health/v1/health.proto'],
  { includeDirs: [PROTO_DIR, GRPC_PROTO_DIR], longs: String, enums: String, defaults: true,
    oneofs: true });
const api = grpc.loadPackageDefinition(definition) as unknown as
  RecommenderProto & EventsProto & CouponsProto & HealthProto;

type Callback<T> = (err: grpc.ServiceError | null, value?: T) => void;

// Calls call() with a fresh deadline per attempt, retrying only UNAVAILABLE
// (server starting, restarting or unreachable: nothing was done) with
// exponential backoff. Other codes are answers, not outages.
async function withRetry<T>(what: string,
                            call: (options: grpc.CallOptions, cb: Callback<T>) => void): Promise<T> {
  let backoff = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await new Promise<T>((resolve, reject) =>
        call({ deadline: Date.now() + CALL_TIMEOUT_MS },
             (err, value) => (err ? reject(err) : resolve(value as T))));
    } catch (e) {
      const err = e as grpc.ServiceError;
      if (err.code !== grpc.status.UNAVAILABLE || attempt === ATTEMPTS) throw err;
      console.log(`${what}: UNAVAILABLE, retrying in ${backoff}ms (attempt ${attempt} of ${ATTEMPTS})`);
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 2000);
    }
  }
}

function printItems(label: string, r: RecommendResponse__Output): void {
  const items = r.items.map((i) => `${i.itemId} (${i.reason} ${i.score.toFixed(3)})`).join(' ');
  console.log(`${label} (model ${r.provenance?.modelVersion}, request ${r.provenance?.requestId}): ${items}`);
}

async function main(): Promise<void> {
  const addr = process.env.PATRON_ADDR ?? '127.0.0.1:50051';
  const md = new grpc.Metadata();
  if (process.env.PATRON_TOKEN) md.set('authorization', `Bearer ${process.env.PATRON_TOKEN}`);
  // Plaintext for a loopback demo; grpc.credentials.createSsl() in production.
  const creds = grpc.credentials.createInsecure();
  const health = new api.grpc.health.v1.Health(addr, creds);
  const rec = new api.patron.v1.Recommender(addr, creds);
  const events = new api.patron.v1.Events(addr, creds);
  const coupons = new api.patron.v1.Coupons(addr, creds);
  const customer = `node-example-${process.hrtime.bigint()}`;

  try {
    // 1. Health: "patron.v1.Recommender" serves once a model is loaded.
    const h = await withRetry<HealthCheckResponse__Output>('health', (o, cb) =>
      health.check({ service: 'patron.v1.Recommender' }, md, o, cb));
    console.log(`health: patron.v1.Recommender is ${h.status}`);
    if (h.status !== 'SERVING') throw new Error('the recommender is not serving (no model loaded yet?)');

    // 2. Recommendations for a customer the shop has not seen: popular items.
    const ask = { customerId: customer, k: 5 };
    let r = await withRetry<RecommendResponse__Output>('recommend', (o, cb) => rec.recommend(ask, md, o, cb));
    printItems('recommendations', r);
    if (r.items.length === 0) throw new Error('no items recommended');

    // 3. The customer views and buys the first item. Times are unix
    // milliseconds; event ids make a retried batch harmless.
    const item = r.items[0].itemId;
    const now = Date.now();
    const batch = {
      events: [
        { eventId: `${customer}-view`, customerId: customer, itemId: item,
          type: 'EVENT_TYPE_VIEW' as const, timeUnixMs: now - 60_000 },
        { eventId: `${customer}-buy`, customerId: customer, itemId: item,
          type: 'EVENT_TYPE_PURCHASE' as const, timeUnixMs: now, quantity: 1, unitPrice: 19.9 },
      ],
    };
    const er = await withRetry<RecordEventsResponse__Output>('record events', (o, cb) => events.recordEvents(batch, md, o, cb));
    console.log(`recorded events: ${er.accepted} accepted, ${er.duplicates} duplicates, ${er.rejected} rejected`);
    for (const e of er.errors) console.log(`  event ${e.index}: ${e.reason}`);

    // 4. The next list already knows the purchase (folded in at request time).
    r = await withRetry<RecommendResponse__Output>('recommend', (o, cb) => rec.recommend(ask, md, o, cb));
    printItems('after the purchase', r);

    // 5. A coupon decision. requestId is the idempotency key: a retry returns
    // the logged decision and grants nothing twice.
    const t = await withRetry<TargetCouponsResponse__Output>('target coupons', (o, cb) =>
      coupons.targetCoupons({ customerId: customer, requestId: `${customer}-checkout` }, md, o, cb));
    const d = t.decision;
    console.log(`coupon decision: ${d?.outcome} coupon ${d?.couponId || '(none)'}: ${d?.reason}`);
  } finally {
    for (const c of [health, rec, events, coupons]) c.close();
  }
}

main().catch((e: grpc.ServiceError | Error) => {
  const code = 'code' in e ? `${grpc.status[e.code]}: ` : '';
  console.error(`patron_example: ${code}${'details' in e ? e.details : e.message}`);
  process.exit(1);
});
