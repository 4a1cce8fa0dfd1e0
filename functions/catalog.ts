// The Task functions of statemachine/host-recovery.asl.json, keyed by the
// DefinitionSubstitutions name the ASL uses for each function's ARN.
import type { RuntimeProvider } from '../core/runtime.js';
import * as confirm from './confirm-host-failure.js';
import * as evacuate from './evacuate-instance.js';
import * as fence from './fence-host.js';
import type { TaskHandler } from './lib/task-handler.js';
import * as markDown from './mark-host-down.js';
import * as notify from './notify.js';
import * as planTargets from './plan-targets.js';
import * as select from './select-instances.js';
import * as summarize from './summarize.js';
import * as verifyInstance from './verify-instance.js';
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
};
