import { verifyMigration } from '../core/drain/verify-migration.js';
import { hostName } from '../core/host-name.js';
import type { RuntimeProvider } from '../core/runtime.js';
import * as z from '../core/zod.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { stateDrivers } from '../drivers/state/registry.js';
import { functionRuntime } from './lib/function-runtime.js';
import { taskHandler } from './lib/task-handler.js';
import { instanceId, migrationRecord } from './schemas.js';

const input = z.object({ id: instanceId, host: hostName, migration: migrationRecord });

/**
 * Retry or re-drive: reads the server and its migration records; its one write (confirming
 * a cold-migrated instance's resize) is sent only while it reads VERIFY_RESIZE.
 */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler('VerifyMigration', input, verifyMigration, rt);
export const handler = createHandler(functionRuntime({ cloud: cloudDrivers, state: stateDrivers }));
