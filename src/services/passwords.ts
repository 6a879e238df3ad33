import { hash, verify } from '@node-rs/argon2'

const ARGON2ID = 2 // Algorithm.Argon2id (a const enum, which isolated modules cannot read)

// OWASP password storage cheat sheet, argon2id: m = 19 MiB, t = 2, p = 1.
export const ARGON2ID_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const

// Verified against on a miss too, so an unknown login costs as much as a wrong password (no user enumeration by timing).
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$ZW/rfXd6GgzOR5crXY3tsw$X/5R4LSKQXK/L4LbPR7Esy8UqyL4bSmY4sEmKRjO3GE'

/**
 * One hash on libuv's thread pool (the binding is async), never on the event loop: single accounts
 * (CLI, seed). Imports hash in bulk on the sized pool of hash-pool.ts.
 */
export function hashPassword (password: string): Promise<string> {
  return hash(password, ARGON2ID_OPTIONS)
}

export async function verifyPassword (storedHash: string | null, password: string): Promise<boolean> {
  try {
    const ok = await verify(storedHash ?? DUMMY_HASH, password)
    return storedHash !== null && ok
  } catch {
    // Only a stored value that is not an argon2 hash throws: the login fails as with a wrong password
    // (a 401, never a 500 that would tell a caller this account differs).
    return false
  }
}
