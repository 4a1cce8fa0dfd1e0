// The pause switch: config, a flag file (touch it for a maintenance window) or an
// environment variable. Read on every request, so toggling needs no restart.
import { existsSync } from 'node:fs';
import type { IntakeConfig } from './config.js';

const TRUE = new Set(['1', 'true', 'yes', 'on']);

/** Why recoveries are paused, or null when they are not. */
export function pausedBy(pause: IntakeConfig['pause'], env: NodeJS.ProcessEnv): string | null {
  if (pause.paused) return 'intake.pause.paused is true';
  if (pause.file && existsSync(pause.file)) return `pause file ${pause.file} exists`;
  const flag = pause.env ? env[pause.env] : undefined;
  if (pause.env && flag && TRUE.has(flag.trim().toLowerCase())) return `${pause.env}=${flag.trim()}`;
  return null;
}
