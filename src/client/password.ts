import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { UsageError } from './errors.js'

/**
 * The password for `login`, never from argv (every user of the machine sees argv in `ps`):
 * `MASSPROV_PASSWORD` when set, else standard input — piped (one trailing newline dropped) or typed
 * at a prompt that does not echo it. Its own copy of the admin CLI's reader: the client imports no
 * server code.
 */
export async function readPassword (fromEnv: string | undefined, input: NodeJS.ReadStream, prompt: NodeJS.WritableStream): Promise<string> {
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv
  const password = input.isTTY ? await ask(input, prompt) : await readAll(input)
  if (password === '') throw new UsageError('a password is required: send it on stdin or in MASSPROV_PASSWORD')
  return password
}

async function readAll (input: NodeJS.ReadableStream): Promise<string> {
  let text = ''
  input.setEncoding('utf8')
  for await (const chunk of input) {
    text += chunk as string
    if (text.length > 4096) throw new UsageError('the password on stdin is longer than 4,096 characters')
  }
  return text.replace(/\r?\n$/, '')
}

async function ask (input: NodeJS.ReadStream, prompt: NodeJS.WritableStream): Promise<string> {
  // The typed characters go to a sink: readline would otherwise echo them. The interface (which
  // puts the terminal in raw mode, so the terminal does not echo either) exists before the prompt.
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() })
  const rl = createInterface({ input, output: muted, terminal: true })
  prompt.write('Password: ')
  try {
    // In raw mode Ctrl-C is a key, not a signal: without this listener readline would only pause.
    return await new Promise<string>((resolve, reject) => {
      rl.once('line', resolve)
      rl.once('SIGINT', () => reject(new UsageError('interrupted at the password prompt')))
    })
  } finally {
    rl.close()
    prompt.write('\n')
  }
}
