import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { DataDirLockedError, lockDataDir } from '../../src/db/data-dir-lock.js'

describe('data directory lock', () => {
  it('a second holder is refused while the first lives, and the lock is free after release', () => {
    const dir = mkdtempSync(join(tmpdir(), 'massprov-lock-'))
    const release = lockDataDir(dir)
    expect(readFileSync(join(dir, 'massprov.pid'), 'utf8')).toBe(String(process.pid))
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError)
    expect(() => lockDataDir(dir)).toThrow(/in use by another massprov process \(pid \d+\)/)
    release()
    expect(existsSync(join(dir, 'massprov.pid'))).toBe(false)
    lockDataDir(dir)()
  })

  it('the pid file of a dead process (crash, kill -9) does not block a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'massprov-lock-'))
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString()
    writeFileSync(join(dir, 'massprov.pid'), dead)
    const release = lockDataDir(dir)
    expect(readFileSync(join(dir, 'massprov.pid'), 'utf8')).toBe(String(process.pid))
    release()
  })
})
