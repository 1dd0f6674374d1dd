import { FaultControls, sendJson, startHttpStandIn, type RecordedRequest } from './http-server.js';

/** Colours of a blue-green pair, plus `main` for a rolling deployment's one Deployment. */
export type ServiceColor = 'blue' | 'green' | 'main';

const COLORS: readonly ServiceColor[] = ['blue', 'green', 'main'];

export interface ServiceStandIn {
  /** Root URL, e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  faults: FaultControls;
  /** Every request received, oldest first. */
  requests: RecordedRequest[];
  /** `urlFor('green')` → http://127.0.0.1:port/green/healthz */
  urlFor(color: ServiceColor, path?: string): string;
  /** Answer /healthz with this status instead of 200; undefined goes back to normal. */
  setHealthStatus(color: ServiceColor, status: number | undefined): void;
  /** Answer the smoke endpoints with this status instead of 200; undefined goes back to normal. */
  setSmokeStatus(color: ServiceColor, status: number | undefined): void;
  /** Extra delay before every answer of that colour. */
  setLatency(color: ServiceColor, ms: number): void;
  reset(): void;
  close(): Promise<void>;
}

export interface ServiceStandInOptions {
  /** The version each colour runs now (the sandbox reads the Kubernetes stand-in's image tag); undefined = no pods. */
  versionOf: (color: ServiceColor) => string | undefined;
  port?: number;
}

const override = (map: Map<ServiceColor, number>, color: ServiceColor, value: number | undefined): void => {
  if (value === undefined) map.delete(color);
  else map.set(color, value);
};

const isColor = (value: string | undefined): value is ServiceColor => COLORS.includes(value as ServiceColor);

/**
 * The deployed service itself, one path prefix per colour: `/{color}/healthz` reports the
 * version that colour runs, `/{color}/api/v2/…` answers the seed-000 smoke checks.
 */
export async function startServiceStandIn(options: ServiceStandInOptions): Promise<ServiceStandIn> {
  const faults = new FaultControls();
  const requests: RecordedRequest[] = [];
  const healthStatus = new Map<ServiceColor, number>();
  const smokeStatus = new Map<ServiceColor, number>();
  const latency = new Map<ServiceColor, number>();

  const server = await startHttpStandIn(
    async (req, res) => {
      const [, first, ...rest] = req.path.split('/');
      if (!isColor(first)) return sendJson(res, 404, { error: 'not_found', path: req.path });
      const color = first;
      const path = `/${rest.join('/')}`;
      const delay = latency.get(color) ?? 0;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      const version = options.versionOf(color);
      // A colour without pods has nothing behind its Service: the load balancer answers 503.
      if (version === undefined) return sendJson(res, 503, { status: 'unavailable', reason: `no ${color} pods` });

      if (path === '/healthz') {
        const status = healthStatus.get(color);
        if (status !== undefined && status !== 200) return sendJson(res, status, { status: 'unhealthy', sha: version });
        return sendJson(res, 200, { status: 'ok', sha: version });
      }
      const endpoint =
        path === '/api/v2/auth/token'
          ? { method: 'POST', body: { token: `sandbox-${color}-token`, expires_in: 3600 } }
          : path === '/api/v2/users/me'
            ? { method: 'GET', body: { id: 'usr_sandbox', name: 'Sandbox User', color } }
            : undefined;
      if (!endpoint) return sendJson(res, 404, { error: 'not_found', path });
      if (req.method !== endpoint.method && !(endpoint.method === 'GET' && req.method === 'HEAD')) {
        return sendJson(res, 405, { error: 'method_not_allowed' }, { allow: endpoint.method });
      }
      const status = smokeStatus.get(color);
      if (status !== undefined && status !== 200) return sendJson(res, status, { error: 'injected' });
      sendJson(res, 200, endpoint.body);
    },
    { port: options.port, faults, log: requests },
  );

  return {
    url: server.url,
    port: server.port,
    faults,
    requests,
    urlFor: (color, path = '/healthz') => `${server.url}/${color}${path.startsWith('/') ? path : `/${path}`}`,
    setHealthStatus: (color, status) => override(healthStatus, color, status),
    setSmokeStatus: (color, status) => override(smokeStatus, color, status),
    setLatency: (color, ms) => override(latency, color, ms > 0 ? ms : undefined),
    reset() {
      healthStatus.clear();
      smokeStatus.clear();
      latency.clear();
      faults.clear();
      requests.length = 0;
    },
    close: () => server.close(),
  };
}
