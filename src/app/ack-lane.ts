import type { HTTPReceiver } from '@slack/bolt';

/**
 * Acks first. Slack fails a request that is not acked within 3 s, while the work a handler does
 * after its ack (Redis reads, `views.open`, a `response_url` post) only has to land within a
 * trigger's 3 s. In a burst of commands, early handlers building modals would keep later
 * requests from being read, verified and acked: after-ack work waits in this lane, which lets
 * one waiting handler go per turn of the event loop, and none while a Slack request this
 * process has received is still unanswered (for `maxWaitMs` at most).
 */

/** Slack requests received and not answered yet. */
let unanswered = 0;
const lane: { go: () => void; until: number }[] = [];
let pumping = false;
const DEFAULT_MAX_WAIT_MS = 1000;

function pump(): void {
  if (pumping) return;
  pumping = true;
  setImmediate(() => {
    pumping = false;
    const first = lane[0];
    if (!first) return;
    if (unanswered === 0 || performance.now() >= first.until) {
      lane.shift();
      first.go();
    }
    if (lane.length === 0) return;
    // Something is still unanswered: look again once the oldest waiter's time is up or after the next turn.
    if (unanswered === 0) pump();
    else setTimeout(pump, Math.max(0, Math.min(5, (lane[0]?.until ?? 0) - performance.now())));
  });
}

/** Counts the receiver's POSTs from arrival until their response is sent (or the client goes away). */
export function trackSlackAcks(receiver: HTTPReceiver): void {
  const handle = receiver.requestListener;
  receiver.requestListener = (req, res) => {
    if (req.method === 'POST') {
      unanswered += 1;
      let answered = false;
      const done = () => {
        if (answered) return;
        answered = true;
        unanswered -= 1;
        if (unanswered === 0 && lane.length > 0) pump();
      };
      res.once('finish', done);
      res.once('close', done);
    }
    handle(req, res);
  };
}

/** Resolves when this handler's turn comes: see above. */
export function afterPendingAcks(maxWaitMs = DEFAULT_MAX_WAIT_MS): Promise<void> {
  return new Promise((go) => {
    lane.push({ go, until: performance.now() + maxWaitMs });
    pump();
  });
}
