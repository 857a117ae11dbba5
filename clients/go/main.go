// Command patron-example is a storefront's first Patron integration in Go:
// it checks the server's health, asks for recommendations (a deadline on
// every call, retried while the server is UNAVAILABLE), records what the
// customer did, and asks whether to give them a coupon.
//
//	PATRON_ADDR=127.0.0.1:50051 [PATRON_TOKEN=...] ./patron-example
//
// See README.md for building it with Debian's Go packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	patronv1 "github.com/patron/patron/gen/go/patron/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

const (
	callTimeout = 2 * time.Second // each attempt's deadline
	attempts    = 8               // UNAVAILABLE: up to ~16 s of backoff in all
)

// withRetry runs call with a fresh deadline per attempt, retrying only
// UNAVAILABLE (server starting, restarting or unreachable: nothing was
// done) with exponential backoff. Other codes are answers, not outages.
func withRetry(ctx context.Context, what string, call func(context.Context) error) error {
	backoff := 250 * time.Millisecond
	for i := 1; ; i++ {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		err := call(cctx)
		cancel()
		if status.Code(err) != codes.Unavailable || i == attempts {
			return err
		}
		fmt.Printf("%s: UNAVAILABLE, retrying in %v (attempt %d of %d)\n", what, backoff, i, attempts)
		time.Sleep(backoff)
		if backoff < 2*time.Second {
			backoff *= 2
		}
	}
}

func main() {
	log.SetFlags(0)
	addr := os.Getenv("PATRON_ADDR")
	if addr == "" {
		addr = "127.0.0.1:50051"
	}
	// Plaintext for a loopback demo; grpc.WithTransportCredentials(
	// credentials.NewTLS(...)) in production. (WithInsecure: Debian 12's
	// grpc-go 1.33 predates credentials/insecure.)
	conn, err := grpc.Dial(addr, grpc.WithInsecure())
	if err != nil {
		log.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()

	ctx := context.Background()
	if token := os.Getenv("PATRON_TOKEN"); token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	}
	if err := run(ctx, conn); err != nil {
		log.Fatalf("patron-example: %v", err)
	}
}

func run(ctx context.Context, conn *grpc.ClientConn) error {
	health := healthpb.NewHealthClient(conn)
	rec := patronv1.NewRecommenderClient(conn)
	events := patronv1.NewEventsClient(conn)
	coupons := patronv1.NewCouponsClient(conn)
	customer := fmt.Sprintf("go-example-%d", time.Now().UnixNano())

	// 1. Health: "patron.v1.Recommender" serves once a model is loaded.
	var hr *healthpb.HealthCheckResponse
	err := withRetry(ctx, "health", func(c context.Context) (err error) {
		hr, err = health.Check(c, &healthpb.HealthCheckRequest{Service: "patron.v1.Recommender"})
		return err
	})
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	fmt.Printf("health: patron.v1.Recommender is %s\n", hr.GetStatus())
	if hr.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return errors.New("the recommender is not serving (no model loaded yet?)")
	}

	// 2. Recommendations for a customer the shop has not seen: popular items.
	recommend := func() (*patronv1.RecommendResponse, error) {
		var r *patronv1.RecommendResponse
		err := withRetry(ctx, "recommend", func(c context.Context) (err error) {
			r, err = rec.Recommend(c, &patronv1.RecommendRequest{CustomerId: customer, K: 5})
			return err
		})
		return r, err
	}
	r, err := recommend()
	if err != nil {
		return fmt.Errorf("recommend: %w", err)
	}
	printItems("recommendations", r)
	if len(r.GetItems()) == 0 {
		return errors.New("no items recommended")
	}

	// 3. The customer views and buys the first item. Times are unix
	// milliseconds; event ids make a retried batch harmless.
	item := r.GetItems()[0].GetItemId()
	now := time.Now().UnixMilli()
	batch := &patronv1.RecordEventsRequest{Events: []*patronv1.Event{
		{EventId: customer + "-view", CustomerId: customer, ItemId: item,
			Type: patronv1.EventType_EVENT_TYPE_VIEW, TimeUnixMs: now - 60_000},
		{EventId: customer + "-buy", CustomerId: customer, ItemId: item,
			Type: patronv1.EventType_EVENT_TYPE_PURCHASE, TimeUnixMs: now,
			Quantity: 1, UnitPrice: 19.90},
	}}
	var er *patronv1.RecordEventsResponse
	err = withRetry(ctx, "record events", func(c context.Context) (err error) {
		er, err = events.RecordEvents(c, batch)
		return err
	})
	if err != nil {
		return fmt.Errorf("record events: %w", err)
	}
	fmt.Printf("recorded events: %d accepted, %d duplicates, %d rejected\n",
		er.GetAccepted(), er.GetDuplicates(), er.GetRejected())
	for _, e := range er.GetErrors() {
		fmt.Printf("  event %d: %s\n", e.GetIndex(), e.GetReason())
	}

	// 4. The next list already knows the purchase (folded in at request time).
	if r, err = recommend(); err != nil {
		return fmt.Errorf("recommend: %w", err)
	}
	printItems("after the purchase", r)

	// 5. A coupon decision. request_id is the idempotency key: a retry
	// returns the logged decision and grants nothing twice.
	var tr *patronv1.TargetCouponsResponse
	err = withRetry(ctx, "target coupons", func(c context.Context) (err error) {
		tr, err = coupons.TargetCoupons(c, &patronv1.TargetCouponsRequest{
			CustomerId: customer, RequestId: customer + "-checkout"})
		return err
	})
	if err != nil {
		return fmt.Errorf("target coupons: %w", err)
	}
	d := tr.GetDecision()
	coupon := d.GetCouponId()
	if coupon == "" {
		coupon = "(none)"
	}
	fmt.Printf("coupon decision: %s coupon %s: %s\n", d.GetOutcome(), coupon, d.GetReason())
	return nil
}

func printItems(label string, r *patronv1.RecommendResponse) {
	fmt.Printf("%s (model %d, request %s):", label, r.GetProvenance().GetModelVersion(),
		r.GetProvenance().GetRequestId())
	for _, it := range r.GetItems() {
		fmt.Printf(" %s (%s %.3f)", it.GetItemId(), it.GetReason(), it.GetScore())
	}
	fmt.Println()
}
