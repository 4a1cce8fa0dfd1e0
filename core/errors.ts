// Named errors. The error name is what Step Functions matches in Retry/Catch, so these
// names are part of the workflow contract in statemachine/host-recovery.asl.json.

export class WorkflowError extends Error {
  constructor(name: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
  }
}

/** Transient cloud failure (5xx, timeout, connection refused): safe to retry. */
export const CLOUD_TRANSIENT = 'Cloud.Transient';
/** The cloud rejected the request (4xx other than 404): retrying will not help. */
export const CLOUD_REJECTED = 'Cloud.Rejected';
export const CLOUD_AUTH = 'Cloud.AuthFailed';
export const FENCE_FAILED = 'Fence.Failed';
export const FENCE_NOT_VERIFIED = 'Fence.NotVerified';
/** Nova has no nova-compute service on the host named by the alert or the operator. */
export const HOST_UNKNOWN = 'Host.Unknown';
export const INSTANCE_NOT_SETTLED = 'Instance.NotSettled';
export const INSTANCE_FAILED = 'Instance.Failed';
/**
 * The instance is being live- or cold-migrated off the failed host (a drain was under way):
 * evacuating it now could leave it running twice. The workflow waits (Retry) and asks again.
 */
export const INSTANCE_MIGRATING = 'Instance.Migrating';
export const INPUT_INVALID = 'Input.Invalid';
export const CONFIG_INVALID = 'Config.Invalid';

/** An alert body in a recognised format with a missing or mistyped field (the webhook answers 422). */
export class InvalidAlert extends Error {
  override readonly name = 'InvalidAlert';
}

export class CloudError extends WorkflowError {
  constructor(
    name: string,
    message: string,
    readonly httpStatus: number | null,
    options?: { cause?: unknown },
  ) {
    super(name, message, options);
  }
}
