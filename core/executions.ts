// Starting and listing recoveries goes through the Step Functions API only
// (@aws-sdk/client-sfn), so the same code drives AWS or the local engine's endpoint.
import { createHash } from 'node:crypto';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { Channel } from './ports.js';

export interface RecoveryInput {
  host: string;
  incident: string;
  cause: string;
  requestedAt: string;
  /** The witnesses that started it (an alert, the nova-services poll, Nova already agreeing). */
  channels?: Channel[];
  /** Started by an operator's command: the gates that protect automatic recovery do not apply. */
  operator?: boolean;
  /** The alert(s) that led here, trimmed: kept in the execution input for the record. */
  alert?: Record<string, unknown>;
}

export interface StartResult {
  executionName: string;
  /** false when an execution with this name already existed: the incident is already handled. */
  started: boolean;
  executionArn: string | null;
}

/** Characters Step Functions refuses in execution names. */
const NAME_FORBIDDEN = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]+/g;
const RESUMED = '--resumed';
/**
 * Step Functions refuses names over 80 characters, and cutting one made two incidents
 * of a long host name one ("already handled"). So each part has its room: a host key, "--", an
 * incident key and "--resumed" always fit, and a part too long for its room keeps its
 * beginning (readable) and a hash of the whole (unique).
 */
const HOST_ROOM = 40;
const INCIDENT_ROOM = 80 - HOST_ROOM - 2 - RESUMED.length;
const HASH_LENGTH = 8;

const clean = (text: string) => text.replace(NAME_FORBIDDEN, '-').replace(/-+/g, '-');

/** The text as is when it fits, else its beginning, "-" and a hash of all of it; never contains "--". */
function namePart(text: string, room: number): string {
  const cleaned = clean(text);
  if (cleaned.length <= room) return cleaned;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, HASH_LENGTH);
  return `${cleaned.slice(0, room - HASH_LENGTH - 1).replace(/-+$/, '')}-${hash}`;
}

/**
 * One execution per host incident: the name is derived from the host and the incident
 * key (the compute service's last report time), so every repeat of the same alert maps
 * to the same name and Step Functions refuses a second start.
 */
export function executionName(host: string, incident: string): string {
  return `${namePart(host, HOST_ROOM)}--${namePart(incident, INCIDENT_ROOM)}`;
}

/**
 * Whether an execution recovers this host: its name starts with the host's key and "--"
 * (a key never contains "--", so the first one ends it), the same for a cut host name.
 */
export function isExecutionOfHost(name: string, host: string): boolean {
  return name.startsWith(`${namePart(host, HOST_ROOM)}--`);
}

/**
 * The one execution the reconciler may start for an incident whose recovery was cut
 * short: distinct from the first run's name (Step Functions keeps names of closed runs),
 * and still prefixed by the host, so the intake sees it as this host's recovery.
 */
export function resumedExecutionName(host: string, incident: string): string {
  return `${executionName(host, incident)}${RESUMED}`;
}

/** Whether an execution name is this incident's (its first run or its resumed one), whatever the host. */
export function namesIncident(name: string, incident: string): boolean {
  const base = name.endsWith(RESUMED) ? name.slice(0, -RESUMED.length) : name;
  return base.endsWith(`--${namePart(incident, INCIDENT_ROOM)}`);
}

export interface ExecutionsApi {
  /** Starts the recovery of one incident under executionName(host, incident), or under `name`. */
  start(input: RecoveryInput, options?: { name?: string }): Promise<StartResult>;
  /** Names of executions still running, for "already in a recovery" checks. */
  listRunning(): Promise<{ name: string; startDate: Date | null }[]>;
  /**
   * Whether the named execution has closed (DescribeExecution is read-after-write, unlike
   * ListExecutions); false while it runs or before Step Functions knows it.
   */
  hasEnded(name: string): Promise<boolean>;
}

export class StepFunctionsExecutions implements ExecutionsApi {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  /**
   * SFN_ENDPOINT: the local engine's Step Functions endpoint (npm start), whose StartExecution
   * wants its local token (FREEZER_DR_API_TOKEN, sent as the session token); unset for AWS.
   */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): StepFunctionsExecutions {
    const arn = env.STATE_MACHINE_ARN;
    if (!arn) throw new Error('STATE_MACHINE_ARN is not set');
    const endpoint = env.SFN_ENDPOINT;
    const sessionToken = env.FREEZER_DR_API_TOKEN;
    const client = new SFNClient({
      ...(endpoint
        ? {
            endpoint,
            region: env.AWS_REGION ?? 'local',
            credentials: {
              accessKeyId: 'local',
              secretAccessKey: 'local',
              ...(sessionToken ? { sessionToken } : {}),
            },
          }
        : {}),
    });
    return new StepFunctionsExecutions(client, arn);
  }

  async start(input: RecoveryInput, options: { name?: string } = {}): Promise<StartResult> {
    const name = options.name ?? executionName(input.host, input.incident);
    try {
      const out = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
      return { executionName: name, started: true, executionArn: out.executionArn ?? null };
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists || (error as Error).name === 'ExecutionAlreadyExists') {
        return { executionName: name, started: false, executionArn: null };
      }
      throw error;
    }
  }

  async hasEnded(name: string): Promise<boolean> {
    // An execution's ARN is its state machine's, with "execution" and the name appended.
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    try {
      const out = await this.client.send(new DescribeExecutionCommand({ executionArn }));
      return out.status !== undefined && out.status !== 'RUNNING' && out.status !== 'PENDING_REDRIVE';
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist || (error as Error).name === 'ExecutionDoesNotExist')
        return false;
      throw error;
    }
  }

  async listRunning(): Promise<{ name: string; startDate: Date | null }[]> {
    const out: { name: string; startDate: Date | null }[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListExecutionsCommand({
          stateMachineArn: this.stateMachineArn,
          statusFilter: 'RUNNING',
          nextToken,
        }),
      );
      for (const e of page.executions ?? []) out.push({ name: e.name ?? '', startDate: e.startDate ?? null });
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  }
}
