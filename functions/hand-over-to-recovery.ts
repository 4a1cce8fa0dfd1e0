import { handOverToRecovery } from '../core/drain/hand-over-to-recovery.js';
import { StepFunctionsExecutions } from '../core/executions.js';
import type { RuntimeProvider } from '../core/runtime.js';
import * as z from '../core/zod.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { stateDrivers } from '../drivers/state/registry.js';
import { functionRuntime } from './lib/function-runtime.js';
import { taskHandler } from './lib/task-handler.js';
import { hostInput } from './schemas.js';

const input = z.extend(hostInput, { executionName: z.optional(z.nullable(z.string())) });

/** Deployed: the recovery state machine named by RECOVERY_STATE_MACHINE_ARN. */
const deployedRecoveries = () =>
  StepFunctionsExecutions.fromEnv({
    ...process.env,
    STATE_MACHINE_ARN: process.env.RECOVERY_STATE_MACHINE_ARN,
  });

/**
 * Retry or re-drive: the recovery's name comes from the host and its service's last report
 * time, as the intake names it; a second start of that name reads as already started.
 */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler(
    'HandOverToRecovery',
    input,
    (r, i) => handOverToRecovery(r, i, r.recoveries ?? deployedRecoveries()),
    rt,
  );
export const handler = createHandler(functionRuntime({ cloud: cloudDrivers, state: stateDrivers }));
