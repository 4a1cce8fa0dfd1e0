// Step 6b: wait until the instance is back: ACTIVE (or its prior SHUTOFF/ERROR) on
// another host with no task running, or report it failed. One invocation polls for at
// most verifyBudgetSeconds, then throws Instance.NotSettled so the workflow waits
// durably (Retry) instead of a Lambda idling for minutes.
import { INSTANCE_NOT_SETTLED, WorkflowError } from './errors.js';
import type { EvacuateResult } from './evacuate-instance.js';
import { countMetric } from './metrics.js';
import type { InstanceOutcomeKind } from './ports.js';
import type { Runtime } from './runtime.js';
import { serverWatch } from './server-watch.js';
import { secondsSince, sleep } from './time.js';

/**
 * Polls fall on the same beats (multiples of the poll interval on the clock), so the
 * instances of one recovery are read together and the reads can be shared.
 */
const untilNextBeat = (pollMs: number) => pollMs - (Date.now() % pollMs);

export interface VerifyInstanceInput {
  id: string;
  host: string;
  evacuation: EvacuateResult;
}
export interface VerifyInstanceResult {
  id: string;
  outcome: InstanceOutcomeKind;
  to: string | null;
  final: string | null;
  seconds: number;
  reason: string | null;
}

/**
 * The reason travels in the execution state, once per instance (a state holds at most
 * 256 KiB, so 1000 of them must stay small): a longer one is cut there and logged whole.
 */
const MAX_REASON = 64;
const clipReason = (reason: string | null) =>
  reason && reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason;

export async function verifyInstance(rt: Runtime, input: VerifyInstanceInput): Promise<VerifyInstanceResult> {
  const { id, host, evacuation } = input;
  const policy = rt.policy.evacuation;
  const done = async (
    result: Omit<VerifyInstanceResult, 'id' | 'seconds'>,
  ): Promise<VerifyInstanceResult> => {
    if (evacuation.lockedByUs && result.outcome !== 'gone') {
      await rt.cloud.unlockServer(id).catch((error) => {
        rt.logger.warn('unlock after evacuation failed', { id, error: (error as Error).message });
      });
    }
    countMetric(`Instances_${result.outcome}`);
    if (result.reason && result.reason.length > MAX_REASON) {
      rt.logger.info('instance outcome', { id, outcome: result.outcome, reason: result.reason });
    }
    return { id, ...result, reason: clipReason(result.reason), seconds: secondsSince(evacuation.startedAt) };
  };
  if (evacuation.action === 'gone')
    return done({ outcome: 'gone', to: null, final: null, reason: 'deleted' });
  if (evacuation.action === 'refused')
    return done({
      outcome: 'failed',
      to: null,
      final: null,
      reason: evacuation.reason ?? 'Nova refused the evacuation',
    });

  const { evacuateKeepsStopped } = await rt.cloud.capabilities();
  const budgetEnds = Date.now() + policy.verifyBudgetSeconds * 1000;
  const timeoutAt = Date.parse(evacuation.startedAt) + policy.timeoutSeconds * 1000;
  let corrected = false;
  let last = 'not read yet';
  for (;;) {
    // Shared with the other instances being verified in this process: one list per host per beat.
    const server = await serverWatch(rt.cloud)
      .read(id, [host, evacuation.target])
      .catch((error) => {
        last = `read failed: ${(error as Error).message}`;
        return null;
      });
    if (server === undefined)
      return done({ outcome: 'gone', to: null, final: null, reason: 'deleted during recovery' });
    if (server) {
      last = `${server.status} on ${server.host ?? '?'} task ${server.taskState ?? 'none'}`;
      const moved = server.host !== null && server.host !== host;
      if (moved && !server.taskState) {
        const prior = evacuation.prior ?? 'ACTIVE';
        const recovered = evacuation.action === 'already-moved' ? 'already-recovered' : 'recovered';
        if (server.status === prior)
          return done({ outcome: recovered, to: server.host, final: server.status, reason: null });
        if (server.status === 'ERROR' && prior !== 'ERROR') {
          return done({
            outcome: 'failed',
            to: server.host,
            final: 'ERROR',
            reason: `rebuild on ${server.host} ended in ERROR`,
          });
        }
        if (!corrected && server.status === 'SHUTOFF' && prior === 'ACTIVE' && evacuateKeepsStopped) {
          await rt.cloud.startServer(id); // from 2.95 Nova leaves evacuated instances stopped
          corrected = true;
        } else if (!corrected && server.status === 'ACTIVE' && prior === 'ERROR') {
          if (!policy.restoreErrorState) {
            return done({ outcome: recovered, to: server.host, final: 'ACTIVE', reason: null });
          }
          await rt.cloud.resetState(id, 'error');
          corrected = true;
        } else if (!corrected && server.status === 'ACTIVE' && prior === 'SHUTOFF') {
          // Only reached when a stuck task was reset: leave it running and say so.
          return done({
            outcome: recovered,
            to: server.host,
            final: 'ACTIVE',
            reason: 'was SHUTOFF; left ACTIVE',
          });
        }
      } else if (!moved && !server.taskState && evacuation.action !== 'already-moved') {
        const migrations = await rt.cloud.listEvacuations({ instanceId: id, sourceCompute: host });
        const failed = migrations.find((m) => m.status === 'error' || m.status === 'failed');
        if (failed && evacuation.target && migrations.length === 1) {
          // The planned host could not take it (claim failed, instance still here): once more
          // without a target. The second migration record makes this happen at most once.
          rt.logger.warn('evacuation to the planned host failed; retrying without a target', {
            id,
            target: evacuation.target,
          });
          await rt.cloud.evacuate(id);
          await sleep(policy.verifyPollMs);
          continue;
        }
        if (failed) {
          return done({
            outcome: 'failed',
            to: null,
            final: server.status,
            reason: `evacuation ${failed.status}: no valid host or rebuild refused`,
          });
        }
      }
    }
    if (Date.now() > timeoutAt) {
      return done({
        outcome: 'failed',
        to: null,
        final: null,
        reason: `not settled after ${policy.timeoutSeconds} s (${last})`,
      });
    }
    if (Date.now() + policy.verifyPollMs > budgetEnds) break;
    await sleep(untilNextBeat(policy.verifyPollMs));
  }
  throw new WorkflowError(INSTANCE_NOT_SETTLED, `instance ${id} not settled yet: ${last}`);
}
