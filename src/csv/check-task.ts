import { readlinkSync } from 'node:fs'
import { setPriority } from 'node:os'
import { createBatchChecker, type BatchChecker, type BatchSetup, type RecordBatch } from './batches.js'
import type { CheckedLines } from './rows.js'

/** One batch of one file; `setupId` names the file's setup, sent along in case this thread has not seen it. */
export interface CheckTask { setupId: number, setup: BatchSetup, batch: RecordBatch }

export type CheckReply = { checked: CheckedLines } | { failure: string }

/** Files being checked at once stay few (MAX_CONCURRENT_CHECKS); a setup evicted early is compiled again. */
const MAX_SETUPS = 8

/**
 * Nice value of this thread: when it and the event loop's thread (HTTP, planning) both want a core,
 * the event loop mostly gets it (health p99 of the 25 MB check 46–101 ms at 0, 23–34 ms at 5). Any
 * lower also leaves the thread behind every other process of the machine.
 */
const NICE = 5

// On Linux, nice is per thread and this thread's id is in /proc/thread-self; elsewhere it stays as is.
try {
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), NICE)
} catch {} // no /proc/thread-self (not Linux) or no right to renice: the thread keeps the normal priority

const checkers = new Map<number, BatchChecker>()

/** Checks one batch on this (worker) thread; a failure is a bug, not a bad line (those are line errors or faults). */
export default function checkTask (task: CheckTask): Promise<CheckReply> {
  let check = checkers.get(task.setupId)
  if (check === undefined) {
    if (checkers.size >= MAX_SETUPS) checkers.clear()
    check = createBatchChecker(task.setup)
    checkers.set(task.setupId, check)
  }
  return check(task.batch).then(
    (checked) => ({ checked }),
    // The message names no cell.
    (err: unknown) => ({ failure: err instanceof Error ? `${err.name}: ${err.message}` : 'unknown error' })
  )
}
