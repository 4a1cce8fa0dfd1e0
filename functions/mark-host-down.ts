import { functionRuntime } from '../core/function-runtime.js';
import { markHostDown } from '../core/mark-host-down.js';
import type { RuntimeProvider } from '../core/runtime.js';
import * as z from '../core/zod.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { taskHandler } from './lib/task-handler.js';
import { hostInput } from './schemas.js';

const input = z.extend(hostInput, { fence: z.string().check(z.minLength(1), z.maxLength(40)) });

/** Idempotent: a service already forced down and disabled for this incident is left alone. */
export const createHandler = (rt: RuntimeProvider) => taskHandler('MarkHostDown', input, markHostDown, rt);
export const handler = createHandler(functionRuntime({ cloud: cloudDrivers }));
