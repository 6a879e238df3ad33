import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export class DataDirLockedError extends Error {}

/**
 * PGlite silently loses data when two processes open one data directory, so the first one holds a
 * pid file. A pid file (not an mtime-refreshed lock such as proper-lockfile's) lets a restart right
 * after a crash proceed at once: the dead pid is detected instead of waiting for staleness.
 */
export function lockDataDir (dir: string): () => void {
  mkdirSync(dir, { recursive: true })
  const file = join(dir, 'massprov.pid')
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' })
      return () => {
        try {
          if (readFileSync(file, 'utf8') === String(process.pid)) unlinkSync(file)
        } catch { /* already gone */ }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const holder = Number.parseInt(readSafe(file), 10)
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
      throw new DataDirLockedError(
        `The data directory ${dir} is in use by another massprov process (pid ${holder}). ` +
        'Stop that process first, or start this one with another DATA_DIR. ' +
        `If no such process exists, delete ${file}.`)
    }
    try { unlinkSync(file) } catch { /* another starter removed it first */ }
  }
  throw new DataDirLockedError(`Could not lock the data directory ${dir}`)
}

/** The lock file's pid, or '' when it vanished or cannot be read: then it is taken as stale. */
function readSafe (file: string): string {
  try { return readFileSync(file, 'utf8') } catch { return '' }
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
