// `freezer-dr plan <host>`: what a recovery of <host> would do, changing nothing.
import { configPath, loadConfigFile } from '../../core/config.js';
import { planRecovery } from '../../core/plan-recovery.js';
import { operatorRuntime } from '../operator-runtime.js';
import { table } from '../table.js';

const say = (line = '') => process.stdout.write(`${line}\n`);

export async function planCommand(host: string): Promise<number> {
  const { rt, banner, close } = await operatorRuntime(loadConfigFile(configPath()));
  try {
    if (banner) say(banner);
    const plan = await planRecovery(rt, host);
    say(`Recovery plan for ${host} (dry run: nothing was changed)`);
    if (!plan.service) {
      say(`  Nova has no nova-compute service on ${host}: a recovery would stop at its first step`);
      return 1;
    }
    const s = plan.service;
    say(`  Nova:     ${s.status}, ${s.state}${s.forcedDown ? ', forced down' : ''}`);
    say(
      `  Confirm:  ${plan.confirm.confirmed ? 'would confirm the failure' : 'would NOT confirm (the workflow retries, then stops without fencing)'}: ${plan.confirm.evidence}`,
    );
    const power = plan.fence.recordOnly
      ? 'RECORD-ONLY: no power control'
      : plan.fence.power
        ? `power reads ${plan.fence.power}${plan.fence.power === 'off' ? ' (nothing to do)' : ' → would be powered off, then verified off'}`
        : `power unreadable: ${plan.fence.powerError}`;
    say(`  Fence:    ${plan.fence.controller}: ${power}`);
    const chosen = plan.instances.filter((i) => i.evacuate);
    say(
      `  Evacuate: ${chosen.length} of ${plan.instances.length} instances (selection mode ${rt.policy.selection.mode})`,
    );
    if (plan.instances.length) {
      say(
        table(
          ['INSTANCE', 'NAME', 'STATUS', 'SIZE', 'ACTION'],
          plan.instances.map((i) => [
            i.id,
            i.name,
            i.status,
            i.vcpus === null ? '?' : `${i.vcpus} vCPU, ${i.ramMb} MB`,
            i.evacuate ? 'evacuate' : `skip: ${i.skipReason}`,
          ]),
          '    ',
        ),
      );
    }
    const c = plan.capacity;
    const verdict =
      c.fits === null ? 'not judged' : c.fits ? 'room for all' : `NO room for ${c.unplaced.length}`;
    say(
      `  Capacity: ${verdict}; needs ${c.needed.vcpus} vCPU, ${c.needed.ramMb} MB for ${c.needed.instances} instances (${c.source})`,
    );
    if (c.targets.length) {
      say(
        table(
          ['TARGET HOST', 'VCPU FREE', 'RAM FREE MB', 'AFTER', 'PLACED'],
          c.targets.map((t) => [
            `${t.host}${t.reserved ? ' (spare)' : ''}`,
            String(t.freeVcpus),
            String(t.ramMbFree),
            String(t.ramMbFreeAfter),
            String(t.placed),
          ]),
          '    ',
        ),
      );
    }
    if (c.waves.length > 1) {
      say(
        `  Waves (ha:priority, lower first): ${c.waves.map((w) => `${w.priority}: ${w.instances}`).join(', ')}`,
      );
    }
    for (const note of c.notes) say(`    note: ${note}`);
    return 0;
  } finally {
    await close();
  }
}
