import { isTerminal, type Deployment } from '../../src/domain/deployment.js';
import { CHANNELS } from '../../sandbox/sandbox.js';
import type { SlackMessage, SlackView } from '../../sandbox/slack.js';
import { until, type Harness } from './harness.js';

interface TextBlock {
  type: string;
  text?: { text?: string };
  fields?: { text?: string }[];
  elements?: { text?: unknown }[];
}

const blocksOf = (view: SlackView): TextBlock[] => view.blocks as TextBlock[];

/** A Home tab as a person reads it: headers, sections (with their fields) and context lines, one per line. */
export function homeText(view: SlackView): string {
  return blocksOf(view)
    .flatMap((block) => {
      const own = block.text?.text ? [block.text.text] : [];
      const fields = (block.fields ?? []).map((f) => f.text ?? '');
      const context =
        block.type === 'context' ? (block.elements ?? []).map((e) => (typeof e.text === 'string' ? e.text : '')) : [];
      return [...own, ...fields, ...context];
    })
    .join('\n');
}

/** The DORA fields of one service on the Home tab. */
export function doraFieldsOf(view: SlackView, service: string): string {
  const block = blocksOf(view).find((b) => b.type === 'section' && b.text?.text === `*${service}*` && b.fields);
  if (!block) throw new Error(`the Home tab has no DORA block for ${service}`);
  return (block.fields ?? []).map((f) => f.text ?? '').join('\n');
}

/** The announcement of `text` (`acme-api v1.5.0`), once posted: posting may lag the modal's submission. */
export const announcementOf = (h: Harness, text: string): Promise<SlackMessage> =>
  until(
    () =>
      h.sandbox.slack
        .messages(CHANNELS.deployments)
        .find((m) => !m.thread_ts && m.text.includes(`Production Deployment Scheduled: ${text} `)),
    5000,
    `the announcement of ${text}`,
  );

/** `/deploy <text>`, the checklist, then a release manager's decision on that deployment's own announcement. */
export async function requestAndDecide(
  h: Harness,
  text: string,
  decide: 'approve' | 'reject' = 'approve',
): Promise<void> {
  const { view } = await h.requester.requestDeploy(text);
  await h.requester.submitChecklist(view);
  await h.releaseManager.press(await announcementOf(h, text), `${decide}_deployment`);
}

/** The newest deployment once it has finished. */
export const finishedDeployment = (h: Harness, version: string, timeoutMs = 30_000): Promise<Deployment> =>
  until(
    async () => {
      const [d] = await h.app.store.recent(1);
      return d?.version === version && isTerminal(d.phase) ? d : undefined;
    },
    timeoutMs,
    `${version} to finish`,
  );
