/** Every Redis key Switchyard writes, under one prefix so installs (and tests) never collide. */
export const keys = (prefix: string) => ({
  deployment: (id: string) => `${prefix}:deploy:${id}`,
  events: (id: string) => `${prefix}:events:${id}`,
  intents: (id: string) => `${prefix}:intents:${id}`,
  posted: (id: string) => `${prefix}:posted:${id}`,
  lock: (service: string) => `${prefix}:lock:${service}`,
  fence: (service: string) => `${prefix}:fence:${service}`,
  history: (service: string) => `${prefix}:history:${service}`,
  blocked: (service: string) => `${prefix}:blocked:${service}`,
  all: () => `${prefix}:deployments`,
  freezes: () => `${prefix}:freezes`,
});

export type Keys = ReturnType<typeof keys>;
