import { z } from 'zod';
import { defaultRuntime, type RuntimeProvider } from '../core/runtime.js';
import { verifyInstance } from '../core/verify-instance.js';
import { taskHandler } from './lib/task-handler.js';
import { evacuationRecord, hostName, instanceId } from './schemas.js';

const input = z.object({ id: instanceId, host: hostName, evacuation: evacuationRecord });

/** Idempotent: reads the server; its corrections (start, reset to ERROR) apply only when still needed. */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler('VerifyInstance', input, verifyInstance, rt);
export const handler = createHandler(defaultRuntime);
