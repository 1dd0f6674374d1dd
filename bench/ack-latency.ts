import { CHANNELS, PEOPLE, SANDBOX_SIGNING_SECRET, type Sandbox } from '../sandbox/sandbox.js';
import type { SlashCommandFields } from '../sandbox/slack-requests.js';
import { READY, type WaveReply, type WaveRequest } from './ack-client.js';
import { BenchFailed } from './bench-error.js';
import { sleep, type BenchContext } from './context.js';
import { freePort } from './ports.js';
import { answers, spawnBareBolt, spawnTs, waitUntil, type BenchProcess } from './processes.js';
import { openStage } from './stage.js';
import { ratio, summarize, type Summary } from './stats.js';

export interface AckRow {
  command: string;
  concurrency: number;
  switchyard: Summary;
  /** The floor: a bare Bolt app that only acks, same receiver, same signed requests. */
  bare: Summary;
  p99Ratio: number;
  medianRatio: number;
  /** Requests that did not get a 200 with an empty body. */
  errors: number;
  /** Switchyard waves whose after-ack work (modal, response) had not reached the stand-in 5 s later. */
  unsettledWaves: number;
}

interface Command {
  label: string;
  command: string;
  text: string;
  /** What reaches the Slack stand-in after the ack: a modal, or a response_url post. */
  afterAck: (slack: Sandbox['slack']) => number;
}

const COMMANDS: Command[] = [
  {
    label: '/deploy',
    command: '/deploy',
    text: 'acme-api v1.5.0',
    afterAck: (slack) => slack.callsTo('views.open').length,
  },
  { label: '/deploy status', command: '/deploy', text: 'status', afterAck: (slack) => slack.responses.length },
];

export const ACK_CONCURRENCY = [1, 10, 100] as const;

/** Sends waves through the load-generator process and collects its timings. */
class LoadClient {
  private nextId = 0;
  private readonly pending = new Map<number, (reply: WaveReply) => void>();
  private readonly ready: Promise<void>;

  constructor(readonly proc: BenchProcess) {
    this.ready = new Promise((resolve) => this.pending.set(READY, () => resolve()));
    proc.child.on('message', (reply: WaveReply) => {
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
    proc.child.once('exit', (code) => {
      for (const [id, answer] of this.pending)
        answer({ id, ms: [], errors: 0, failure: `the load client exited (${code}): ${proc.tail()}` });
      this.pending.clear();
    });
  }

  /** `n` signed requests sent at once; the milliseconds each took to be acked. */
  async wave(url: string, sandbox: Sandbox, command: Command, n: number): Promise<WaveReply> {
    await this.ready;
    if (this.proc.child.exitCode !== null)
      throw new BenchFailed(`the load client exited (${this.proc.child.exitCode})`, { output: this.proc.tail() });
    const id = this.nextId++;
    const requests: SlashCommandFields[] = Array.from({ length: n }, () => ({
      command: command.command,
      text: command.text,
      user_id: PEOPLE.requester,
      channel_id: CHANNELS.team,
      // Issued by the stand-in, so that the bot's after-ack calls are answered as Slack would.
      trigger_id: sandbox.slack.issueTriggerId({ user: PEOPLE.requester }),
      response_url: sandbox.slack.responseUrl({ channel: CHANNELS.team, user: PEOPLE.requester }),
    }));
    const reply = await new Promise<WaveReply>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new BenchFailed(`the load client did not answer a wave of ${n} within 60 s`, { output: this.proc.tail() }),
          ),
        60_000,
      );
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      const message: WaveRequest = { id, url, secret: SANDBOX_SIGNING_SECRET, requests };
      this.proc.child.send(message);
    });
    if (reply.failure) throw new BenchFailed(`the load client failed: ${reply.failure}`);
    return reply;
  }
}

/**
 * Slash-command ack latency at 1, 10 and 100 concurrent signed requests, Switchyard's bot
 * against a bare Bolt app, both in processes of their own, loaded by a third (the stand-ins
 * stay in the bench's process). Waves alternate between the two
 * so that both see the same machine noise; after each Switchyard wave the bench waits for
 * its after-ack work to reach the stand-in, so waves do not pile up on each other.
 */
export async function measureAckLatency(ctx: BenchContext): Promise<AckRow[]> {
  const stage = await openStage({ redisUrl: ctx.redisUrl, sandbox: {}, cpuProfDir: ctx.cpuProfDir });
  try {
    const bot = await stage.startBot('ack-switchyard-bot');
    const barePort = await freePort();
    const bare = spawnBareBolt('ack-bare-bolt', {
      env: { ...stage.env, PORT: String(barePort) },
      cpuProfDir: ctx.cpuProfDir,
    });
    const bareUrl = `http://127.0.0.1:${barePort}`;
    const client = new LoadClient(spawnTs('ack-load-client', 'bench/ack-client.ts', [], { env: {}, ipc: true }));
    try {
      await waitUntil('the bare Bolt app to listen', () => answers(`${bareUrl}/slack/events`), 30_000, bare);
      const slack = stage.sandbox.slack;
      const settle = async (command: Command, expected: number): Promise<boolean> => {
        const deadline = Date.now() + 5000;
        while (command.afterAck(slack) < expected) {
          if (Date.now() > deadline) return false;
          await sleep(5);
        }
        return true;
      };
      // Warm-up, not measured: JIT, connection pools, Redis connections.
      for (const command of COMMANDS) {
        const warm = ctx.quick ? 20 : 100;
        const expected = command.afterAck(slack) + warm;
        await client.wave(bot.url, stage.sandbox, command, warm);
        await settle(command, expected);
        await client.wave(bareUrl, stage.sandbox, command, warm);
      }
      await sleep(500);

      const rows: AckRow[] = [];
      const perLevel = ctx.quick ? 40 : 400;
      for (const command of COMMANDS) {
        for (const concurrency of ACK_CONCURRENCY) {
          const samples = { switchyard: [] as number[], bare: [] as number[] };
          let errors = 0;
          let unsettledWaves = 0;
          const waves = Math.max(3, Math.ceil(perLevel / concurrency));
          for (let i = 0; i < waves; i += 1) {
            const order = i % 2 === 0 ? (['switchyard', 'bare'] as const) : (['bare', 'switchyard'] as const);
            for (const target of order) {
              const expected = command.afterAck(slack) + concurrency;
              const result = await client.wave(
                target === 'switchyard' ? bot.url : bareUrl,
                stage.sandbox,
                command,
                concurrency,
              );
              samples[target].push(...result.ms);
              errors += result.errors;
              if (target === 'switchyard' && !(await settle(command, expected))) unsettledWaves += 1;
            }
          }
          const row: AckRow = {
            command: command.label,
            concurrency,
            switchyard: summarize(samples.switchyard),
            bare: summarize(samples.bare),
            p99Ratio: 0,
            medianRatio: 0,
            errors,
            unsettledWaves,
          };
          row.p99Ratio = ratio(row.switchyard.p99, row.bare.p99);
          row.medianRatio = ratio(row.switchyard.median, row.bare.median);
          rows.push(row);
          ctx.log(
            `ack ${command.label} ×${concurrency}: switchyard p99 ${row.switchyard.p99.toFixed(1)} ms, bare p99 ${row.bare.p99.toFixed(1)} ms`,
          );
        }
      }
      if (rows.some((row) => row.errors > 0)) {
        throw new BenchFailed('some slash commands were not acknowledged with an empty 200', {
          rows: rows.map((r) => `${r.command}×${r.concurrency}: ${r.errors}`),
        });
      }
      return rows;
    } finally {
      await Promise.all([bare.stop(), client.proc.stop()]);
    }
  } finally {
    await stage.close();
  }
}
