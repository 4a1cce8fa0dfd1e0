// What every driver registry is made of: per driver name, the zod schema of its config
// section and a factory. Each driver validates its own section, so a misspelt option
// fails `check-config`, not a recovery.
import type { Logger } from '@aws-lambda-powertools/logger';
import { describeIssues } from '../core/config.js';
import { CONFIG_INVALID, WorkflowError } from '../core/errors.js';
import type * as z from '../core/zod.js';
import type { CredentialOptions } from './cloud/openstack/connection-source.js';
import type { SimulatedCloud } from './cloud/simulated/server.js';

/** What a driver factory may use besides its own options. */
export interface DriverContext {
  logger: Logger;
  /** Present when the cloud driver is `simulated`: the in-process simulated cloud. */
  simulated: SimulatedCloud | null;
  env: NodeJS.ProcessEnv;
  /** The openstack cloud section's credentials, for drivers that also call Keystone (email). */
  cloudCredentials?: CredentialOptions | undefined;
}

export interface DriverFactory<T, S extends z.ZodMiniType = z.ZodMiniType> {
  schema: S;
  create(options: z.infer<S>, context: DriverContext): T | Promise<T>;
}

export type DriverTable<T> = Record<string, DriverFactory<T>>;

export const define = <T, S extends z.ZodMiniType>(
  schema: S,
  create: DriverFactory<T, S>['create'],
): DriverFactory<T, S> => ({ schema, create });

/** The factory named by `section.driver`, with the section validated by its schema. */
export function pickDriver<T>(
  kind: string,
  table: DriverTable<T>,
  section: { driver: string },
): { factory: DriverFactory<T>; options: unknown } {
  const factory = table[section.driver];
  if (!factory) {
    throw new WorkflowError(
      CONFIG_INVALID,
      `${kind}.driver "${section.driver}" is unknown; choose one of: ${Object.keys(table).join(', ')}`,
    );
  }
  const parsed = factory.schema.safeParse(section);
  if (!parsed.success) {
    throw new WorkflowError(CONFIG_INVALID, `${kind} (${section.driver}): ${describeIssues(parsed.error)}`);
  }
  return { factory, options: parsed.data };
}
