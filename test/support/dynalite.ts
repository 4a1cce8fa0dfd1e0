// A DynamoDB-compatible server on 127.0.0.1 (dynalite, in memory) with the state table
// as resources.yml creates it, and stores on it: each store its own client, as each
// Lambda container has its own.
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { DynamoStateStore, STATE_TABLE_KEY } from '../../drivers/state/dynamodb.js';

export interface Dynalite {
  endpoint: string;
  table: string;
  /** A new store on the shared table (a new client: another container). */
  store(options?: { now?: () => number; table?: string }): DynamoStateStore;
  /** Creates another empty table (a test that needs a start window of its own). */
  newTable(): Promise<string>;
  /** Every item of a table, as DynamoDB returns them (what an operator reading the table sees). */
  scan(table?: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

const client = (endpoint: string) => ({
  endpoint,
  region: 'local',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

export async function startDynalite(): Promise<Dynalite> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const admin = new DynamoDBClient(client(endpoint));
  let tables = 0;
  const newTable = async () => {
    tables += 1;
    const name = `freezer-dr-test-state-${tables}`;
    await admin.send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: [{ AttributeName: STATE_TABLE_KEY, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: STATE_TABLE_KEY, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    return name;
  };
  const table = await newTable();
  const stores: DynamoStateStore[] = [];
  return {
    endpoint,
    table,
    newTable,
    store({ table: name = table, ...options } = {}) {
      const store = new DynamoStateStore({ table: name, client: client(endpoint), ...options });
      stores.push(store);
      return store;
    },
    async scan(name = table) {
      return (await admin.send(new ScanCommand({ TableName: name }))).Items ?? [];
    },
    async close() {
      admin.destroy();
      await Promise.all(stores.map((s) => s.close()));
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
