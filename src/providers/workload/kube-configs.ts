import { KubeConfig } from '@kubernetes/client-node';
import { KubeContextMissing } from '../../errors.js';

/** What an environment says about its cluster: the `kubeContext` of the catalog's environment. */
export interface KubeEnvironment {
  name: string;
  /** A context of KUBECONFIG; none: its current context. */
  kubeContext?: string;
}

/** KUBECONFIG (or the in-cluster configuration), as `@kubernetes/client-node` loads it by default. */
const loadDefault = (): KubeConfig => {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
};

/**
 * One KubeConfig per environment, all from one loaded configuration (default: KUBECONFIG):
 * each set to the environment's `kubeContext`, or left on the current context. A context the
 * configuration lacks throws KubeContextMissing naming the environment and the context, so a
 * worker refuses to start rather than deploy to the wrong cluster.
 */
export function kubeConfigsFor(
  environments: readonly KubeEnvironment[],
  source: KubeConfig = loadDefault(),
): Map<string, KubeConfig> {
  const available = source.getContexts().map((context) => context.name);
  const configs = new Map<string, KubeConfig>();
  for (const environment of environments) {
    const context = environment.kubeContext;
    if (context === undefined) {
      configs.set(environment.name, source);
      continue;
    }
    if (!available.includes(context)) throw new KubeContextMissing(environment.name, context, available);
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: source.getClusters(),
      users: source.getUsers(),
      contexts: source.getContexts(),
      currentContext: context,
    });
    configs.set(environment.name, kc);
  }
  return configs;
}
