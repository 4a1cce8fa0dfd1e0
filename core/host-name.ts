// The one rule for a Nova compute host name, shared by the Task inputs and the alert
// sources that read host names out of monitoring payloads.
import * as z from './zod.js';

export const hostName = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(255),
    z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a host name (letters, digits, ".", "_", "-")'),
  );
