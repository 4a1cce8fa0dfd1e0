// ipmitool failure classification on the exact texts measured against ipmi_sim (see
// the team's bmc-lab notes), including cases the live tests do not reproduce cheaply.
import { describe, expect, it } from 'vitest';
import { classifyIpmitool } from '../../infra/relay/ipmitool.js';
import { NonceCache } from '../../infra/relay/request-auth.js';
import type { CommandResult } from '../../infra/relay/run-command.js';

const failed = (stderr: string, extra: Partial<CommandResult> = {}): CommandResult => ({
  code: 1,
  stdout: '',
  stderr,
  timedOut: false,
  ms: 50,
  ...extra,
});

describe('classifyIpmitool', () => {
  it.each([
    [
      'status',
      'Loading IANA PEN Registry...\n> RAKP 2 HMAC is invalid\nError: Unable to establish IPMI v2 / RMCP+ session',
      'auth-failed',
    ],
    [
      'status',
      'RAKP 2 message indicates an error : unauthorized name\nError: Unable to establish IPMI v2 / RMCP+ session',
      'auth-failed',
    ],
    [
      'status',
      'Activate Session command failed\nError: Unable to establish LAN session\nError: Unable to establish IPMI v1.5 / RMCP session',
      'auth-failed',
    ],
    [
      'off',
      'Error in open session response message : invalid authentication algorithm\n\nError: Unable to establish IPMI v2 / RMCP+ session',
      'auth-failed',
    ],
    [
      'status',
      'Unable to read password from environment\nPassword: Error: Unable to establish IPMI v2 / RMCP+ session',
      'config',
    ],
    [
      'status',
      'Get Auth Capabilities error\nError issuing Get Channel Authentication Capabilities request\nError: Unable to establish IPMI v2 / RMCP+ session',
      'unreachable',
    ],
    ['off', 'Get Auth Capabilities error\nError: Unable to establish IPMI v2 / RMCP+ session', 'unreachable'],
    ['status', 'Unable to get Chassis Power Status\nClose Session command failed', 'unreachable'],
    ['off', 'Set Chassis Power Control to Down/Off failed: Unspecified error', 'command-failed'],
    ['off', 'Unable to set Chassis Power Control to Down/Off\nClose Session command failed', 'may-have-run'],
    ['off', 'something nobody has seen before', 'may-have-run'],
    ['status', 'something nobody has seen before', 'command-failed'],
  ] as const)('%s: %s -> %s', (command, stderr, expected) => {
    expect(classifyIpmitool(failed(stderr), command, 'secret').failure).toBe(expected);
  });

  it('a wall-clock timeout is unreachable for status and may-have-run for an action', () => {
    const killed = failed('', { code: null, timedOut: true, ms: 8000 });
    expect(classifyIpmitool(killed, 'status', 'x').failure).toBe('unreachable');
    expect(classifyIpmitool(killed, 'off', 'x')).toMatchObject({
      failure: 'may-have-run',
      message: 'no answer within 8000 ms; the off may have been applied',
    });
  });

  it('drops ipmitool chatter and masks the password should any output echo it', () => {
    const error = classifyIpmitool(
      failed(
        'Loading IANA PEN Registry...\nRunning Get VSO Capabilities my_addr 0x20\nweird hunter2 echo\nError: Unable to establish IPMI v2 / RMCP+ session',
      ),
      'status',
      'hunter2',
    );
    expect(error.message).toBe(
      'BMC unreachable: weird *** echo / Error: Unable to establish IPMI v2 / RMCP+ session',
    );
  });

  it('masks the password before clipping, so no prefix of it survives the cut at 300 characters', () => {
    const password = 'Pw0rd-7c1e-long-secret';
    // The echoed password starts at character 296 of the summary: a cut first would keep "Pw0r".
    const stderr = `${'x'.repeat(295)} ${password} echoed\nError: Unable to establish IPMI v2 / RMCP+ session`;
    const error = classifyIpmitool(failed(stderr), 'status', password);
    expect(error.message).not.toContain(password.slice(0, 4));
    expect(error.message).toContain('***');
  });
});

describe('NonceCache', () => {
  it('refuses a nonce seen within its lifetime, forgets it afterwards, and stays bounded', () => {
    const cache = new NonceCache(1000, 3);
    expect(cache.remember('a', 0)).toBe(true);
    expect(cache.remember('a', 500)).toBe(false);
    expect(cache.remember('a', 1001)).toBe(true);
    for (const nonce of ['b', 'c', 'd', 'e']) cache.remember(nonce, 1100);
    expect(cache.size).toBe(3);
  });
});
