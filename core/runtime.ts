// What every step gets: the config, the ports it calls and a logger. core only declares
// it; the edges compose it: the CLI, the embedded engine and tests with every driver kind
// (engine/runtime.ts), a deployed function with only the kinds its step uses
// (functions/lib/function-runtime.ts).
import type { Logger } from '@aws-lambda-powertools/logger';
import type { FreezerConfig, RecoveryPolicy } from './config.js';
import type { ExecutionsApi } from './executions.js';
import type { StateStore } from './intake/state-store.js';
import type { Cloud, Fencer, Notifier } from './ports.js';

/** The driver-backed ports a step may call. */
export interface Ports {
  cloud: Cloud;
  fencer: Fencer;
  notifiers: Notifier[];
  /** Notify-once claims and start windows, shared as widely as the `state` driver reaches. */
  state: StateStore;
  /**
   * The host-recovery workflow's executions, for a drain that hands a dead host over
   * (HandOverToRecovery); deployed functions build theirs from RECOVERY_STATE_MACHINE_ARN.
   */
  recoveries?: ExecutionsApi;
}

export interface Runtime extends Ports {
  config: FreezerConfig;
  policy: RecoveryPolicy;
  logger: Logger;
}

export type RuntimeProvider = () => Promise<Runtime>;
