import type { RuntimeProvider } from '../core/runtime.js';
import { selectInstances } from '../core/select-instances.js';
import * as z from '../core/zod.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { stateDrivers } from '../drivers/state/registry.js';
import { functionRuntime } from './lib/function-runtime.js';
import { taskHandler } from './lib/task-handler.js';
import { hostInput, purpose } from './schemas.js';

const input = z.extend(hostInput, { purpose });

/**
 * Retry or re-drive: reads Nova only. Run again it selects what is still on the host:
 * instances already moved are no longer listed there, and those still rebuilding are
 * recognised by EvacuateInstance, which does not evacuate them again.
 */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler('SelectInstances', input, selectInstances, rt);
export const handler = createHandler(functionRuntime({ cloud: cloudDrivers, state: stateDrivers }));
