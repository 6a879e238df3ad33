/** Paces long synchronous work so that the event loop gets a turn at least every `budgetMs`. */
export interface Clock {
  /** True, about every 16 calls, once the budget of synchronous work is spent. */
  due (): boolean
  pause (): Promise<void>
}

export function createClock (budgetMs: number): Clock {
  let deadline = performance.now() + budgetMs
  let calls = 0
  return {
    due: () => (++calls & 15) === 0 && performance.now() > deadline,
    pause: async () => {
      await new Promise<void>((resolve) => setImmediate(resolve))
      deadline = performance.now() + budgetMs
    },
  }
}
