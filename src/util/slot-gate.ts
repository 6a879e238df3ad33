/**
 * At most `slots` holders at once; up to `maxWaiting` callers wait in arrival order, each at most
 * `waitMs`. A caller that cannot get a slot (queue full, its wait ran out, or its signal aborted while
 * waiting) gets false at once, so a client is told to come back instead of being held without bound.
 */
export class SlotGate {
  private held = 0
  private readonly waiting: Array<{ grant: () => void }> = []

  constructor (private readonly slots: number, private readonly maxWaiting: number, private readonly waitMs: number) {}

  get running (): number { return this.held }
  get queued (): number { return this.waiting.length }

  /** `signal`: the caller is gone; a waiter leaves the queue instead of being handed a slot nobody will release. */
  async acquire (signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return false
    if (this.held < this.slots) {
      this.held++
      return true
    }
    if (this.waiting.length >= this.maxWaiting) return false
    return new Promise<boolean>((resolve) => {
      const leave = () => {
        const at = this.waiting.indexOf(waiter)
        if (at >= 0) this.waiting.splice(at, 1)
        clearTimeout(timer)
        signal?.removeEventListener('abort', leave)
        resolve(false)
      }
      const waiter = {
        grant: () => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', leave)
          resolve(true)
        },
      }
      const timer = setTimeout(leave, this.waitMs)
      signal?.addEventListener('abort', leave, { once: true })
      this.waiting.push(waiter)
    })
  }

  /** Once per granted acquire: the slot goes to the next waiter, or back to the pool. */
  release (): void {
    const next = this.waiting.shift()
    if (next) next.grant()
    else this.held--
  }
}
