import type { Elbv2StandIn } from './elbv2.js';
import type { KubernetesStandIn } from './kubernetes.js';
import { startServiceStandIn, type ServiceStandIn } from './service.js';

export interface FleetOptions {
  /** How many services: `svc-001`, `svc-002`, … */
  size: number;
  /** Changes to every fleet service's catalog entry, on top of the copied template. */
  service?: Record<string, unknown>;
}

/** The service every fleet member copies, and the names in its entry that are its own. */
export interface FleetTemplate {
  name: string;
  entry: Record<string, unknown>;
  listenerArn: string;
  serviceUrl: string;
  namespace: string;
  container: string;
  /** The tag every fleet Deployment starts on. */
  initialVersion: string;
}

export interface Fleet {
  names: string[];
  /** Catalog entries by service name. */
  entries: Record<string, Record<string, unknown>>;
  close(): Promise<void>;
}

export const fleetName = (index: number): string => `svc-${String(index + 1).padStart(3, '0')}`;

/**
 * Many services shaped like the template (benchmarks at scale): each gets its own ALB listener
 * and target groups, blue/green Deployments and a service stand-in answering its /healthz and
 * smoke checks, and a catalog entry that is the template's with every name, ARN and URL
 * swapped for its own (metric queries naming the service included).
 */
export async function startFleet(
  options: FleetOptions,
  template: FleetTemplate,
  deps: { elbv2: Elbv2StandIn; kubernetes: KubernetesStandIn },
): Promise<Fleet> {
  const names = Array.from({ length: options.size }, (_, i) => fleetName(i));
  const sites: ServiceStandIn[] = [];
  const entries: Record<string, Record<string, unknown>> = {};
  const json = JSON.stringify(template.entry);
  try {
    for (const name of names) {
      const tagOf = (color: string) =>
        deps.kubernetes.imageOf(template.namespace, `${name}-${color}`, template.container)?.split(':').pop();
      const site = await startServiceStandIn({ versionOf: (color) => tagOf(color) });
      sites.push(site);
      const listenerArn = template.listenerArn.replace(/\/app\/[^/]+\//, `/app/${name}/`);
      const own = json
        .replaceAll(template.listenerArn, listenerArn)
        .replaceAll(`${template.serviceUrl}/`, `${site.url}/`)
        .replaceAll(template.name, name);
      // A copy each: one object shared by 200 entries would be written to YAML as aliases.
      const entry = { ...(JSON.parse(own) as Record<string, unknown>), ...structuredClone(options.service) };
      const groups = (entry.traffic as { targetGroups: { blue: string; green: string } }).targetGroups;
      const image = `${(entry.workload as { image: string }).image}:${template.initialVersion}`;
      deps.elbv2.addListener(listenerArn, [
        { arn: groups.blue, weight: 100 },
        { arn: groups.green, weight: 0 },
      ]);
      for (const color of ['blue', 'green']) {
        deps.kubernetes.addDeployment({
          namespace: template.namespace,
          name: `${name}-${color}`,
          container: template.container,
          image,
          replicas: 2,
        });
      }
      entries[name] = entry;
    }
  } catch (error) {
    await Promise.all(sites.map((site) => site.close()));
    throw error;
  }
  return { names, entries, close: async () => void (await Promise.all(sites.map((site) => site.close()))) };
}
