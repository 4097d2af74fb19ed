// Intrinsic classes (wit/vm.wit `intrinsics`; README.md here): the mask the VM takes, and the
// defaults per host, chosen from the measurements in bench/results (see README.md here).

export type IntrinsicClass = 'bulk' | 'float' | 'memory';
export const INTRINSIC_CLASSES: readonly IntrinsicClass[] = ['bulk', 'float', 'memory'];
const BIT: Record<IntrinsicClass, number> = { bulk: 1, float: 2, memory: 4 };

export function classMask(classes: readonly IntrinsicClass[]): number {
  let mask = 0;
  for (const c of classes) {
    if (!(c in BIT)) throw new Error(`unknown intrinsic class '${c}' (known: ${INTRINSIC_CLASSES.join(', ')})`);
    mask |= BIT[c];
  }
  return mask;
}

export function classesOf(mask: number): IntrinsicClass[] {
  return INTRINSIC_CLASSES.filter((c) => (mask & BIT[c]) !== 0);
}

/** Parses "float,memory" / "all" / "none" (CLI and bench options). */
export function parseClasses(text: string): IntrinsicClass[] {
  if (text === 'none' || text === '') return [];
  if (text === 'all') return [...INTRINSIC_CLASSES];
  const classes = text.split(',').map((s) => s.trim()) as IntrinsicClass[];
  classMask(classes);
  return classes;
}

/** Host kinds the defaults are measured for. */
export type IntrinsicHost = 'v8' | 'spidermonkey' | 'vm';

/** Default classes per host (the numbers behind them: README.md here). */
export function defaultClasses(host: IntrinsicHost): IntrinsicClass[] {
  switch (host) {
    case 'v8': return [];
    case 'spidermonkey': return [];
    case 'vm': return ['bulk', 'memory'];
  }
}
