import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ClientError } from './errors.js'

export interface Session { server: string, email: string, token: string, savedAt: string }

/** `MASSPROV_CONFIG_DIR`, else `$XDG_CONFIG_HOME/massprov`, else `~/.config/massprov`. */
export function configDir (env: { MASSPROV_CONFIG_DIR?: string, XDG_CONFIG_HOME?: string, HOME?: string }, home: string): string {
  if (env.MASSPROV_CONFIG_DIR) return env.MASSPROV_CONFIG_DIR
  return join(env.XDG_CONFIG_HOME || join(env.HOME || home, '.config'), 'massprov')
}

export const sessionFile = (dir: string) => join(dir, 'client.json')

/** The token is a credential: the directory is 0700, the file 0600, written whole then renamed. */
export function saveSession (dir: string, session: Session): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const file = sessionFile(dir)
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600 })
  // The mode given to writeFileSync only applies to a new file, and the umask may narrow it, never widen.
  chmodSync(tmp, 0o600)
  renameSync(tmp, file)
  return file
}

export function loadSession (dir: string): Session {
  const file = sessionFile(dir)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ClientError('not logged in: run massprov-client login --server URL --email E')
    throw new ClientError(`cannot read ${file}: ${(err as Error).message}`)
  }
  const s = JSON.parse(text) as Partial<Session>
  if (typeof s.server !== 'string' || typeof s.token !== 'string') throw new ClientError(`${file} holds no session: log in again`)
  return { server: s.server, email: s.email ?? '', token: s.token, savedAt: s.savedAt ?? '' }
}
