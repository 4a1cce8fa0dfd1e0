// Where each case leaves its row for the table: a directory named by this variable, set by
// vitest.faults.config.ts for the workers and the global setup alike.
export const RESULTS_ENV = 'FREEZER_DR_FAULTS_RESULTS';
