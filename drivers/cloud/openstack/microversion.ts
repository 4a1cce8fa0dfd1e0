// Nova microversions as comparable numbers: "2.53" -> [2, 53].

export function parseMicroversion(value: string): [number, number] {
  const match = /^(\d+)\.(\d+)$/.exec(value.trim());
  if (!match) throw new Error(`not a microversion: ${value}`);
  return [Number(match[1]), Number(match[2])];
}

export function compareMicroversions(a: string, b: string): number {
  const [amaj, amin] = parseMicroversion(a);
  const [bmaj, bmin] = parseMicroversion(b);
  return amaj === bmaj ? amin - bmin : amaj - bmaj;
}

export const atLeast = (have: string, want: string): boolean => compareMicroversions(have, want) >= 0;

export function minMicroversion(a: string, b: string): string {
  return compareMicroversions(a, b) <= 0 ? a : b;
}
