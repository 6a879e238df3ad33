/** What a test measured, for `npm run reliability`: vitest's JSON reporter carries `task.meta`. */
export type Figures = Record<string, number | boolean>

export function report (task: { meta: object }, figures: Figures): void {
  const meta = task.meta as { reliability?: Figures }
  meta.reliability = { ...meta.reliability, ...figures }
}
