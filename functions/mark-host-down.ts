import { z } from 'zod';
import { markHostDown } from '../core/mark-host-down.js';
import { defaultRuntime, type RuntimeProvider } from '../core/runtime.js';
import { taskHandler } from './lib/task-handler.js';
import { hostInput } from './schemas.js';

const input = hostInput.extend({ fence: z.string().min(1).max(40) });

/** Idempotent: a service already forced down and disabled for this incident is left alone. */
export const createHandler = (rt: RuntimeProvider) => taskHandler('MarkHostDown', input, markHostDown, rt);
export const handler = createHandler(defaultRuntime);
