// ipmitool against one BMC. Options that matter (measured against ipmi_sim, see
// infra/relay/README.md): -C always (no cipher-suite discovery), -N 1 -R 1 (an unreachable BMC
// costs ~2.2 s, not ~20 s), -v so a wrong password ("RAKP 2 HMAC is invalid") can be told
// apart from an unreachable BMC, and -E so the password travels only in the environment.
import { ControllerError, summarizeOutput } from './controller-error.js';
import type { IpmiEntry } from './inventory.js';
import type { PowerAction, RelayPowerState } from './protocol.js';
import type { CommandResult, CommandRunner } from './run-command.js';

const NOISE = [
  /^Loading IANA PEN Registry/i,
  /^Running Get VSO Capabilities/i,
  /^Invalid completion code received: Invalid command$/i,
  /^Discovered IPMB address/i,
  /^Password:\s*$/,
];

const AUTH_MARKERS = [
  /RAKP 2 HMAC is invalid/i,
  /unauthorized name/i,
  /Activate Session command failed/i,
  /insufficient privilege/i,
  /invalid (authentication|integrity|confidentiality) algorithm/i,
];
const CONFIG_MARKERS = [/Unable to read password/i, /ENOENT/];
const NO_SESSION = /Unable to establish (IPMI v2 \/ RMCP\+|LAN|IPMI v1\.5 \/ RMCP) session/i;
const REFUSED = /Set Chassis Power Control to .* failed/i;
const NO_ANSWER_TO_CONTROL = /Unable to set Chassis Power Control/i;
const NO_ANSWER_TO_STATUS = /Unable to get Chassis Power Status/i;

export function ipmitoolArgs(entry: IpmiEntry, command: 'status' | PowerAction): string[] {
  return [
    '-I',
    entry.interface,
    ...(entry.interface === 'lanplus' ? ['-C', String(entry.cipherSuite)] : []),
    '-N',
    '1',
    '-R',
    '1',
    '-v',
    '-H',
    entry.address.replace(/^\[|\]$/g, ''),
    '-p',
    String(entry.port),
    '-U',
    entry.user,
    '-E',
    'chassis',
    'power',
    command,
  ];
}

/** Turns a failed run into a failure class. Auth and session errors mean the command was never sent. */
export function classifyIpmitool(
  result: CommandResult,
  command: 'status' | PowerAction,
  password: string,
): ControllerError {
  const text = `${result.stderr}\n${result.stdout}`;
  const why = summarizeOutput(text, NOISE, [password]);
  const isAction = command !== 'status';
  if (result.timedOut) {
    return isAction
      ? new ControllerError(
          'may-have-run',
          `no answer within ${result.ms} ms; the ${command} may have been applied`,
        )
      : new ControllerError('unreachable', `no answer within ${result.ms} ms`);
  }
  if (CONFIG_MARKERS.some((m) => m.test(text)))
    return new ControllerError('config', `relay configuration: ${why}`);
  if (/invalid (authentication|integrity|confidentiality) algorithm/i.test(text)) {
    return new ControllerError('auth-failed', `BMC rejected cipher suite: ${why}`);
  }
  if (AUTH_MARKERS.some((m) => m.test(text)))
    return new ControllerError('auth-failed', `BMC rejected the credentials: ${why}`);
  if (isAction && REFUSED.test(text))
    return new ControllerError('command-failed', `BMC refused the ${command}: ${why}`);
  if (isAction && NO_ANSWER_TO_CONTROL.test(text)) {
    return new ControllerError(
      'may-have-run',
      `BMC stopped answering during the ${command}; it may have been applied: ${why}`,
    );
  }
  if (NO_SESSION.test(text) || NO_ANSWER_TO_STATUS.test(text)) {
    return new ControllerError('unreachable', `BMC unreachable: ${why}`);
  }
  return isAction
    ? new ControllerError(
        'may-have-run',
        `ipmitool exited ${result.code}; the ${command} may have been applied: ${why}`,
      )
    : new ControllerError('command-failed', `ipmitool exited ${result.code}: ${why}`);
}

export interface IpmiRun {
  runner: CommandRunner;
  ipmitoolPath: string;
  password: string;
}

export async function ipmiPower(
  entry: IpmiEntry,
  command: 'status' | PowerAction,
  run: IpmiRun,
): Promise<RelayPowerState | null> {
  const result = await run.runner({
    file: run.ipmitoolPath,
    args: ipmitoolArgs(entry, command),
    env: { IPMI_PASSWORD: run.password },
    timeoutMs: entry.timeoutMs,
  });
  if (result.code !== 0) throw classifyIpmitool(result, command, run.password);
  if (command !== 'status') return null;
  const match = /Chassis Power is (on|off)/i.exec(result.stdout);
  if (!match?.[1]) {
    throw new ControllerError(
      'command-failed',
      `unexpected ipmitool output: ${summarizeOutput(result.stdout, NOISE, [run.password])}`,
    );
  }
  return match[1].toLowerCase() as RelayPowerState;
}
