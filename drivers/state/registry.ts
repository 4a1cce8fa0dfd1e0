// Where the intake's small shared state lives (config `state`): `memory`, one process
// (`npm start`, tests); `dynamodb`, one table every Lambda container shares (AWS).
import { CONFIG_INVALID, WorkflowError } from '../../core/errors.js';
import { MemoryStateStore, type StateStore } from '../../core/intake/state-store.js';
import * as z from '../../core/zod.js';
import { type DriverContext, type DriverTable, define, pickDriver } from '../driver-factory.js';
import { DynamoStateStore } from './dynamodb.js';

/** serverless.yml sets it to the table resources.yml creates, on the functions that use it. */
export const STATE_TABLE_ENV = 'FREEZER_DR_STATE_TABLE';

const nonEmpty = () => z.string().check(z.minLength(1));

export const stateDrivers: DriverTable<StateStore> = {
  memory: define(z.strictObject({ driver: z.literal('memory') }), () => new MemoryStateStore()),
  dynamodb: define(
    z.strictObject({
      driver: z.literal('dynamodb'),
      /** The table; $FREEZER_DR_STATE_TABLE when omitted (what serverless.yml sets). */
      table: z.optional(nonEmpty()),
      /** The function's own region ($AWS_REGION) when omitted. */
      region: z.optional(nonEmpty()),
      /** A DynamoDB-compatible server instead of AWS's endpoint (e.g. dynalite for tests). */
      endpoint: z.optional(z.url()),
    }),
    (options, context) => {
      const table = options.table ?? context.env[STATE_TABLE_ENV];
      if (!table) {
        throw new WorkflowError(
          CONFIG_INVALID,
          `state (dynamodb): name the table (state.table) or set ${STATE_TABLE_ENV}`,
        );
      }
      return new DynamoStateStore({
        table,
        client: {
          ...(options.region ? { region: options.region } : {}),
          ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        },
      });
    },
  ),
};

/** The configured store, built on its own: the webhook needs it before anything reads a secret. */
export async function createStateStore(
  section: { driver: string },
  context: DriverContext,
): Promise<StateStore> {
  const { factory, options } = pickDriver('state', stateDrivers, section);
  return factory.create(options, context);
}
