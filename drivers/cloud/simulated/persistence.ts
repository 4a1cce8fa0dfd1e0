// SIMULATED cloud state kept in a file, so a restarted `freezer-dr serve` finds the cloud
// as it left it, the way a real Nova outlives freezer-dr: a host that failed stays failed,
// an instance already evacuated stays moved. Written synchronously after every change,
// before the simulated API answers, so nothing freezer-dr was told is lost on a kill.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SimSnapshot, SimulatedCloudState } from './state.js';

export function persistSimulatedState(state: SimulatedCloudState, path: string): { restored: boolean } {
  let restored = false;
  if (existsSync(path)) {
    const snapshot = JSON.parse(readFileSync(path, 'utf8')) as SimSnapshot;
    if (snapshot.version !== 1) {
      throw new Error(`${path} holds simulated cloud state of another version; delete it to start fresh`);
    }
    state.restore(snapshot);
    restored = true;
  }
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp`;
  const save = () => {
    writeFileSync(temporary, JSON.stringify(state.snapshot()));
    renameSync(temporary, path);
  };
  state.onChange = save;
  save();
  return { restored };
}
