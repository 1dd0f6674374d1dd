/**
 * Resolves after the event loop has run the I/O callbacks already waiting (`setImmediate`):
 * requests that arrived in the same burst are read, verified and acked before this handler's
 * after-ack work (Redis reads, `views.open`, a `response_url` post) takes the CPU. Slack gives a
 * handler 3 s to ack; the follow-up only has to land within the trigger's 3 s.
 */
export const yieldToAcks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
