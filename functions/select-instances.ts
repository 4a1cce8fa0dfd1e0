import { functionRuntime } from '../core/function-runtime.js';
import type { RuntimeProvider } from '../core/runtime.js';
import { selectInstances } from '../core/select-instances.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { taskHandler } from './lib/task-handler.js';
import { hostInput } from './schemas.js';

/** Idempotent: reads Nova only; instances already moved are handled by EvacuateInstance. */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler('SelectInstances', hostInput, selectInstances, rt);
export const handler = createHandler(functionRuntime({ cloud: cloudDrivers }));
