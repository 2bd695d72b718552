/** Fargate's valid task sizes (Linux): for each CPU value, the memory sizes in MiB it accepts. */
const MEMORY_BY_CPU: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: steps(1024, 4096, 1024),
  1024: steps(2048, 8192, 1024),
  2048: steps(4096, 16384, 1024),
  4096: steps(8192, 30720, 1024),
  8192: steps(16384, 61440, 4096),
  16384: steps(32768, 122880, 8192),
};

function steps(min: number, max: number, step: number): number[] {
  const out: number[] = [];
  for (let m = min; m <= max; m += step) out.push(m);
  return out;
}

export const FARGATE_CPU_VALUES = Object.keys(MEMORY_BY_CPU).map(Number);

/** Which option is wrong and why, when `cpu`/`memoryLimitMiB` is not a Fargate task size. */
export function fargateSizeProblem(
  cpu: number,
  memoryLimitMiB: number,
): { option: 'cpu' | 'memoryLimitMiB'; problem: string } | undefined {
  const sizes = MEMORY_BY_CPU[cpu];
  if (!sizes) {
    return {
      option: 'cpu',
      problem: `${cpu} is not a Fargate CPU value; expected one of ${FARGATE_CPU_VALUES.join(', ')}`,
    };
  }
  if (!sizes.includes(memoryLimitMiB)) {
    return {
      option: 'memoryLimitMiB',
      problem: `${memoryLimitMiB} MiB does not suit cpu ${cpu}; expected one of ${sizes.join(', ')}`,
    };
  }
  return undefined;
}
