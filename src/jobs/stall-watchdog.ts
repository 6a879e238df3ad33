import type { Logger } from 'pino'
import type { Db } from '../db/db.js'
import { listStalledImports } from '../db/import-endings-repository.js'
import { PlanCodes } from '../provisioning/codes.js'
import { endPendingImport } from '../provisioning/import-end.js'

export interface StallWatchdog {
  /** One pass: ends the stalled imports as Failed, returns their reqIds. */
  tick: () => Promise<string[]>
  stop: () => Promise<void>
}

/**
 * Ends as Failed (D16) a Pending import on which no worker made progress for `stallSeconds`: its
 * worker died and none took it up, or none is running. Each is re-checked under its row lock, so a
 * worker committing a chunk meanwhile keeps it; a worker that comes back later finds it Failed at
 * its next chunk and applies nothing more. Every process with an import runtime runs one (API
 * processes too: "no worker left" is the case it exists for); two at once end an import once.
 */
export function startStallWatchdog (opts: { db: Db, logger: Logger, stallSeconds: number, intervalMs?: number }): StallWatchdog {
  const { db, logger, stallSeconds } = opts
  const errorMsg = `no worker made progress on this import for ${stallSeconds} s (IMPORT_STALL_S); it was stopped, and the lines it had not applied are marked ${PlanCodes.notApplied}`
  async function tick (): Promise<string[]> {
    const ended: string[] = []
    for (const reqId of await listStalledImports(db, stallSeconds)) {
      const r = await endPendingImport(db, reqId, { status: 'Failed', errorMsg }, { unlessProgressWithin: stallSeconds })
      if (!r.ended) continue
      logger.warn({ reqId, companyId: r.imp.companyId, stallSeconds, processed: r.imp.processed, total: r.imp.total }, 'import stalled; it ends Failed')
      ended.push(reqId)
    }
    return ended
  }
  let running: Promise<unknown> | undefined
  const timer = setInterval(() => {
    // One pass at a time: a slow database must not pile passes up.
    if (running) return
    running = tick()
      .catch((err: unknown) => logger.warn({ err }, 'stall watchdog pass failed; next pass in a moment'))
      .finally(() => { running = undefined })
  }, opts.intervalMs ?? Math.min(30_000, Math.max(100, stallSeconds * 250)))
  timer.unref()
  return {
    tick,
    async stop () {
      clearInterval(timer)
      await running
    },
  }
}
