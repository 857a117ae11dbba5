<?php
// A storefront's first Patron integration in PHP, over HTTP/JSON: no gRPC
// extension needed (Debian has none), only php-cli and php-curl. patrond's
// admin listener (--admin-listen HOST:PORT) answers POST /v1/{Service}/{Method}
// with the proto3 JSON mapping of the same methods.
//
// Checks the server's health, asks for recommendations (a deadline on every
// call, retried while the server is UNAVAILABLE), records what the customer
// did, and asks whether to give them a coupon.
//
//   PATRON_HTTP=http://127.0.0.1:9090 [PATRON_TOKEN=...] php clients/php/patron_example.php
//
// See README.md.
declare(strict_types=1);

const CALL_TIMEOUT_MS = 2000; // each attempt's deadline
const ATTEMPTS = 8;           // UNAVAILABLE: up to ~16 s of backoff in all

/** A gRPC status from the gateway (or UNAVAILABLE when nothing answered). */
final class PatronError extends RuntimeException
{
    public function __construct(public readonly string $grpcCode, string $message)
    {
        parent::__construct("$grpcCode: $message");
    }
}

final class PatronClient
{
    public function __construct(private string $base, private ?string $token)
    {
    }

    /**
     * One call: POST /v1/{service}/{method} with $request as JSON, the
     * deadline both as curl's timeout and as X-Patron-Timeout-Ms for the
     * server. Returns the decoded response; throws PatronError.
     */
    public function call(string $service, string $method, array $request): array
    {
        $headers = ['Content-Type: application/json',
                    'X-Patron-Timeout-Ms: ' . CALL_TIMEOUT_MS];
        if ($this->token !== null) {
            $headers[] = 'Authorization: Bearer ' . $this->token;
        }
        $ch = curl_init("{$this->base}/v1/$service/$method");
        curl_setopt_array($ch, [
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => json_encode((object)$request, JSON_THROW_ON_ERROR),
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT_MS => CALL_TIMEOUT_MS,
            CURLOPT_NOPROXY => '*', // a demo on loopback; drop it to honour proxies
        ]);
        $body = curl_exec($ch);
        $errno = curl_errno($ch);
        $http = (int)curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
        $curlError = curl_error($ch);
        curl_close($ch);
        if ($errno === CURLE_OPERATION_TIMEDOUT) {
            throw new PatronError('DEADLINE_EXCEEDED', $curlError);
        }
        if ($errno !== 0) { // refused, reset, unresolvable: nothing was done
            throw new PatronError('UNAVAILABLE', $curlError);
        }
        $doc = json_decode((string)$body, true);
        if ($http !== 200) {
            throw new PatronError($doc['code'] ?? "HTTP $http", $doc['message'] ?? (string)$body);
        }
        if (!is_array($doc)) {
            throw new PatronError('INTERNAL', "not a JSON object: $body");
        }
        return $doc;
    }

    /**
     * call() retrying only UNAVAILABLE (server starting, restarting or
     * unreachable) with exponential backoff. Other codes are answers.
     */
    public function callWithRetry(string $service, string $method, array $request): array
    {
        $backoffMs = 250;
        for ($attempt = 1; ; $attempt++) {
            try {
                return $this->call($service, $method, $request);
            } catch (PatronError $e) {
                if ($e->grpcCode !== 'UNAVAILABLE' || $attempt === ATTEMPTS) {
                    throw $e;
                }
                printf("%s: UNAVAILABLE, retrying in %dms (attempt %d of %d)\n",
                       $method, $backoffMs, $attempt, ATTEMPTS);
                usleep($backoffMs * 1000);
                $backoffMs = min($backoffMs * 2, 2000);
            }
        }
    }
}

function printItems(string $label, array $r): void
{
    $items = array_map(fn(array $i): string => sprintf('%s (%s %.3f)', $i['itemId'],
                                                      $i['reason'] ?? 'REASON_UNSPECIFIED',
                                                      $i['score'] ?? 0.0),
                       $r['items'] ?? []);
    printf("%s (model %s, request %s): %s\n", $label, $r['provenance']['modelVersion'] ?? '0',
           $r['provenance']['requestId'] ?? '', implode(' ', $items));
}

function main(): void
{
    $patron = new PatronClient(rtrim(getenv('PATRON_HTTP') ?: 'http://127.0.0.1:9090', '/'),
                               getenv('PATRON_TOKEN') ?: null);
    $customer = 'php-example-' . hrtime(true);

    // 1. Health: "patron.v1.Recommender" serves once a model is loaded.
    $h = $patron->callWithRetry('grpc.health.v1.Health', 'Check',
                                ['service' => 'patron.v1.Recommender']);
    $status = $h['status'] ?? 'UNKNOWN';
    echo "health: patron.v1.Recommender is $status\n";
    if ($status !== 'SERVING') {
        throw new RuntimeException('the recommender is not serving (no model loaded yet?)');
    }

    // 2. Recommendations for a customer the shop has not seen: popular items.
    $ask = ['customerId' => $customer, 'k' => 5];
    $r = $patron->callWithRetry('patron.v1.Recommender', 'Recommend', $ask);
    printItems('recommendations', $r);
    if (empty($r['items'])) {
        throw new RuntimeException('no items recommended');
    }

    // 3. The customer views and buys the first item. Times are unix
    // milliseconds (int64: a JSON number or string); event ids make a
    // retried batch harmless.
    $item = $r['items'][0]['itemId'];
    $now = (int)floor(microtime(true) * 1000);
    $er = $patron->callWithRetry('patron.v1.Events', 'RecordEvents', ['events' => [
        ['eventId' => "$customer-view", 'customerId' => $customer, 'itemId' => $item,
         'type' => 'EVENT_TYPE_VIEW', 'timeUnixMs' => (string)($now - 60000)],
        ['eventId' => "$customer-buy", 'customerId' => $customer, 'itemId' => $item,
         'type' => 'EVENT_TYPE_PURCHASE', 'timeUnixMs' => (string)$now,
         'quantity' => 1, 'unitPrice' => 19.90],
    ]]);
    printf("recorded events: %d accepted, %d duplicates, %d rejected\n",
           $er['accepted'] ?? 0, $er['duplicates'] ?? 0, $er['rejected'] ?? 0);
    foreach ($er['errors'] ?? [] as $e) {
        printf("  event %d: %s\n", $e['index'] ?? 0, $e['reason']);
    }

    // 4. The next list already knows the purchase (folded in at request time).
    printItems('after the purchase', $patron->callWithRetry('patron.v1.Recommender',
                                                            'Recommend', $ask));

    // 5. A coupon decision. requestId is the idempotency key: a retry
    // returns the logged decision and grants nothing twice.
    $t = $patron->callWithRetry('patron.v1.Coupons', 'TargetCoupons',
                                ['customerId' => $customer, 'requestId' => "$customer-checkout"]);
    $d = $t['decision'] ?? [];
    printf("coupon decision: %s coupon %s: %s\n", $d['outcome'] ?? 'COUPON_OUTCOME_UNSPECIFIED',
           ($d['couponId'] ?? '') !== '' ? $d['couponId'] : '(none)', $d['reason'] ?? '');
}

try {
    main();
} catch (Throwable $e) {
    fwrite(STDERR, 'patron_example: ' . $e->getMessage() . "\n");
    exit(1);
}
