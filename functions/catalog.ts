// The Task functions of statemachine/host-recovery.asl.json and host-drain.asl.json, keyed
// by the DefinitionSubstitutions name the ASL uses for each function's ARN (the drain
// reuses SelectInstances, PlanTargets and Notify).
import type { RuntimeProvider } from '../core/runtime.js';
import * as checkDrainHost from './check-drain-host.js';
import * as confirm from './confirm-host-failure.js';
import * as disableForDrain from './disable-host-for-drain.js';
import * as evacuate from './evacuate-instance.js';
import * as fence from './fence-host.js';
import * as handOver from './hand-over-to-recovery.js';
import type { TaskHandler } from './lib/task-handler.js';
import * as markDown from './mark-host-down.js';
import * as migrate from './migrate-instance.js';
import * as notify from './notify.js';
import * as planTargets from './plan-targets.js';
import * as select from './select-instances.js';
import * as summarize from './summarize.js';
import * as summarizeDrain from './summarize-drain.js';
import * as verifyInstance from './verify-instance.js';
import * as verifyMigration from './verify-migration.js';
import * as verifyPower from './verify-power-off.js';

export interface TaskFunction {
  /** Function name suffix (serverless function key) */
  name: string;
  /** Source file, relative to the repository root. */
  source: string;
  create: (rt: RuntimeProvider) => TaskHandler;
}

export const taskFunctions: Record<string, TaskFunction> = {
  ConfirmHostFailureFunctionArn: {
    name: 'confirmHostFailure',
    source: 'functions/confirm-host-failure.ts',
    create: confirm.createHandler,
  },
  FenceHostFunctionArn: { name: 'fenceHost', source: 'functions/fence-host.ts', create: fence.createHandler },
  VerifyPowerOffFunctionArn: {
    name: 'verifyPowerOff',
    source: 'functions/verify-power-off.ts',
    create: verifyPower.createHandler,
  },
  MarkHostDownFunctionArn: {
    name: 'markHostDown',
    source: 'functions/mark-host-down.ts',
    create: markDown.createHandler,
  },
  SelectInstancesFunctionArn: {
    name: 'selectInstances',
    source: 'functions/select-instances.ts',
    create: select.createHandler,
  },
  PlanTargetsFunctionArn: {
    name: 'planTargets',
    source: 'functions/plan-targets.ts',
    create: planTargets.createHandler,
  },
  EvacuateInstanceFunctionArn: {
    name: 'evacuateInstance',
    source: 'functions/evacuate-instance.ts',
    create: evacuate.createHandler,
  },
  VerifyInstanceFunctionArn: {
    name: 'verifyInstance',
    source: 'functions/verify-instance.ts',
    create: verifyInstance.createHandler,
  },
  SummarizeFunctionArn: {
    name: 'summarize',
    source: 'functions/summarize.ts',
    create: summarize.createHandler,
  },
  NotifyFunctionArn: { name: 'notify', source: 'functions/notify.ts', create: notify.createHandler },
  // The host drain's own steps.
  CheckDrainHostFunctionArn: {
    name: 'checkDrainHost',
    source: 'functions/check-drain-host.ts',
    create: checkDrainHost.createHandler,
  },
  DisableHostForDrainFunctionArn: {
    name: 'disableHostForDrain',
    source: 'functions/disable-host-for-drain.ts',
    create: disableForDrain.createHandler,
  },
  MigrateInstanceFunctionArn: {
    name: 'migrateInstance',
    source: 'functions/migrate-instance.ts',
    create: migrate.createHandler,
  },
  VerifyMigrationFunctionArn: {
    name: 'verifyMigration',
    source: 'functions/verify-migration.ts',
    create: verifyMigration.createHandler,
  },
  SummarizeDrainFunctionArn: {
    name: 'summarizeDrain',
    source: 'functions/summarize-drain.ts',
    create: summarizeDrain.createHandler,
  },
  HandOverToRecoveryFunctionArn: {
    name: 'handOverToRecovery',
    source: 'functions/hand-over-to-recovery.ts',
    create: handOver.createHandler,
  },
};
