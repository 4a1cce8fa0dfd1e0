// dynalite ships no type declarations: the factory of its DynamoDB-compatible server.
declare module 'dynalite' {
  import type { Server } from 'node:http';

  function dynalite(options?: {
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    path?: string;
  }): Server;
  export default dynalite;
}
