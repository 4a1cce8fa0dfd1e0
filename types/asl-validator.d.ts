// asl-validator ships no type declarations.
declare module 'asl-validator' {
  interface AslValidationResult {
    isValid: boolean;
    errors: Array<{ message?: string; path?: string; [key: string]: unknown }>;
  }
  function aslValidator(
    definition: unknown,
    options?: { checkPaths?: boolean; checkArn?: boolean },
  ): AslValidationResult;
  export default aslValidator;
}
