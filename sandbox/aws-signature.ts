import type { IncomingHttpHeaders } from 'node:http';

/** Who signed an AWS request, read from its SigV4 headers (the signature itself is not checked). */
export interface SignedBy {
  accessKeyId: string;
  /** `20261204` */
  date: string;
  region: string;
  service: string;
  /** `x-amz-security-token`: present when the key is a temporary one (STS). */
  sessionToken?: string;
}

const CREDENTIAL = /^AWS4-HMAC-SHA256\s+Credential=([^/\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request\s*,/;

/** `Authorization: AWS4-HMAC-SHA256 Credential=<AKID>/<date>/<region>/<service>/aws4_request, SignedHeaders=…, Signature=…` */
export function signedBy(headers: IncomingHttpHeaders): SignedBy | undefined {
  const authorization = headers.authorization;
  const match = typeof authorization === 'string' ? CREDENTIAL.exec(authorization) : null;
  if (!match) return undefined;
  const token = headers['x-amz-security-token'];
  return {
    accessKeyId: match[1] ?? '',
    date: match[2] ?? '',
    region: match[3] ?? '',
    service: match[4] ?? '',
    sessionToken: typeof token === 'string' ? token : undefined,
  };
}
