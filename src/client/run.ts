import { parseArgs, type ParseArgsConfig } from 'node:util'
import * as commands from './commands.js'
import { ClientError, HttpError, UsageError } from './errors.js'

type Options = NonNullable<ParseArgsConfig['options']>

interface CommandSpec {
  args: string[]
  summary: string
  options: Options
  help: string
  run: (ctx: commands.Context, values: commands.Values, positionals: string[]) => Promise<number>
}

const modeOpt = { mode: { type: 'string' }, delimiter: { type: 'string' }, company: { type: 'string' } } satisfies Options
const FILE_OPTIONS = `  --mode user|device|useranddevice   useranddevice goes to the synchronize endpoints (default: the server
                                     detects user or device from the header)
  --delimiter C                      the CSV delimiter (default: detected; \\t for TAB)
  --company ID                       another company within your scope`

const COMMANDS: Record<string, CommandSpec> = {
  login: {
    args: [],
    summary: 'sign in and keep the token in the config directory',
    options: { server: { type: 'string' }, email: { type: 'string' } },
    help: `  --server URL     the server (default: MASSPROV_SERVER)
  --email E        the administrator's login
The password comes from MASSPROV_PASSWORD, else standard input (piped, or typed at a prompt that
does not echo it); never from the command line. The session goes to
$MASSPROV_CONFIG_DIR, $XDG_CONFIG_HOME/massprov or ~/.config/massprov (client.json, mode 0600).`,
    run: commands.login,
  },
  check: { args: ['FILE'], summary: 'dry-run a CSV: its errors and what each line would do', options: modeOpt, help: FILE_OPTIONS, run: commands.check },
  import: {
    args: ['FILE'],
    summary: 'import a CSV; --wait follows it to its end',
    options: { ...modeOpt, label: { type: 'string' }, wait: { type: 'boolean' }, interval: { type: 'string' }, 'confirm-deletes': { type: 'string' } },
    help: `${FILE_OPTIONS}
  --label L                          a description of the import
  --confirm-deletes N                confirms that the file deletes N users: the server refuses a file
                                     deleting more than its MAX_DELETE_PERCENT of the company's users
                                     without it (409630, exit 1); check gives N
  --wait                             poll until the import has ended, showing progress
  --interval S                       seconds between polls with --wait (default 1)`,
    run: commands.importFile,
  },
  status: { args: ['REQID'], summary: 'the status and counters of an import', options: {}, help: '', run: commands.status },
  report: {
    args: ['REQID'],
    summary: 'the per-line report of an import',
    options: { failed: { type: 'boolean' }, csv: { type: 'boolean' } },
    help: `  --failed   only the lines that failed
  --csv      CSV (lineNumber,action,loginEmail,status,errorCode,errorMsg); a cell starting with
             = + - @ gets a leading ' so that no spreadsheet runs it as a formula`,
    run: commands.report,
  },
  cancel: { args: ['REQID'], summary: 'cancel a Pending import', options: {}, help: '', run: commands.cancel },
  revert: {
    args: ['REQID'],
    summary: 'revert an ended import (undo its applied lines); --check shows what it would do first',
    options: { check: { type: 'boolean' }, wait: { type: 'boolean' }, interval: { type: 'string' }, label: { type: 'string' }, company: { type: 'string' } },
    help: `  --check        the dry run: each line, last line first, with what it would put back and its conflicts
  --wait         poll until the revert has ended, showing progress
  --interval S   seconds between polls with --wait (default 1)
  --label L      a description of the revert
  --company ID   the import's company, when it is not yours`,
    run: commands.revert,
  },
  template: { args: ['MODE'], summary: 'print the CSV template of a mode (user, device, useranddevice)', options: {}, help: '', run: commands.template },
}

const EXIT_CODES = `Exit codes: 0 every line succeeded (check: no error; import --wait: Terminated with no failed
line), 2 some lines failed (or the import ended Failed or Cancelled), 1 an error (HTTP, network, usage).
Output: readable text and a progress bar on a terminal, else one JSON object per line on stdout.`

export function topHelp (): string {
  const width = Math.max(...Object.entries(COMMANDS).map(([n, c]) => `${n} ${c.args.join(' ')}`.length))
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${`${n} ${c.args.join(' ')}`.padEnd(width)}  ${c.summary}`)
  return `Usage: massprov-client COMMAND [options]   (massprov-client COMMAND --help for its options)

The command-line client of the massprov API.

${lines.join('\n')}

${EXIT_CODES}
`
}

function commandHelp (name: string, c: CommandSpec): string {
  return `Usage: massprov-client ${name}${c.args.map((a) => ` ${a}`).join('')}${Object.keys(c.options).length ? ' [options]' : ''}

${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.
${c.help ? `\n${c.help}\n` : ''}
${EXIT_CODES}
`
}

const PASSWORD_REFUSED = '--password is refused: a password on the command line is visible to every user of the machine (ps) ' +
  'and stays in the shell history; pipe it on stdin or set MASSPROV_PASSWORD'

/** The deletion safeguard's refusal: the file deletes more users than the server lets through unconfirmed. */
const DELETIONS_NOT_CONFIRMED = 409630

/** The server's sentence as it is (it names the count), then how to confirm it from here. */
function deletionsRefused (err: HttpError): string {
  const details = typeof err.envelope.errorDetails === 'string' ? err.envelope.errorDetails : err.message
  // The last one: a refused wrong count names the one sent first.
  const count = [...details.matchAll(/confirmDeletes=(\d+)/g)].at(-1)?.[1]
  return `${details}${count ? `\nTo confirm, run the same import with --confirm-deletes ${count}` : ''}`
}

/** Runs one command line; answers the exit code. Nothing here exits the process. */
export async function run (argv: string[], ctx: commands.Context): Promise<number> {
  try {
    if (argv.some((a) => a === '--password' || a.startsWith('--password='))) throw new UsageError(PASSWORD_REFUSED)
    const [name, ...rest] = argv
    if (name === undefined) {
      ctx.stderr.write(topHelp())
      return 1
    }
    if (name === '--help' || name === '-h' || name === 'help') {
      ctx.out.raw(topHelp())
      return 0
    }
    const spec = COMMANDS[name]
    if (!spec || !Object.hasOwn(COMMANDS, name)) throw new UsageError(`unknown command ${name}; massprov-client --help lists them`)
    let parsed
    try {
      parsed = parseArgs({ args: rest, options: { ...spec.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true })
    } catch (err) {
      throw new UsageError(`${(err as Error).message}; massprov-client ${name} --help`)
    }
    if (parsed.values.help === true) {
      ctx.out.raw(commandHelp(name, spec))
      return 0
    }
    if (parsed.positionals.length !== spec.args.length) {
      throw new UsageError(`usage: massprov-client ${name}${spec.args.map((a) => ` ${a}`).join('')}; massprov-client ${name} --help`)
    }
    return await spec.run(ctx, parsed.values as commands.Values, parsed.positionals)
  } catch (err) {
    if (err instanceof HttpError) {
      ctx.out.error(err.status === 401 ? `${err.message} (log in again: massprov-client login)` : err.envelope.errorDetailsCode === DELETIONS_NOT_CONFIRMED ? deletionsRefused(err) : err.message)
      return 1
    }
    if (err instanceof UsageError || err instanceof ClientError) {
      ctx.out.error(err.message)
      return 1
    }
    throw err
  }
}
