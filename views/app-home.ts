import { durationMs, type Deployment } from '../src/domain/deployment.js';
import type { DoraFigures } from '../src/domain/dora.js';
import { formatDuration } from '../src/domain/steps.js';
import { activeCount, OUTCOMES, progressDetail, threadLink } from './reports.js';
import { statusLine } from './status-line.js';
import { context, escapeText, plain, section, slackDate } from './text.js';

export const HOME_CALLBACK_ID = 'switchyard_home';
export const HOME_REFRESH_ACTION = 'home_refresh';

/** A Home tab holds at most 100 blocks: the caps below keep the whole view inside that. */
export const HOME_LIMITS = { active: 15, recent: 15, services: 40 } as const;

export interface HomeData {
  now: number;
  active: Deployment[];
  /** Newest first, every service. */
  recent: Deployment[];
  dora: DoraFigures[];
  windowDays: number;
  /** The catalog declares environments: every deployment and figure names its own. */
  namesEnvironments?: boolean;
}

type Block = Record<string, unknown>;

const header = (text: string): Block => ({ type: 'header', text: plain(text, 150) });
const divider: Block = { type: 'divider' };
const more = (shown: number, total: number, what: string): Block[] =>
  total > shown ? [context(`…and ${total - shown} more ${what}`)] : [];

/** `[staging] ` before a deployment where the catalog has environments. */
const environmentTag = (d: Deployment, named: boolean | undefined): string => (named ? `[${d.environment}] ` : '');

function activeBlocks(active: Deployment[], now: number, named?: boolean): Block[] {
  if (active.length === 0) return [section('_No active deployments._')];
  const shown = active.slice(0, HOME_LIMITS.active);
  return [
    ...shown.flatMap((d) => [
      section(
        `${environmentTag(d, named)}*${d.service}* \`${d.version}\` (${d.strategy}${d.hotfix ? ', HOTFIX' : ''}) by <@${d.requester}>\n${statusLine(d, now)}`,
      ),
      context(`${progressDetail(d, now)}${threadLink(d)}`),
    ]),
    ...more(shown.length, active.length, 'active deployments (`/deploy status` lists them all)'),
  ];
}

function recentBlocks(recent: Deployment[], now: number, named?: boolean): Block[] {
  if (recent.length === 0) return [section('_No deployments yet._')];
  const lines = recent.slice(0, HOME_LIMITS.recent).map((d) => {
    const outcome = OUTCOMES[d.phase] ?? `▶ ${d.phase}`;
    const reason = d.rollbackReason ?? d.failureReason ?? d.rejectReason;
    const who = `<@${d.requester}>${d.approver ? ` → <@${d.approver}>` : ''}`;
    return `${outcome} ${environmentTag(d, named)}*${d.service}* \`${d.version}\` · ${who} · ${formatDuration(durationMs(d, now))}${reason ? ` · ${escapeText(reason)}` : ''} · ${slackDate(d.requestedAt)}${threadLink(d)}`;
  });
  return [section(lines.join('\n'))];
}

const percent = (ratio: number): string => `${Math.round(ratio * 1000) / 10}%`;
const orDash = (ms: number | undefined): string => (ms === undefined ? '—' : formatDuration(ms));

function doraBlock(f: DoraFigures, windowDays: number): Block {
  const perWeek = Math.round(f.perDay * 7 * 10) / 10;
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: `*${f.service}*${f.environment === undefined ? '' : ` in ${f.environment}`}` },
    fields: [
      { type: 'mrkdwn', text: `*Deployment frequency*\n${f.deployments} in ${windowDays} days (${perWeek}/week)` },
      { type: 'mrkdwn', text: `*Lead time* (approval → 100%)\n${orDash(f.leadTimeMs)}` },
      {
        type: 'mrkdwn',
        text: `*Change failure rate*\n${f.changeFailureRate === undefined ? '—' : `${percent(f.changeFailureRate)} (${f.rolledBack} rolled back)`}`,
      },
      { type: 'mrkdwn', text: `*Time to restore*\n${orDash(f.timeToRestoreMs)}` },
    ],
  };
}

/** The App Home tab: what runs now, what ran lately, and the DORA four per service. */
export function appHome(data: HomeData) {
  const dora = data.dora.slice(0, HOME_LIMITS.services);
  const blocks: Block[] = [
    header('Switchyard'),
    context(`Updated ${slackDate(data.now)} · \`/deploy help\` lists the commands`),
    {
      type: 'actions',
      block_id: 'home_actions',
      elements: [{ type: 'button', action_id: HOME_REFRESH_ACTION, text: plain('Refresh'), value: 'refresh' }],
    },
    divider,
    header(`Active deployments (${activeCount(data.active)})`),
    ...activeBlocks(data.active, data.now, data.namesEnvironments),
    divider,
    header('Recent deployments'),
    ...recentBlocks(data.recent, data.now, data.namesEnvironments),
    divider,
    header(`Last ${data.windowDays} days (DORA)`),
    context('Production changes are deployments whose new version served users; medians for the times.'),
    ...(dora.length === 0
      ? [section('_No services in the catalog._')]
      : dora.map((f) => doraBlock(f, data.windowDays))),
    ...more(dora.length, data.dora.length, 'services'),
  ];
  return { type: 'home' as const, callback_id: HOME_CALLBACK_ID, blocks };
}
