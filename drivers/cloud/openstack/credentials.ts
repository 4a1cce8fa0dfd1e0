// Resolves OpenStack credentials the way openstacksdk users expect: a named cloud from
// clouds.yaml (OS_CLIENT_CONFIG_FILE, ./, ~/.config/openstack/, /etc/openstack/, with
// secure.yaml merged), or OS_* environment variables when no cloud is named.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { describeIssues } from '../../../core/config.js';
import { CONFIG_INVALID, WorkflowError } from '../../../core/errors.js';
import { parseYaml } from '../../../core/yaml.js';
import * as z from '../../../core/zod.js';

const optionalString = () => z.optional(z.string());

const authSchema = z.looseObject({
  auth_url: z.url(),
  username: optionalString(),
  user_id: optionalString(),
  password: optionalString(),
  user_domain_name: optionalString(),
  user_domain_id: optionalString(),
  project_name: optionalString(),
  project_id: optionalString(),
  project_domain_name: optionalString(),
  project_domain_id: optionalString(),
  application_credential_id: optionalString(),
  application_credential_secret: optionalString(),
});

const cloudEntrySchema = z.looseObject({
  auth: authSchema,
  auth_type: z.optional(z.enum(['password', 'v3password', 'v3applicationcredential'])),
  region_name: optionalString(),
  interface: z.optional(z.enum(['public', 'internal', 'admin'])),
});

export type CloudAuth = z.infer<typeof authSchema>;

export interface Connection {
  auth: CloudAuth;
  authType: 'password' | 'v3applicationcredential';
  region: string | null;
  interface: 'public' | 'internal' | 'admin';
}

type CloudsDoc = { clouds?: Record<string, unknown> };

function candidateFiles(name: string, env: NodeJS.ProcessEnv): string[] {
  const explicit = name === 'clouds.yaml' ? env.OS_CLIENT_CONFIG_FILE : undefined;
  return [
    ...(explicit ? [explicit] : []),
    join(process.cwd(), name),
    join(homedir(), '.config', 'openstack', name),
    join('/etc/openstack', name),
  ];
}

function readYaml(path: string): CloudsDoc {
  try {
    return (parseYaml(readFileSync(path, 'utf8'), { secret: true }) ?? {}) as CloudsDoc;
  } catch (error) {
    throw new WorkflowError(CONFIG_INVALID, `cannot read ${path}: ${(error as Error).message}`);
  }
}

function mergeDeep(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object'
        ? mergeDeep(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

function toConnection(entry: unknown, origin: string): Connection {
  const parsed = cloudEntrySchema.safeParse(entry);
  if (!parsed.success) {
    throw new WorkflowError(CONFIG_INVALID, `${origin}: ${describeIssues(parsed.error)}`);
  }
  const { auth } = parsed.data;
  const authType =
    parsed.data.auth_type === 'v3applicationcredential' || (auth.application_credential_id && !auth.password)
      ? 'v3applicationcredential'
      : 'password';
  if (authType === 'password' && (!auth.password || !(auth.username || auth.user_id))) {
    throw new WorkflowError(
      CONFIG_INVALID,
      `${origin}: password auth needs auth.username (or user_id) and auth.password`,
    );
  }
  if (
    authType === 'v3applicationcredential' &&
    (!auth.application_credential_id || !auth.application_credential_secret)
  ) {
    throw new WorkflowError(
      CONFIG_INVALID,
      `${origin}: application credential auth needs auth.application_credential_id and auth.application_credential_secret`,
    );
  }
  return {
    auth,
    authType,
    region: parsed.data.region_name ?? null,
    interface: parsed.data.interface ?? 'public',
  };
}

/** A cloud from clouds.yaml text (a secret's value): the named one, else the only one. */
export function connectionFromCloudsYaml(text: string, cloud?: string, secureText?: string): Connection {
  let doc: CloudsDoc;
  try {
    doc = (parseYaml(text, { secret: true }) ?? {}) as CloudsDoc;
  } catch (error) {
    throw new WorkflowError(CONFIG_INVALID, `the given clouds.yaml: ${(error as Error).message}`);
  }
  const names = Object.keys(doc.clouds ?? {});
  const name = cloud ?? (names.length === 1 ? names[0] : undefined);
  if (!name) {
    throw new WorkflowError(
      CONFIG_INVALID,
      `the given clouds.yaml has ${names.length ? `clouds ${names.join(', ')}` : 'no clouds'}: name one in cloud.cloud or OS_CLOUD`,
    );
  }
  let entry = doc.clouds?.[name] as Record<string, unknown> | undefined;
  if (!entry) throw new WorkflowError(CONFIG_INVALID, `cloud "${name}" is not in the given clouds.yaml`);
  const secure = secureText
    ? ((parseYaml(secureText, { secret: true }) ?? {}) as CloudsDoc).clouds?.[name]
    : undefined;
  if (secure && typeof secure === 'object') entry = mergeDeep(entry, secure as Record<string, unknown>);
  return toConnection(entry, `clouds.yaml cloud "${name}"`);
}

function connectionFromFiles(cloud: string, env: NodeJS.ProcessEnv): Connection {
  const file = candidateFiles('clouds.yaml', env).find((path) => existsSync(path));
  if (!file) {
    throw new WorkflowError(CONFIG_INVALID, `cloud "${cloud}" requested but no clouds.yaml was found`);
  }
  let entry = readYaml(file).clouds?.[cloud] as Record<string, unknown> | undefined;
  if (!entry) throw new WorkflowError(CONFIG_INVALID, `cloud "${cloud}" is not defined in ${file}`);
  const secureFile = [join(dirname(file), 'secure.yaml'), ...candidateFiles('secure.yaml', env)].find(
    (path) => existsSync(path),
  );
  const secure = secureFile ? readYaml(secureFile).clouds?.[cloud] : undefined;
  if (secure && typeof secure === 'object') entry = mergeDeep(entry, secure as Record<string, unknown>);
  return toConnection(entry, `${file} cloud "${cloud}"`);
}

function connectionFromEnv(env: NodeJS.ProcessEnv): Connection {
  const pick = (key: string) => env[key] || undefined;
  return toConnection(
    {
      auth_type: pick('OS_AUTH_TYPE'),
      region_name: pick('OS_REGION_NAME'),
      interface: pick('OS_INTERFACE'),
      auth: {
        auth_url: pick('OS_AUTH_URL'),
        username: pick('OS_USERNAME'),
        user_id: pick('OS_USER_ID'),
        password: pick('OS_PASSWORD'),
        user_domain_name: pick('OS_USER_DOMAIN_NAME'),
        user_domain_id: pick('OS_USER_DOMAIN_ID'),
        project_name: pick('OS_PROJECT_NAME') ?? pick('OS_TENANT_NAME'),
        project_id: pick('OS_PROJECT_ID') ?? pick('OS_TENANT_ID'),
        project_domain_name: pick('OS_PROJECT_DOMAIN_NAME'),
        project_domain_id: pick('OS_PROJECT_DOMAIN_ID'),
        application_credential_id: pick('OS_APPLICATION_CREDENTIAL_ID'),
        application_credential_secret: pick('OS_APPLICATION_CREDENTIAL_SECRET'),
      },
    },
    'OS_* environment',
  );
}

/**
 * Precedence: an explicit cloud name (config, then OS_CLOUD) from clouds.yaml;
 * otherwise OS_* variables.
 */
export function resolveConnection(
  options: { cloud?: string },
  env: NodeJS.ProcessEnv = process.env,
): Connection {
  const cloud = options.cloud ?? env.OS_CLOUD;
  if (cloud) return connectionFromFiles(cloud, env);
  if (!env.OS_AUTH_URL) {
    throw new WorkflowError(
      CONFIG_INVALID,
      'no OpenStack cloud configured: set cloud.cloud, OS_CLOUD, or OS_AUTH_URL',
    );
  }
  return connectionFromEnv(env);
}
