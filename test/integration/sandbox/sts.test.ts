import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startStsStandIn, type StsStandIn } from '../../../sandbox/sts.js';

/** What a promise rejects with. */
const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => expect.unreachable('expected a rejection'),
    (e: unknown) => e,
  );

const ROLE = 'arn:aws:iam::111111111111:role/deploy/switchyard';

let sts: StsStandIn;
beforeEach(async () => {
  sts = await startStsStandIn();
});
afterEach(async () => {
  await sts.close();
});

/** The SDK's own AssumeRole, pointed at the stand-in. */
const assume = (params: { RoleArn: string; RoleSessionName?: string; DurationSeconds?: number }) =>
  fromTemporaryCredentials({
    params,
    masterCredentials: { accessKeyId: 'AKIAMASTER0000000001', secretAccessKey: 'master-secret' },
    clientConfig: { endpoint: sts.url, region: 'us-west-2', maxAttempts: 1 },
  })();

describe('the STS stand-in, through the SDK', () => {
  it('answers AssumeRole with the credentials it records, expiring as asked', async () => {
    const before = Date.now();
    const credentials = await assume({ RoleArn: ROLE, RoleSessionName: 'switchyard-staging', DurationSeconds: 900 });
    expect(sts.assumed).toHaveLength(1);
    const [issued] = sts.assumed;
    expect(credentials).toMatchObject({
      accessKeyId: issued?.accessKeyId,
      secretAccessKey: issued?.secretAccessKey,
      sessionToken: issued?.sessionToken,
    });
    expect(credentials.expiration?.getTime()).toBe(issued?.expiration.getTime());
    expect(issued?.expiration.getTime()).toBeGreaterThanOrEqual(before + 900_000);
    expect(issued).toMatchObject({ roleArn: ROLE, roleSessionName: 'switchyard-staging', durationSeconds: 900 });
    expect(issued?.signedBy).toMatchObject({
      accessKeyId: 'AKIAMASTER0000000001',
      region: 'us-west-2',
      service: 'sts',
    });
  });

  it('a configured expiry wins over DurationSeconds', async () => {
    sts.setExpiresInSeconds(60);
    const credentials = await assume({ RoleArn: ROLE, DurationSeconds: 3600 });
    expect(credentials.expiration!.getTime() - Date.now()).toBeLessThanOrEqual(60_000);
  });

  it('a denied role: AccessDenied, as the SDK reads it', async () => {
    sts.deny(ROLE);
    const error = (await rejection(assume({ RoleArn: ROLE }))) as Error & { $metadata?: { httpStatusCode?: number } };
    expect(error.name).toBe('AccessDenied');
    expect(error.message).toMatch(
      /is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role\/deploy\/switchyard$/,
    );
    expect(error.$metadata?.httpStatusCode).toBe(403);
    expect(sts.assumed).toEqual([]);
  });

  it('validates the role ARN and the duration', async () => {
    const badArn = (await rejection(assume({ RoleArn: 'arn:aws:iam::1111:user/x' }))) as Error;
    expect(badArn.name).toBe('ValidationError');
    const badDuration = (await rejection(assume({ RoleArn: ROLE, DurationSeconds: 60 }))) as Error;
    expect(badDuration.name).toBe('ValidationError');
    expect(badDuration.message).toContain('between 900 and 43200');
  });

  it('an unsigned request is refused', async () => {
    const response = await fetch(sts.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ Action: 'AssumeRole', Version: '2011-06-15', RoleArn: ROLE, RoleSessionName: 'x1' }),
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('<Code>MissingAuthenticationToken</Code>');
  });
});
