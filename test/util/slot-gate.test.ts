import { describe, expect, it } from 'vitest'
import { SlotGate } from '../../src/util/slot-gate.js'

describe('SlotGate', () => {
  it('grants the slots, queues in arrival order, refuses beyond the queue, and hands a released slot to the next waiter', async () => {
    const gate = new SlotGate(1, 2, 10_000)
    expect(await gate.acquire()).toBe(true)
    const order: number[] = []
    const w1 = gate.acquire().then((ok) => { order.push(1); return ok })
    const w2 = gate.acquire().then((ok) => { order.push(2); return ok })
    expect(await gate.acquire()).toBe(false)
    expect(gate.queued).toBe(2)
    gate.release()
    expect(await w1).toBe(true)
    gate.release()
    expect(await w2).toBe(true)
    expect(order).toEqual([1, 2])
    expect(gate.running).toBe(1)
    gate.release()
    expect(gate.running).toBe(0)
  })

  it('a waiter whose time runs out gets false and leaves the queue', async () => {
    const gate = new SlotGate(1, 5, 30)
    await gate.acquire()
    expect(await gate.acquire()).toBe(false)
    expect(gate.queued).toBe(0)
    gate.release()
    expect(gate.running).toBe(0)
  })

  it('a waiter whose caller left gives up its place: the next release goes to the one behind it, or back to the pool', async () => {
    const gate = new SlotGate(1, 5, 10_000)
    await gate.acquire()
    const gone = new AbortController()
    const leaver = gate.acquire(gone.signal)
    const stayer = gate.acquire()
    expect(gate.queued).toBe(2)
    gone.abort()
    expect(await leaver).toBe(false)
    expect(gate.queued).toBe(1)
    gate.release()
    expect(await stayer).toBe(true)
    gate.release()
    expect(gate.running).toBe(0)
    expect(gate.queued).toBe(0)
    expect(await gate.acquire(AbortSignal.abort())).toBe(false)
    expect(gate.running).toBe(0)
  })
})
