import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'

export class SecretInputError extends Error {}

/**
 * A password for the admin CLI, never from argv (every user of the machine sees argv in `ps`):
 * `MASSPROV_PASSWORD` when set, else standard input — piped (`printf %s "$P" | massprov …`, one
 * trailing newline dropped) or typed at a prompt that does not echo it.
 */
export async function readPassword (fromEnv: string | undefined, input: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv
  const password = input.isTTY ? await prompt(input) : await readAll(input)
  if (password === '') throw new SecretInputError('a password is required: send it on stdin or in MASSPROV_PASSWORD')
  return password
}

async function readAll (input: NodeJS.ReadableStream): Promise<string> {
  let text = ''
  input.setEncoding('utf8')
  for await (const chunk of input) {
    text += chunk as string
    if (text.length > 4096) throw new SecretInputError('the password on stdin is longer than 4,096 characters')
  }
  return text.replace(/\r?\n$/, '')
}

async function prompt (input: NodeJS.ReadStream): Promise<string> {
  // The typed characters go to a sink: readline would otherwise echo them. The interface (which
  // puts the terminal in raw mode, so the terminal does not echo either) exists before the prompt.
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() })
  const rl = createInterface({ input, output: muted, terminal: true })
  process.stderr.write('Password: ')
  try {
    // In raw mode Ctrl-C is a key, not a signal: without this listener readline would only pause.
    return await new Promise<string>((resolve, reject) => {
      rl.once('line', resolve)
      rl.once('SIGINT', () => reject(new SecretInputError('interrupted at the password prompt')))
    })
  } finally {
    rl.close()
    process.stderr.write('\n')
  }
}
