import { randomBytes, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { signedBy, type SignedBy } from './aws-signature.js';
import { FaultControls, startHttpStandIn, type RecordedRequest } from './http-server.js';

const NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
const VERSION = '2011-06-15';
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

/** One AssumeRole that STS answered with credentials. */
export interface AssumedRole {
  at: number;
  roleArn: string;
  roleSessionName: string;
  durationSeconds?: number;
  /** The temporary credentials issued. */
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  /** The credentials the AssumeRole request was signed with. */
  signedBy: SignedBy;
}

export interface StsStandIn {
  url: string;
  port: number;
  close(): Promise<void>;
  faults: FaultControls;
  requests: RecordedRequest[];
  /** Every role assumed, in order. */
  assumed: AssumedRole[];
  /** Credentials issued from now on expire this long after they are issued; undefined: as asked (DurationSeconds, default 3600). */
  setExpiresInSeconds(seconds: number | undefined): void;
  /** AssumeRole of this role is refused with AccessDenied, as when its trust policy does not name the caller. */
  deny(roleArn: string): void;
}

export interface StsStandInOptions {
  port?: number;
  /** See setExpiresInSeconds. */
  expiresInSeconds?: number;
}

class StsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

function escapeXml(value: string): string {
  return value.replace(/[<>&'"]/g, (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[c]};`);
}
const el = (name: string, content: string): string => `<${name}>${content}</${name}>`;

/** An STS error document: `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>…`. */
export const stsErrorXml = (code: string, message: string, requestId: string = randomUUID()): string =>
  `<ErrorResponse xmlns="${NAMESPACE}">` +
  el(
    'Error',
    el('Type', code === 'InternalFailure' ? 'Receiver' : 'Sender') +
      el('Code', code) +
      el('Message', escapeXml(message)),
  ) +
  el('RequestId', requestId) +
  '</ErrorResponse>';

const randomId = (prefix: string): string =>
  prefix +
  Array.from(randomBytes(16), (byte) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[byte % 32])
    .join('')
    .slice(0, 16);

/**
 * A stand-in for AWS STS: AssumeRole over the Query protocol (a form-encoded, SigV4-signed POST
 * of `Action=AssumeRole&Version=2011-06-15&RoleArn=…&RoleSessionName=…&DurationSeconds=…`),
 * answering with temporary credentials whose expiry a test chooses.
 */
export async function startStsStandIn(options: StsStandInOptions = {}): Promise<StsStandIn> {
  const faults = new FaultControls();
  const requests: RecordedRequest[] = [];
  const assumed: AssumedRole[] = [];
  const denied = new Set<string>();
  let expiresInSeconds = options.expiresInSeconds;

  const assumeRole = (form: URLSearchParams, signer: SignedBy): string => {
    const roleArn = form.get('RoleArn') ?? '';
    const roleSessionName = form.get('RoleSessionName') ?? '';
    const duration = form.get('DurationSeconds');
    const role = ROLE_ARN.exec(roleArn);
    if (!role)
      throw new StsError(
        'ValidationError',
        `1 validation error detected: Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must be a role ARN`,
      );
    if (!SESSION_NAME.test(roleSessionName))
      throw new StsError(
        'ValidationError',
        `1 validation error detected: Value '${roleSessionName}' at 'roleSessionName' failed to satisfy constraint: ` +
          'Member must satisfy regular expression pattern: [\\w+=,.@-]*',
      );
    const durationSeconds = duration === null ? undefined : Number(duration);
    if (
      durationSeconds !== undefined &&
      !(Number.isInteger(durationSeconds) && durationSeconds >= 900 && durationSeconds <= 43200)
    )
      throw new StsError(
        'ValidationError',
        `1 validation error detected: Value '${duration}' at 'durationSeconds' failed to satisfy constraint: ` +
          'Member must have value between 900 and 43200',
      );
    if (denied.has(roleArn))
      throw new StsError(
        'AccessDenied',
        `User: arn:aws:iam::123456789012:user/${signer.accessKeyId} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
        403,
      );
    const at = Date.now();
    const issued: AssumedRole = {
      at,
      roleArn,
      roleSessionName,
      durationSeconds,
      accessKeyId: randomId('ASIA'),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(96).toString('base64'),
      expiration: new Date(at + (expiresInSeconds ?? durationSeconds ?? 3600) * 1000),
      signedBy: signer,
    };
    assumed.push(issued);
    const [, account = '', roleName = ''] = role;
    return (
      el(
        'Credentials',
        el('AccessKeyId', issued.accessKeyId) +
          el('SecretAccessKey', escapeXml(issued.secretAccessKey)) +
          el('SessionToken', escapeXml(issued.sessionToken)) +
          el('Expiration', issued.expiration.toISOString()),
      ) +
      el(
        'AssumedRoleUser',
        el('AssumedRoleId', `${randomId('AROA')}:${escapeXml(roleSessionName)}`) +
          el('Arn', escapeXml(`arn:aws:sts::${account}:assumed-role/${roleName}/${roleSessionName}`)),
      ) +
      el('PackedPolicySize', '0')
    );
  };

  const reply = (res: ServerResponse, status: number, requestId: string, xml: string): void => {
    res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
  };

  const actionOf = (req: RecordedRequest): string =>
    new URLSearchParams(req.body).get('Action') ?? req.query.get('Action') ?? '';

  const server = await startHttpStandIn(
    (req, res) => {
      const requestId = randomUUID();
      const form = new URLSearchParams(req.body);
      const action = actionOf(req);
      try {
        if (req.method !== 'POST' || action !== 'AssumeRole')
          throw new StsError('InvalidAction', `Could not find operation ${action || '(none)'} for version ${VERSION}`);
        if (form.get('Version') !== VERSION)
          throw new StsError(
            'InvalidAction',
            `Could not find operation AssumeRole for version ${form.get('Version') ?? '(none)'}`,
          );
        const signer = signedBy(req.headers);
        if (!signer) throw new StsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
        const result = assumeRole(form, signer);
        reply(
          res,
          200,
          requestId,
          `<AssumeRoleResponse xmlns="${NAMESPACE}">${el('AssumeRoleResult', result)}` +
            `${el('ResponseMetadata', el('RequestId', requestId))}</AssumeRoleResponse>`,
        );
      } catch (error) {
        if (!(error instanceof StsError)) throw error;
        reply(res, error.status, requestId, stsErrorXml(error.code, error.message, requestId));
      }
    },
    { port: options.port, faults, faultKey: actionOf, log: requests },
  );

  return {
    ...server,
    faults,
    requests,
    assumed,
    setExpiresInSeconds: (seconds) => {
      expiresInSeconds = seconds;
    },
    deny: (roleArn) => void denied.add(roleArn),
  };
}
