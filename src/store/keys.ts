/** Every Redis key Switchyard writes, under one prefix so installs (and tests) never collide. */
export const keys = (prefix: string) => ({
  deployment: (id: string) => `${prefix}:deploy:${id}`,
  events: (id: string) => `${prefix}:events:${id}`,
  intents: (id: string) => `${prefix}:intents:${id}`,
  /** The Slack ts of each message the outbox posted for a deployment, by message key. */
  posted: (id: string) => `${prefix}:posted:${id}`,
  lock: (service: string) => `${prefix}:lock:${service}`,
  fence: (service: string) => `${prefix}:fence:${service}`,
  history: (service: string) => `${prefix}:history:${service}`,
  blocked: (service: string) => `${prefix}:blocked:${service}`,
  all: () => `${prefix}:deployments`,
  freezes: () => `${prefix}:freezes`,
  /** The outbox's line of a deployment's messages (job ids, by the order they were asked for). */
  outboxOrder: (id: string) => `${prefix}:outbox:${id}`,
  /** Message keys an outbox attempt started sending, so a retry first looks for what it posted. */
  outboxSending: (id: string) => `${prefix}:sending:${id}`,
  /** The per-channel token bucket that paces the outbox. */
  slackRate: (channel: string) => `${prefix}:slack-rate:${channel}`,
  /** How a deployment's message (its announcement, an alert) should read now, and which version Slack has. */
  edit: (id: string, key: string) => `${prefix}:edit:${id}:${key}`,
  /** The effect outbox's line of a deployment's calls in one lane (job ids, by the order they were asked for). */
  effectLane: (id: string, lane: string) => `${prefix}:fx-lane:${id}:${lane}`,
  /** What each effect of a deployment returned, by effect key: a key here is done. */
  effectResults: (id: string) => `${prefix}:fx-done:${id}`,
});

export type Keys = ReturnType<typeof keys>;
