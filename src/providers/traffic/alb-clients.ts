import {
  ElasticLoadBalancingV2Client,
  type ElasticLoadBalancingV2ClientConfig,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { fromTemporaryCredentials, type FromTemporaryCredentialsOptions } from '@aws-sdk/credential-providers';
import { ConfigInvalid } from '../../errors.js';
import { AlbTraffic, type AlbTrafficOptions } from './alb.js';

/** What an environment says about its AWS account: the `aws` key of the catalog's environment. */
export interface AwsEnvironment {
  name: string;
  aws?: { region: string; roleArn?: string };
}

export interface AlbClientsOptions {
  /** Settings every ELBv2 client gets over the SDK's defaults (a test's endpoint, say). */
  clientConfig?: ElasticLoadBalancingV2ClientConfig;
  /**
   * Settings of the STS client that assumes the roles. By default the SDK's own: the region of
   * the environment, the default credential chain, and `AWS_ENDPOINT_URL_STS` (which the SDK's
   * STS client reads by itself) for another endpoint.
   */
  stsConfig?: FromTemporaryCredentialsOptions['clientConfig'];
  /** Lifetime asked of STS for each set of credentials. Default 3600 s (STS's own default). */
  sessionSeconds?: number;
  traffic?: AlbTrafficOptions;
}

const keyOf = (aws: AwsEnvironment['aws']): string => (aws ? `${aws.region} ${aws.roleArn ?? ''}` : '');

/** The session name in the role's CloudTrail entries: who assumed it, for which environment. */
const sessionName = (environment: string): string => `switchyard-${environment}`.slice(0, 64);

/**
 * One ELBv2 client per environment, built once: its `aws.region`, and when it names a role, the
 * credentials of that role from STS AssumeRole (`fromTemporaryCredentials`). The client keeps
 * the assumed credentials and asks STS again only when they are within five minutes of their
 * expiry (the SDK's identity cache), so many calls share one AssumeRole. Environments without
 * `aws` share one client on the SDK's default chain and region.
 */
export class AlbClients {
  private readonly clients = new Map<string, ElasticLoadBalancingV2Client>();
  private readonly byEnvironment = new Map<string, ElasticLoadBalancingV2Client>();
  private readonly traffic = new Map<string, AlbTraffic>();

  constructor(
    environments: readonly AwsEnvironment[],
    private readonly options: AlbClientsOptions = {},
  ) {
    for (const environment of environments) {
      const key = keyOf(environment.aws);
      let client = this.clients.get(key);
      if (!client) {
        client = this.build(environment);
        this.clients.set(key, client);
      }
      this.byEnvironment.set(environment.name, client);
    }
  }

  /** The environment's ELBv2 client. */
  clientFor(environment: string): ElasticLoadBalancingV2Client {
    const client = this.byEnvironment.get(environment);
    if (!client) throw new ConfigInvalid(`no AWS configuration for environment ${environment}`);
    return client;
  }

  /** The environment's traffic provider, on its client. */
  trafficFor(environment: string): AlbTraffic {
    let traffic = this.traffic.get(environment);
    if (!traffic) {
      traffic = new AlbTraffic(this.clientFor(environment), this.options.traffic);
      this.traffic.set(environment, traffic);
    }
    return traffic;
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
  }

  private build(environment: AwsEnvironment): ElasticLoadBalancingV2Client {
    const config: ElasticLoadBalancingV2ClientConfig = { ...this.options.clientConfig };
    const aws = environment.aws;
    if (aws) config.region = aws.region;
    if (aws?.roleArn)
      config.credentials = fromTemporaryCredentials({
        params: {
          RoleArn: aws.roleArn,
          RoleSessionName: sessionName(environment.name),
          DurationSeconds: this.options.sessionSeconds ?? 3600,
        },
        // STS in the environment's region unless told otherwise (regional endpoints, as AWS advises).
        clientConfig: { region: aws.region, ...this.options.stsConfig },
      });
    return new ElasticLoadBalancingV2Client(config);
  }
}
