import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { withDeadline } from '../deadline.js';
import { ConfigInvalid } from '../errors.js';
import { kubeConfigsFor } from '../providers/workload/kube-configs.js';
import type { Catalog } from '../runbook/catalog.js';
import { environmentsOf } from '../runbook/environments.js';
import { elbv2ClientConfig, kubeConfigFrom, type ProviderOptions } from './build-providers.js';

/**
 * What the worker role checks before it takes a deployment, loaded with the SDK-backed adapters
 * (never by a bot-only process): placeholder or missing Kubernetes and AWS settings stop it at
 * start with one line naming what is missing, instead of failing every deployment later.
 */

/**
 * How long the AWS SDK's credential chain may take: its last links ask the container or
 * instance metadata endpoints, which answer in milliseconds where they exist and only time out
 * where they do not.
 */
export const AWS_CHECK_DEADLINE_MS = 5_000;

/**
 * The worker's Kubernetes configuration: it loads (KUBECONFIG, ~/.kube/config or the in-cluster
 * service account, never a silent default), has a usable current context, and holds the
 * `kubeContext` of every catalog environment.
 */
export function checkKubernetes(catalog: Pick<Catalog, 'environments'>, env: ProviderOptions['env']): void {
  kubeConfigsFor(environmentsOf(catalog), kubeConfigFrom(env));
}

const set = (value: string | undefined): value is string => value !== undefined && value !== '';

/**
 * A region and credentials for the ELB API, found the way the SDK finds them: the environment,
 * the shared config files (AWS_PROFILE), a web identity token (IRSA), the container or instance
 * role. What is missing is named.
 */
export async function checkAwsCredentials(
  env: ProviderOptions['env'] = process.env,
  deadlineMs = AWS_CHECK_DEADLINE_MS,
): Promise<void> {
  const client = new ElasticLoadBalancingV2Client(elbv2ClientConfig(env));
  try {
    const region = await client.config.region().catch(() => undefined);
    if (!set(region))
      throw new ConfigInvalid(
        'AWS_REGION is missing: the worker calls the ELB API in one region (set AWS_REGION, or a region in the AWS_PROFILE profile)',
      );
    const [withKey, withoutKey] = set(env?.AWS_ACCESS_KEY_ID)
      ? ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']
      : ['AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID'];
    if (set(env?.[withKey]) && !set(env?.[withoutKey]))
      throw new ConfigInvalid(`${withoutKey} is missing: ${withKey} is set, and the two go together`);
    if (set(env?.AWS_ACCESS_KEY_ID)) return;
    await withDeadline(
      fromNodeProviderChain({ clientConfig: { region } })(),
      deadlineMs,
      () => new Error(`the credential chain did not answer within ${deadlineMs} ms`),
    ).catch((error: unknown) => {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new ConfigInvalid(
        'no AWS credentials for the ELB API: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, ' +
          'or a web identity (AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE, as EKS sets for a service account), ' +
          `or run with a container or instance role (the AWS SDK: ${reason})`,
      );
    });
  } finally {
    client.destroy();
  }
}

/** Every check the worker role needs before it takes a deployment. */
export async function checkWorkerPrerequisites(
  catalog: Pick<Catalog, 'environments'>,
  env: ProviderOptions['env'] = process.env,
): Promise<void> {
  checkKubernetes(catalog, env);
  await checkAwsCredentials(env);
}
