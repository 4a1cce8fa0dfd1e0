// The bastion's inventory: which controller powers each host and how to reach it.
// Everything that ends up in an ipmitool or virsh argument list is validated here, so a
// value can never be read as an option (leading '-') or as a virsh command separator.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseYaml } from '../../core/yaml.js';
import { isValidHostName } from './protocol.js';

const address = z
  .string()
  .regex(/^(?:[A-Za-z0-9][A-Za-z0-9.-]*|\[?[0-9A-Fa-f:.]+\]?)$/, 'must be an IP address or a DNS name');
const userName = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9._@-]{0,31}$/, 'must be 1-32 of [A-Za-z0-9._@-], not starting with - or .');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
const timeoutMs = z.number().int().min(100).max(120_000);

const password = {
  /** Mode 600 file whose first line is the password. */
  passwordFile: z.string().startsWith('/', 'must be an absolute path').optional(),
  /** Environment variable of the relay process holding the password. */
  passwordEnv: envName.optional(),
};
const exactlyOnePassword = (entry: { passwordFile?: string | undefined; passwordEnv?: string | undefined }) =>
  Boolean(entry.passwordFile) !== Boolean(entry.passwordEnv);
const passwordMessage = { message: 'set exactly one of passwordFile and passwordEnv' };

const ipmiHost = z
  .strictObject({
    kind: z.literal('ipmi'),
    address,
    port: z.number().int().min(1).max(65535).default(623),
    user: userName,
    ...password,
    /** Always explicit: without -C ipmitool first asks for the cipher suites (10 s on some BMCs). */
    cipherSuite: z.number().int().min(0).max(17).default(3),
    interface: z.enum(['lanplus', 'lan']).default('lanplus'),
    /** Wall-clock limit for one ipmitool run (ipmitool itself gives up after ~2.2 s with -N 1 -R 1). */
    timeoutMs: timeoutMs.default(8000),
  })
  .refine(exactlyOnePassword, passwordMessage);

const redfishHost = z
  .strictObject({
    kind: z.literal('redfish'),
    /** BMC base URL, e.g. https://10.0.0.12 (no credentials, no path). */
    url: z
      .url({ protocol: /^https?$/ })
      .refine((u) => !new URL(u).username && !new URL(u).password, 'must not contain credentials'),
    systemPath: z
      .string()
      .regex(/^\/redfish\/v1\/Systems\/[A-Za-z0-9._-]+$/, 'must look like /redfish/v1/Systems/<id>')
      .default('/redfish/v1/Systems/1'),
    user: userName,
    ...password,
    /** PEM CA bundle for the BMC's certificate. */
    caFile: z.string().startsWith('/').optional(),
    /** Accept any BMC certificate (self-signed factory certs). Say so explicitly. */
    insecureSkipVerify: z.boolean().default(false),
    /** Basic auth over plain http:// sends the password in clear on every call: say so explicitly. */
    allowPlainHttp: z.boolean().default(false),
    timeoutMs: timeoutMs.default(10_000),
  })
  .refine(exactlyOnePassword, passwordMessage)
  .refine((entry) => entry.allowPlainHttp || new URL(entry.url).protocol === 'https:', {
    path: ['url'],
    message: 'plain http:// sends the BMC password in clear: use https://, or set allowPlainHttp: true',
  });

const libvirtHost = z.strictObject({
  kind: z.literal('libvirt'),
  /** Connection URI, e.g. qemu+ssh://fence@hv1/system or test:///default. */
  uri: z
    .string()
    .regex(/^[a-z][a-z0-9+]*:\/\/[A-Za-z0-9@._:/?=&%+-]*$/, 'must be a libvirt URI without spaces or quotes'),
  /** Domain name; defaults to the inventory host name. */
  domain: z
    .string()
    .refine(isValidHostName, 'must be a plain domain name (letters, digits, . _ -; not starting with -)')
    .optional(),
  timeoutMs: timeoutMs.default(15_000),
});

export const inventoryEntrySchema = z.discriminatedUnion('kind', [ipmiHost, redfishHost, libvirtHost]);
export type InventoryEntry = z.infer<typeof inventoryEntrySchema>;
export type IpmiEntry = Extract<InventoryEntry, { kind: 'ipmi' }>;
export type RedfishEntry = Extract<InventoryEntry, { kind: 'redfish' }>;
export type LibvirtEntry = Extract<InventoryEntry, { kind: 'libvirt' }>;

export const inventorySchema = z.strictObject({
  hosts: z
    .record(
      z.string().refine(isValidHostName, 'host names must be letters, digits, . _ - and not start with -'),
      inventoryEntrySchema,
    )
    .refine((hosts) => Object.keys(hosts).length > 0, 'the inventory lists no hosts'),
});
export type Inventory = z.infer<typeof inventorySchema>;

export function parseInventory(raw: unknown, origin = 'inventory'): Inventory {
  const result = inventorySchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${origin} is invalid: ${issues}`);
  }
  return result.data;
}

/** YAML or JSON (JSON is YAML). */
export function loadInventory(path: string): Inventory {
  return parseInventory(parseYaml(readFileSync(path, 'utf8')), path);
}

/** What controls the host's power, for answers and audit lines: no user, no secret. */
export function describeController(entry: InventoryEntry): string {
  switch (entry.kind) {
    case 'ipmi':
      return `ipmi ${entry.interface} ${entry.address}:${entry.port}`;
    case 'redfish':
      return `redfish ${new URL(entry.url).host}${entry.systemPath}`;
    case 'libvirt':
      return `libvirt ${entry.uri.replace(/\?.*$/, '')}`;
  }
}
