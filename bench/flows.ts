import type { Deployment } from '../src/domain/deployment.js';
import { CHANNELS, PEOPLE, SANDBOX_SIGNING_SECRET, type Sandbox } from '../sandbox/sandbox.js';
import type { SlackMessage, SlackView } from '../sandbox/slack.js';
import { SlackUser } from '../sandbox/slack-user.js';
import type { DeploymentStore } from '../src/store/deployment-store.js';
import { BenchFailed } from './bench-error.js';
import { waitUntil } from './processes.js';

const POLL_MS = 20;

async function poll<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new BenchFailed(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Drives the bot only as Slack would (signed requests), for many services at once: the
 * SlackUser helpers pick the newest modal, which is ambiguous when flows overlap, so views
 * and announcements are matched here by service and version.
 */
export class SlackDriver {
  readonly requester: SlackUser;
  readonly releaseManager: SlackUser;

  constructor(
    private readonly sandbox: Sandbox,
    readonly appUrl: string,
  ) {
    const user = (id: string) => new SlackUser(id, appUrl, sandbox.slack, SANDBOX_SIGNING_SECRET, CHANNELS.team);
    this.requester = user(PEOPLE.requester);
    this.releaseManager = user(PEOPLE.releaseManager);
  }

  // Both lookups run many times a second in every lane: newest first, and a cheap substring
  // test before any JSON is parsed, or the polling alone saturates the bench's process.
  private checklistFor(service: string, version: string): SlackView | undefined {
    const views = this.sandbox.slack.views;
    const needle = `"service":"${service}"`;
    for (let i = views.length - 1; i >= 0; i -= 1) {
      const view = views[i] as SlackView;
      if (view.callback_id !== 'deploy_checklist' || !view.private_metadata.includes(needle)) continue;
      const meta = JSON.parse(view.private_metadata) as { service?: string; version?: string };
      if (meta.service === service && meta.version === version) return view;
    }
    return undefined;
  }

  announcementOf(service: string, version: string): SlackMessage | undefined {
    const title = `Scheduled: ${service} ${version} `;
    const messages = this.sandbox.slack.messages(CHANNELS.deployments);
    for (let i = messages.length - 1; i >= 0; i -= 1) {
      const m = messages[i] as SlackMessage;
      if (!m.thread_ts && m.text.includes(title)) return m;
    }
    return undefined;
  }

  /** `/deploy service version`, the checklist confirmed and submitted; resolves on the announcement. */
  async request(service: string, version: string): Promise<SlackMessage> {
    const ack = await this.requester.command('/deploy', `${service} ${version}`);
    if (ack.status !== 200 || ack.body)
      throw new BenchFailed(`/deploy ${service} ${version} was refused`, { status: ack.status, body: ack.body });
    const view = await poll(
      `the checklist of ${service} ${version}`,
      () => this.checklistFor(service, version),
      10_000,
    );
    const submitted = await this.requester.submitChecklist(view);
    if (submitted.status !== 200 || submitted.body)
      throw new BenchFailed(`the checklist of ${service} ${version} was refused`, { body: submitted.body });
    return poll(`the announcement of ${service} ${version}`, () => this.announcementOf(service, version), 10_000);
  }

  async approve(announcement: SlackMessage): Promise<void> {
    const pressed = await this.releaseManager.press(announcement, 'approve_deployment');
    if (pressed.status !== 200)
      throw new BenchFailed('Approve was not acknowledged', { status: pressed.status, body: pressed.body });
  }

  async requestAndApprove(service: string, version: string): Promise<void> {
    await this.approve(await this.request(service, version));
  }
}

/** Runs `task` over `items`, at most `limit` at a time. */
export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  });
  await Promise.all(lanes);
}

/** Whether the service's active deployment is baking (its current step is a bake that has started). */
export const isBaking = (d: Deployment | undefined): boolean =>
  d !== undefined &&
  d.phase === 'running' &&
  d.steps[d.stepIndex]?.kind === 'bake' &&
  d.stepRecords[d.stepIndex]?.startedAt !== undefined;

/** Waits until every named service has an active deployment in a bake. */
export async function waitForBaking(
  store: DeploymentStore,
  services: readonly string[],
  timeoutMs: number,
): Promise<void> {
  let pending = [...services];
  await waitUntil(
    `${services.length} deployments to be baking`,
    async () => {
      const states = await Promise.all(pending.map((name) => store.active(name)));
      pending = pending.filter((_, i) => !isBaking(states[i]));
      return pending.length === 0;
    },
    timeoutMs,
  );
}

/** Waits until the service's newest deployment reaches one of `phases`. */
export async function waitForPhase(
  store: DeploymentStore,
  service: string,
  phases: readonly Deployment['phase'][],
  timeoutMs: number,
): Promise<Deployment> {
  return poll(
    `${service} to reach ${phases.join(' or ')}`,
    async () => {
      const [d] = await store.history(service, 1);
      return d && phases.includes(d.phase) ? d : undefined;
    },
    timeoutMs,
  );
}
