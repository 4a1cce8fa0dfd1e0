// The local Step Functions endpoint: the AWS JSON 1.0 protocol (POST /, X-Amz-Target:
// AWSStepFunctions.<Operation>, application/x-amz-json-1.0) for the operations the
// project's own code uses, so @aws-sdk/client-sfn with an endpoint override talks to
// the embedded engine exactly as it talks to AWS. Calls that change something need the
// local token (engine/request-guard.ts); reads do not.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalExecutions } from './local-executions.js';
import { carriesToken } from './request-guard.js';
import { SfnError } from './sfn-errors.js';

const TARGET_PREFIX = 'AWSStepFunctions.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
/** Requests are limited to 1 MB by Step Functions; refuse more before parsing. */
const MAX_REQUEST_BYTES = 1_048_576;

type Operation = (executions: LocalExecutions, body: Record<string, unknown>) => unknown;

const operations: Record<string, Operation> = {
  StartExecution: (x, body) => x.start(body as never),
  DescribeExecution: (x, body) => x.describe(body),
  ListExecutions: (x, body) => x.list(body),
  GetExecutionHistory: (x, body) => x.history(body as never),
  StopExecution: (x, body) => x.stop(body as never),
  ListStateMachines: (x) => x.listStateMachines(),
  DescribeStateMachine: (x, body) => x.describeStateMachine(body),
};

/** What starts, stops or re-drives a recovery (RedriveExecution is not served, but is refused the same way). */
const MUTATING = new Set(['StartExecution', 'StopExecution', 'RedriveExecution']);

export interface SfnAccess {
  /** The local token mutating calls must carry. */
  token: string;
  /** Where it is kept, for the refusal (never the value). */
  origin?: string;
}

/** Member types of the request shapes served, checked before an operation sees them. */
const MEMBER_TYPES: Record<string, 'string' | 'number' | 'boolean'> = {
  stateMachineArn: 'string',
  executionArn: 'string',
  name: 'string',
  input: 'string',
  statusFilter: 'string',
  nextToken: 'string',
  error: 'string',
  cause: 'string',
  maxResults: 'number',
  reverseOrder: 'boolean',
  includeExecutionData: 'boolean',
};

function checkMembers(body: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(body)) {
    const expected = MEMBER_TYPES[key];
    if (expected && value !== null && typeof value !== expected) {
      throw new SfnError('SerializationException', `${key} must be a ${expected}`);
    }
  }
}

/** True when the request is meant for this endpoint (so one port can also serve the page and webhook). */
export function isSfnRequest(req: IncomingMessage): boolean {
  const target = req.headers['x-amz-target'];
  return req.method === 'POST' && typeof target === 'string' && target.startsWith(TARGET_PREFIX);
}

/** The JSON protocol sends timestamps as epoch seconds. */
function serialize(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key, current) {
    const raw = this[key];
    return raw instanceof Date ? raw.getTime() / 1000 : current;
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        reject(new SfnError('ValidationException', 'request is larger than 1 MB'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** An error in the protocol's shape, which the SDK turns into its named exception. */
export function replySfnError(res: ServerResponse, error: SfnError): void {
  res.writeHead(error.status, { 'Content-Type': CONTENT_TYPE, 'x-amzn-RequestId': randomUUID() });
  res.end(serialize({ __type: `com.amazonaws.states#${error.type}`, message: error.message }));
}

export async function handleSfnRequest(
  executions: LocalExecutions,
  req: IncomingMessage,
  res: ServerResponse,
  access: SfnAccess,
): Promise<void> {
  const requestId = randomUUID();
  const reply = (status: number, payload: unknown) => {
    res.writeHead(status, { 'Content-Type': CONTENT_TYPE, 'x-amzn-RequestId': requestId });
    res.end(serialize(payload));
  };
  try {
    const operationName = String(req.headers['x-amz-target']).slice(TARGET_PREFIX.length);
    if (MUTATING.has(operationName) && !carriesToken(req, access.token)) {
      throw new SfnError(
        'AccessDeniedException',
        `${operationName} needs the local token${access.origin ? ` (${access.origin})` : ''}: as an AWS session token (x-amz-security-token; AWS_SESSION_TOKEN for the AWS CLI) or Authorization: Bearer`,
        403,
      );
    }
    const operation = operations[operationName];
    if (!operation) {
      throw new SfnError('UnknownOperationException', `operation ${operationName} is not served locally`);
    }
    const text = await readBody(req);
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      throw new SfnError('SerializationException', 'request body is not JSON');
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new SfnError('SerializationException', 'request body must be a JSON object');
    }
    checkMembers(body as Record<string, unknown>);
    reply(200, operation(executions, body as Record<string, unknown>));
  } catch (error) {
    if (error instanceof SfnError) {
      reply(error.status, { __type: `com.amazonaws.states#${error.type}`, message: error.message });
      if (error.type === 'AccessDeniedException') req.resume(); // the body is never read
    } else {
      reply(500, { __type: 'com.amazonaws.states#InternalFailure', message: (error as Error).message });
    }
  }
}
