import { markHostDown } from '../core/mark-host-down.js';
import type { RuntimeProvider } from '../core/runtime.js';
import * as z from '../core/zod.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { stateDrivers } from '../drivers/state/registry.js';
import { functionRuntime } from './lib/function-runtime.js';
import { taskHandler } from './lib/task-handler.js';
import { hostInput } from './schemas.js';

const input = z.extend(hostInput, { fence: z.string().check(z.minLength(1), z.maxLength(40)) });

/**
 * Retry or re-drive: a service already forced down and disabled with this incident's
 * reason is left alone (changed: false), so a retry after a lost answer sends no second
 * update; otherwise the same update is sent, which Nova applies as a set, not a toggle.
 */
export const createHandler = (rt: RuntimeProvider) => taskHandler('MarkHostDown', input, markHostDown, rt);
export const handler = createHandler(functionRuntime({ cloud: cloudDrivers, state: stateDrivers }));
