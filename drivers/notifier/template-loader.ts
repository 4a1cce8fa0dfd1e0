// Finds the email templates: the built-ins, with any function replaced by an override
// module from a directory the operator names. A broken override never stops a message:
// the built-in is used instead and the problem is reported in the admin message.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { adminTemplate } from './templates/admin.js';
import type { EmailTemplate, EmailTemplates } from './templates/contract.js';
import { tenantTemplate } from './templates/tenant.js';

export const builtInTemplates: EmailTemplates = { admin: adminTemplate, tenant: tenantTemplate };

const PARTS = ['subject', 'text', 'html'] as const;
const EXTENSIONS = ['mjs', 'js', 'ts'];

export interface LoadedTemplates {
  templates: EmailTemplates;
  /** Human-readable problems with the overrides (already worked around). */
  problems: string[];
  /** Which override files were used, for logs. */
  files: string[];
}

async function loadOne(
  dir: string,
  audience: keyof EmailTemplates,
  problems: string[],
  files: string[],
): Promise<EmailTemplate> {
  const builtIn = builtInTemplates[audience];
  const file = EXTENSIONS.map((ext) => resolve(dir, `${audience}.${ext}`)).find((path) => existsSync(path));
  if (!file) return builtIn;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    problems.push(
      `template override ${file} could not be loaded (${(error as Error).message}); the built-in ${audience} template was used`,
    );
    return builtIn;
  }
  files.push(file);
  const merged: EmailTemplate = { ...builtIn };
  for (const part of PARTS) {
    const fn = mod[part];
    if (fn === undefined) continue;
    if (typeof fn !== 'function') {
      problems.push(`template override ${file}: export "${part}" is not a function; the built-in was used`);
      continue;
    }
    (merged as unknown as Record<string, unknown>)[part] = fn;
  }
  return merged;
}

/** Built-ins overlaid with admin.{mjs,js,ts} / tenant.{mjs,js,ts} from `dir`. */
export async function loadTemplates(dir: string | null | undefined): Promise<LoadedTemplates> {
  const problems: string[] = [];
  const files: string[] = [];
  if (!dir) return { templates: builtInTemplates, problems, files };
  if (!existsSync(dir)) {
    return {
      templates: builtInTemplates,
      problems: [`template directory ${dir} does not exist; the built-in templates were used`],
      files,
    };
  }
  return {
    templates: {
      admin: await loadOne(dir, 'admin', problems, files),
      tenant: await loadOne(dir, 'tenant', problems, files),
    },
    problems,
    files,
  };
}
