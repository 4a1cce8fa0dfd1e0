// Every payload format the webhook accepts, from realistic sample bodies, through the
// real handler against the SIMULATED cloud: what acts, what is only recorded, and how a
// malformed body is answered (status and a reason naming the field).
import { afterEach, describe, expect, it } from 'vitest';
import { FORM, form, type IntakeRig, startIntakeRig } from '../support/intake.js';
import {
  alertmanagerPayload,
  icingaForm,
  nagiosForm,
  nagiosJson,
  zabbixBody,
} from '../support/intake-samples.js';

let rig: IntakeRig;
afterEach(async () => rig?.close());

const down = (host: string) => rig.sim.state.killCompute(host, { reportedAgoMs: 120_000 });
const outcomes = (r: { body: Record<string, unknown> }) =>
  r.body.outcomes as { host: string; decision: string; reason: string; executionName: string | null }[];

describe('Alertmanager (webhook_config, version 4)', () => {
  it('starts one recovery for a firing alert and names the execution in the 202', async () => {
    rig = await startIntakeRig();
    down('compute-2');
    const r = await rig.post(alertmanagerPayload([{ instance: 'compute-2:9100' }]));
    expect(r.status).toBe(202);
    expect(outcomes(r)).toMatchObject([{ host: 'compute-2', decision: 'started' }]);
    expect(r.body.started).toEqual([expect.stringMatching(/^compute-2--/)]);
    expect(rig.sfn.started).toHaveLength(1);
    const input = JSON.parse(rig.sfn.started[0]?.input ?? '{}');
    expect(input).toMatchObject({ host: 'compute-2', alert: { source: 'alertmanager' } });
    const [service] = await rig.rt.cloud.listComputeServices({ host: 'compute-2' });
    expect(input.incident).toBe(service?.updatedAt);
  });

  it('prefers the host label over instance and strips the port', async () => {
    rig = await startIntakeRig();
    down('compute-3');
    const r = await rig.post(alertmanagerPayload([{ host: 'compute-3', instance: 'compute-1:9100' }]));
    expect(outcomes(r)[0]).toMatchObject({ host: 'compute-3', decision: 'started' });
  });

  it('uses a configured host label', async () => {
    rig = await startIntakeRig({ alertSources: [{ driver: 'alertmanager', hostLabels: ['nova_host'] }] });
    down('compute-4');
    const body = alertmanagerPayload([{ instance: 'compute-1:9100' }]);
    (body.alerts[0]?.labels as Record<string, string>).nova_host = 'compute-4';
    const r = await rig.post(body);
    expect(outcomes(r)[0]).toMatchObject({ host: 'compute-4', decision: 'started' });
  });

  it('records resolved alerts and alerts without a host label, starting nothing', async () => {
    rig = await startIntakeRig();
    down('compute-2');
    const r = await rig.post(
      alertmanagerPayload([{ instance: 'compute-2:9100', status: 'resolved' }, {}], 'resolved'),
    );
    expect(r.status).toBe(202);
    expect(outcomes(r).map((o) => [o.decision, o.reason])).toEqual([
      ['recorded', 'resolved'],
      ['recorded', 'ignored'],
    ]);
    expect(rig.sfn.startCalls).toBe(0);
    expect(rig.decisions()).toHaveLength(2);
  });

  it('answers 422 naming the field for a wrong version or a mistyped alert', async () => {
    rig = await startIntakeRig();
    const wrongVersion = { ...alertmanagerPayload([{ host: 'compute-1' }]), version: '3' };
    expect(await rig.post(wrongVersion)).toMatchObject({ status: 422, body: { error: /version/ } });
    const bad = alertmanagerPayload([{ host: 'compute-1' }]) as Record<string, unknown>;
    (bad.alerts as Record<string, unknown>[])[0] = { status: 'firing', labels: { host: 7 } };
    const r = await rig.post(bad);
    expect(r.status).toBe(422);
    expect(r.body.error).toMatch(/alerts\.0\.labels\.host/);
    expect(rig.sfn.startCalls).toBe(0);
  });
});

describe('Nagios and Icinga 2', () => {
  it('acts on PROBLEM + DOWN + HARD, as a form (Nagios macros) and as JSON', async () => {
    rig = await startIntakeRig();
    down('compute-1');
    down('compute-2');
    const viaForm = await rig.post(form(nagiosForm('compute-1')), { contentType: FORM });
    expect(outcomes(viaForm)[0]).toMatchObject({ host: 'compute-1', decision: 'started' });
    const viaJson = await rig.post(nagiosJson('compute-2'));
    expect(outcomes(viaJson)[0]).toMatchObject({ host: 'compute-2', decision: 'started' });
    expect(rig.sfn.started).toHaveLength(2);
  });

  it('acts on an Icinga 2 notification (runtime macro names) and labels it icinga', async () => {
    rig = await startIntakeRig();
    down('compute-5');
    const r = await rig.post(form(icingaForm('compute-5')), { contentType: `${FORM}; charset=UTF-8` });
    expect(r.body.outcomes).toMatchObject([{ host: 'compute-5', source: 'icinga', decision: 'started' }]);
  });

  it.each([
    ['SOFT state', nagiosForm('compute-1', 'PROBLEM', 'DOWN', 'SOFT'), 'ignored'],
    ['UNREACHABLE', nagiosForm('compute-1', 'PROBLEM', 'UNREACHABLE', 'HARD'), 'ignored'],
    ['RECOVERY', nagiosForm('compute-1', 'RECOVERY', 'UP', 'HARD'), 'resolved'],
    ['ACKNOWLEDGEMENT', nagiosForm('compute-1', 'ACKNOWLEDGEMENT'), 'ignored'],
    ['FLAPPINGSTART', nagiosForm('compute-1', 'FLAPPINGSTART'), 'ignored'],
    ['DOWNTIMESTART', nagiosForm('compute-1', 'DOWNTIMESTART'), 'ignored'],
    ['Icinga SOFT', icingaForm('compute-1', 'PROBLEM', 'DOWN', 'SOFT'), 'ignored'],
  ])('records %s without acting', async (_name, fields, reason) => {
    rig = await startIntakeRig();
    down('compute-1');
    const r = await rig.post(form(fields), { contentType: FORM });
    expect(r.status).toBe(202);
    expect(outcomes(r)[0]).toMatchObject({ host: 'compute-1', decision: 'recorded', reason });
    expect(rig.sfn.startCalls).toBe(0);
  });

  it('answers 422 naming the missing field, and 422 for a field given twice', async () => {
    rig = await startIntakeRig();
    const { statetype: _drop, ...noStateType } = nagiosForm('compute-1');
    const r = await rig.post(form(noStateType), { contentType: FORM });
    expect(r).toMatchObject({ status: 422, body: { error: /stateType/ } });
    const twice = `${form(nagiosForm('compute-1'))}&host=compute-2`;
    expect(await rig.post(twice, { contentType: FORM })).toMatchObject({
      status: 422,
      body: { error: 'host: given more than once' },
    });
    const badHost = await rig.post(form(nagiosForm('compute 1; rm -rf /')), { contentType: FORM });
    expect(badHost).toMatchObject({ status: 422, body: { error: /host: must be a host name/ } });
  });
});

describe('Zabbix media type and the generic form', () => {
  it('acts on a Zabbix problem (EVENT.VALUE=1), records its recovery and event updates', async () => {
    rig = await startIntakeRig();
    down('compute-6');
    expect(outcomes(await rig.post(zabbixBody('compute-6', '1')))[0]).toMatchObject({
      decision: 'started',
      host: 'compute-6',
    });
    expect(outcomes(await rig.post(zabbixBody('compute-6', '0')))[0]).toMatchObject({
      decision: 'recorded',
      reason: 'resolved',
    });
    expect(outcomes(await rig.post(zabbixBody('compute-6', '1', { updateStatus: '1' })))[0]).toMatchObject({
      decision: 'recorded',
      reason: 'ignored',
    });
    expect(rig.sfn.started).toHaveLength(1);
  });

  it('explains an unexpanded Zabbix macro', async () => {
    rig = await startIntakeRig();
    const r = await rig.post(zabbixBody('compute-6', '{EVENT.VALUE}'));
    expect(r.status).toBe(422);
    expect(r.body.error).toMatch(/eventValue: must be 0 or 1 \(an unexpanded \{EVENT.VALUE\}/);
  });

  it('accepts {host, status, source} and refuses an unknown status naming the field', async () => {
    rig = await startIntakeRig();
    down('compute-3');
    const r = await rig.post({ host: 'compute-3', status: 'down', source: 'cron-check', reason: 'no ping' });
    expect(outcomes(r)[0]).toMatchObject({ decision: 'started', host: 'compute-3' });
    expect(r.body.outcomes).toMatchObject([{ source: 'cron-check' }]);
    expect(await rig.post({ host: 'compute-3', status: 'dead' })).toMatchObject({
      status: 422,
      body: { error: /status/ },
    });
  });
});

describe('bodies that are not alerts', () => {
  it.each([
    ['malformed JSON', '{"host": "compute-1",', 'application/json', 400, /body: malformed JSON/],
    ['empty body', '', 'application/json', 400, /body: empty/],
    ['unknown shape', '{"hello":"world"}', 'application/json', 422, /not a recognised alert format/],
    ['a JSON array', '[1,2,3]', 'application/json', 422, /not a recognised alert format/],
    ['text/plain', 'host=compute-1', 'text/plain', 415, /content-type: text\/plain is not supported/],
    ['no content type', '{}', null, 415, /content-type: missing/],
    ['latin-1 charset', '{}', 'application/json; charset=iso-8859-1', 415, /charset/],
  ])('%s → %i', async (_name, body, contentType, status, error) => {
    rig = await startIntakeRig();
    const r = await rig.post(body, { contentType });
    expect(r.status).toBe(status);
    expect(r.body.error).toMatch(error);
    expect(rig.sfn.startCalls).toBe(0);
  });

  it('answers 400 for invalid UTF-8 and 413 for an oversized body before reading it', async () => {
    rig = await startIntakeRig({ intake: { maxBodyBytes: 4096 } });
    const invalid = Buffer.concat([
      Buffer.from('{"host":"compute-1","status":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    expect(await rig.post(invalid)).toMatchObject({ status: 400, body: { error: 'body: not valid UTF-8' } });
    const big = JSON.stringify({ host: 'compute-1', status: 'down', reason: 'x'.repeat(5000) });
    expect(await rig.post(big)).toMatchObject({
      status: 413,
      body: { error: 'body: more than 4096 bytes' },
    });
    expect(await rig.post(big, { base64: true })).toMatchObject({ status: 413 });
    expect(await rig.post('{}', { method: 'GET' })).toMatchObject({ status: 405 });
  });
});
