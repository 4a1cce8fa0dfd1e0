// The errors the local Step Functions endpoint answers with, named as AWS names them so
// @aws-sdk/client-sfn raises its own classes (ExecutionAlreadyExists, InvalidName, ...).

export type SfnErrorType =
  | 'AccessDeniedException'
  | 'ExecutionAlreadyExists'
  | 'ExecutionDoesNotExist'
  | 'InvalidArn'
  | 'InvalidExecutionInput'
  | 'InvalidName'
  | 'InvalidToken'
  | 'StateMachineDoesNotExist'
  | 'ValidationException'
  | 'UnknownOperationException'
  | 'SerializationException';

export class SfnError extends Error {
  constructor(
    readonly type: SfnErrorType,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

/** Step Functions' execution name rules: 1-80 characters, none of these, no control characters. */
const FORBIDDEN = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function validateExecutionName(name: string): void {
  if (name.length < 1 || name.length > 80) {
    throw new SfnError('InvalidName', `Invalid Name: '${name}' (must be 1 to 80 characters)`);
  }
  if (FORBIDDEN.test(name) || CONTROL.test(name)) {
    throw new SfnError(
      'InvalidName',
      `Invalid Name: '${name}' (contains a character Step Functions refuses)`,
    );
  }
}
