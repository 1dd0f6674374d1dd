import { sendJson, startHttpStandIn } from '../sandbox/http-server.js';

/**
 * The fleet's smoke-check endpoints, in a process of their own. A deployed service answers
 * from its own machines; answered from the bench's process, beside the Slack, ELBv2,
 * Kubernetes and Datadog stand-ins serving 200 deployments at once, its latency would be that
 * process's queue, and smoke checks would fail healthy deployments for the bench's sake.
 * Sends its port to the parent once it listens; answers 200 with a small JSON body on any path.
 */

/** The message this process sends once it listens. */
export interface SmokeEndpointsReady {
  port: number;
}

const server = await startHttpStandIn((_req, res) => sendJson(res, 200, { ok: true }));
const ready: SmokeEndpointsReady = { port: server.port };
process.send?.(ready);
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
