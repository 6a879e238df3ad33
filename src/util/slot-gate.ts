/**
 * At most `slots` holders at once; up to `maxWaiting` callers wait in arrival order, each at most
 * `waitMs`. A caller that cannot get a slot (queue full, or its wait ran out) gets false at once, so a
 * client is told to come back instead of being held without bound.
 */
export class SlotGate {
  private held = 0
  private readonly waiting: Array<{ grant: () => void }> = []

  constructor (private readonly slots: number, private readonly maxWaiting: number, private readonly waitMs: number) {}

  get running (): number { return this.held }
  get queued (): number { return this.waiting.length }

  async acquire (): Promise<boolean> {
    if (this.held < this.slots) {
      this.held++
      return true
    }
    if (this.waiting.length >= this.maxWaiting) return false
    return new Promise<boolean>((resolve) => {
      const waiter = {
        grant: () => {
          clearTimeout(timer)
          resolve(true)
        },
      }
      const timer = setTimeout(() => {
        const at = this.waiting.indexOf(waiter)
        if (at >= 0) this.waiting.splice(at, 1)
        resolve(false)
      }, this.waitMs)
      this.waiting.push(waiter)
    })
  }

  release (): void {
    const next = this.waiting.shift()
    if (next) next.grant()
    else this.held--
  }
}
