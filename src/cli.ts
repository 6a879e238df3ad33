import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import pino from 'pino'
import { openRuntime } from './bootstrap.js'
import { ConfigError, loadConfig } from './config.js'
import { DataDirLockedError } from './db/data-dir-lock.js'
import { listLiveUsers, setUserJid, SUPERADMIN_RANK } from './db/users-repository.js'
import { findCompany } from './db/companies-repository.js'
import { migrate } from './db/migrate.js'
import { isUniqueViolation } from './db/db.js'
import { deriveSecretsKey } from './services/app-credentials.js'
import { ApiKeyError, createApiKeyService } from './services/api-keys.js'
import { ApplicationNotFoundError, createApplicationService } from './services/applications.js'
import { RedirectUriError } from './services/redirect-uris.js'
import { InventoryError, loadInventory, parseInventory } from './services/pbx-inventory.js'
import { loadCloudPbx, parseDdis, parseDevices, parseRanges, parseServices } from './services/cloudpbx-inventory.js'
import { ADMIN_ROLES, TenantError, createTenantService, type AdminRole } from './services/tenants.js'
import { toUserView } from './services/user-view.js'
import { ID_PATTERN } from './util/ids.js'
import { createLogger } from './logger.js'
import { readPassword, SecretInputError } from './cli-secret.js'
import { rekeySecrets, SecretsKeyError } from './services/secrets-key.js'
import { seedDemo } from './services/demo-seed.js'
import { cancelImport } from './provisioning/import-end.js'
import { importView } from './provisioning/reports.js'
import type { Runtime } from './bootstrap.js'
import type { Config } from './config.js'

class UsageError extends Error {}

const USAGE = `usage: massprov <command> [options]   (database chosen by the environment, as for the server)
  migrate
  create-company --name N [--organization O]
  create-admin   --company ID --email E --role ${ADMIN_ROLES.join('|')} [--jid J]
                 (the password from MASSPROV_PASSWORD, else stdin: never on the command line, where ps shows it)
  set-jid        --email E --jid J                          (where the user's command_ended notifications go)
  create-app     --name N [--redirect-uri U]... [--public]
                 (with --redirect-uri it is an OAuth client: confidential, with a client secret shown once, unless --public)
  update-app     --app-id ID [--redirect-uri U]... [--public | --confidential]
                 (--redirect-uri replaces the list; --confidential issues a new client secret, shown once)
  create-api-key --user ID                                  (a key for the SDK's API-key mode, shown once)
  list-api-keys  --user ID                                  (ids and dates, never the keys)
  revoke-api-key --key-id ID
  load-pbx       --company ID --pbx PBXID --file F.csv     (lines shortNumber;internalNumber;number)
  load-cloudpbx  --company ID [--numbering 8000-8999]... [--devices F.csv] [--ddis F.csv] [--service "Name=count"]...
                 (Rainbow Voice inventory, idempotent; devices header macAddress;model, DDI header number)
  list-users     --company ID [--limit N] [--offset N]
  rekey-secrets  [--from previous|jwt-secret]                (re-encrypt application secrets under SECRETS_KEY)
  cancel-import  --req-id ID                               (ends a Pending import as Cancelled; applied lines stay)
  seed-demo`

type Args = Record<string, string | undefined> & { multi: Record<string, string[] | undefined>, flags: Record<string, boolean> }
type Command = (rt: Runtime, args: Args, config: Config, password?: string) => Promise<unknown>

function need (args: Record<string, string | undefined>, name: string): string {
  const v = args[name]
  if (v === undefined || v.trim() === '') throw new UsageError(`--${name} is required`)
  return v
}

function anId (args: Record<string, string | undefined>, name: string): string {
  const v = need(args, name)
  if (!ID_PATTERN.test(v)) throw new UsageError(`--${name} must be a 24-character hexadecimal id`)
  return v
}

/** `secret`: the command needs a password, read by readPassword before the database is opened. */
/** `multi`: repeatable options; `flags`: options without a value. */
const COMMANDS: Record<string, { options: string[], multi?: string[], flags?: string[], required?: string[], secret?: boolean, run: Command }> = {
  migrate: {
    options: [],
    // Opening the runtime already migrated: report what it applied, not only what is left now.
    run: async (rt) => ({ applied: [...rt.migrationsApplied, ...await migrate(rt.db)] }),
  },
  'create-company': {
    options: ['name', 'organization'],
    required: ['name'],
    run: (rt, a, c) => rt.db.transaction(async (tx) => {
      const { companyId } = await createTenantService({ db: rt.db, xmppDomain: c.XMPP_DOMAIN })
        .createCompany({ name: need(a, 'name'), organization: a.organization }, tx)
      return { companyId }
    }),
  },
  'create-admin': {
    options: ['company', 'email', 'role', 'jid'],
    required: ['company', 'email', 'role'],
    secret: true,
    run: (rt, a, c, password) => rt.db.transaction(async (tx) => {
      const role = need(a, 'role')
      if (!(ADMIN_ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${ADMIN_ROLES.join(', ')}`)
      const { userId } = await createTenantService({ db: rt.db, xmppDomain: c.XMPP_DOMAIN }).createAdmin({
        companyId: need(a, 'company'), email: need(a, 'email'), password: password!, role: role as AdminRole, jid: a.jid,
      }, tx)
      return { userId }
    }),
  },
  'set-jid': {
    options: ['email', 'jid'],
    required: ['email', 'jid'],
    run: async (rt, a) => {
      const jid = need(a, 'jid').trim()
      if (!/^[^@/\s]+@[^@/\s]+$/.test(jid)) throw new UsageError('--jid must be a bare JID, like name@xmpp.example.com')
      try {
        if (!(await setUserJid(rt.db, need(a, 'email'), jid))) throw new UsageError(`no user with login ${need(a, 'email')}`)
      } catch (err) {
        if (isUniqueViolation(err)) throw new UsageError(`JID ${jid} already belongs to another user`)
        throw err
      }
      return { email: need(a, 'email').toLowerCase(), jid }
    },
  },
  'create-app': {
    options: ['name'],
    multi: ['redirect-uri'],
    flags: ['public'],
    required: ['name'],
    run: async (rt, a) => {
      const redirectUris = a.multi['redirect-uri'] ?? []
      if (a.flags.public && redirectUris.length === 0) throw new UsageError('--public needs at least one --redirect-uri')
      const created = await oauthUsage(() => rt.db.transaction((tx) =>
        createApplicationService({ db: tx, secretsKey: deriveSecretsKey(rt.secretsKey) }).create(need(a, 'name'), { redirectUris, public: a.flags.public })))
      return redirectUris.length > 0 ? { ...created, clientId: created.appId, clientType: a.flags.public ? 'public' : 'confidential', redirectUris } : created
    },
  },
  'update-app': {
    options: ['app-id'],
    multi: ['redirect-uri'],
    flags: ['public', 'confidential'],
    required: ['app-id'],
    run: async (rt, a) => {
      if (a.flags.public && a.flags.confidential) throw new UsageError('--public and --confidential exclude each other')
      const redirectUris = a.multi['redirect-uri']
      const kind = a.flags.public ? true : a.flags.confidential ? false : undefined
      if (redirectUris === undefined && kind === undefined) throw new UsageError('nothing to change: give --redirect-uri, --public or --confidential')
      return oauthUsage(() => rt.db.transaction((tx) =>
        createApplicationService({ db: tx, secretsKey: deriveSecretsKey(rt.secretsKey) })
          .updateOAuth(need(a, 'app-id'), { redirectUris, public: kind })))
    },
  },
  'create-api-key': {
    options: ['user'],
    required: ['user'],
    run: (rt, a) => createApiKeyService(rt.db).create(anId(a, 'user')),
  },
  'list-api-keys': {
    options: ['user'],
    required: ['user'],
    run: async (rt, a) => ({ userId: anId(a, 'user'), keys: await createApiKeyService(rt.db).list(anId(a, 'user')) }),
  },
  'revoke-api-key': {
    options: ['key-id'],
    required: ['key-id'],
    run: (rt, a) => createApiKeyService(rt.db).revoke(anId(a, 'key-id')),
  },
  'load-pbx': {
    options: ['company', 'pbx', 'file', 'name'],
    required: ['company', 'pbx', 'file'],
    run: (rt, a) => {
      const numbers = parseInventory(readText(need(a, 'file')))
      return rt.db.transaction((tx) => loadInventory(tx, { companyId: need(a, 'company'), pbxId: need(a, 'pbx'), numbers, name: a.name }))
    },
  },
  'load-cloudpbx': {
    options: ['company', 'devices', 'ddis'],
    multi: ['numbering', 'service'],
    required: ['company'],
    run: (rt, a) => {
      const input = {
        companyId: anId(a, 'company'),
        ranges: parseRanges(a.multi.numbering ?? []),
        devices: a.devices === undefined ? [] : parseDevices(readText(a.devices)),
        ddis: a.ddis === undefined ? [] : parseDdis(readText(a.ddis)),
        services: parseServices(a.multi.service ?? []),
      }
      return rt.db.transaction((tx) => loadCloudPbx(tx, input))
    },
  },
  'list-users': {
    options: ['company', 'limit', 'offset'],
    required: ['company'],
    run: async (rt, a) => {
      const limit = Number(a.limit ?? 1000)
      const offset = Number(a.offset ?? 0)
      if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0) throw new UsageError('--limit and --offset must be non-negative integers')
      const companyId = need(a, 'company')
      if (!(await findCompany(rt.db, companyId))) throw new UsageError(`company ${companyId} does not exist`)
      const page = await listLiveUsers(rt.db, companyId, { limit, offset }, SUPERADMIN_RANK)
      return { total: page.total, users: page.rows.map((u) => toUserView(u)) }
    },
  },
  'rekey-secrets': {
    options: ['from'],
    run: async (rt, a, c) => {
      const from = a.from ?? 'previous'
      if (from !== 'previous' && from !== 'jwt-secret') throw new UsageError('--from must be previous (SECRETS_KEY_PREVIOUS) or jwt-secret (the key derived from JWT_SECRET before SECRETS_KEY was required)')
      if (from === 'previous' && !c.SECRETS_KEY_PREVIOUS) throw new UsageError('set SECRETS_KEY_PREVIOUS to the key the secrets are encrypted under (or use --from jwt-secret)')
      const source = deriveSecretsKey(from === 'previous' ? c.SECRETS_KEY_PREVIOUS! : rt.jwtSecret)
      return rekeySecrets(rt.db, source, deriveSecretsKey(rt.secretsKey))
    },
  },
  'cancel-import': {
    options: ['req-id'],
    required: ['req-id'],
    run: async (rt, a) => {
      const reqId = need(a, 'req-id').trim().toLowerCase()
      const r = await cancelImport(rt.db, reqId, 'the operator (massprov cancel-import)')
      if (!r.imp) throw new UsageError(`no import with reqId ${reqId}`)
      if (!r.ended) throw new UsageError(`import ${reqId} has already ended (${r.imp.status}); there is nothing to cancel`)
      return importView(r.imp)
    },
  },
  'seed-demo': {
    options: [],
    run: async (rt, _a, c) => (await seedDemo(rt.db, { secretsKey: deriveSecretsKey(rt.secretsKey), xmppDomain: c.XMPP_DOMAIN })) ??
      { seeded: false, reason: 'the database already holds a company' },
  },
}

function readText (file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`)
  }
}

/** A refused redirect URI or an unknown application is the operator's mistake, said as such. */
async function oauthUsage<T> (fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof RedirectUriError || err instanceof ApplicationNotFoundError) throw new UsageError(err.message)
    throw err
  }
}

async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  const command = name ? COMMANDS[name] : undefined
  if (!command) {
    process.stderr.write(`${name && name !== '--help' ? `massprov: unknown command "${name}"\n` : ''}${USAGE}\n`)
    return name === '--help' ? 0 : 2
  }
  let runtime: Runtime | undefined
  try {
    if (command.secret && rest.some((a) => a === '--password' || a.startsWith('--password='))) {
      throw new UsageError('--password is refused: a password on the command line is visible to every user of the machine (ps). Send it on stdin or in MASSPROV_PASSWORD')
    }
    const { values } = parseArgs({
      args: rest,
      options: {
        ...Object.fromEntries(command.options.map((o) => [o, { type: 'string' as const }])),
        ...Object.fromEntries((command.multi ?? []).map((o) => [o, { type: 'string' as const, multiple: true }])),
        ...Object.fromEntries((command.flags ?? []).map((o) => [o, { type: 'boolean' as const }])),
      },
      strict: true,
      allowPositionals: false,
    })
    // Checked before the database is opened: a usage mistake should not wait for PGlite to start.
    const strings = Object.fromEntries(command.options.map((o) => [o, values[o] as string | undefined]))
    const args: Args = Object.assign(strings, {
      multi: Object.fromEntries((command.multi ?? []).map((o) => [o, values[o] as string[] | undefined])),
      flags: Object.fromEntries((command.flags ?? []).map((o) => [o, values[o] === true])),
    })
    for (const option of command.required ?? []) need(args, option)
    const password = command.secret ? await readPassword(process.env.MASSPROV_PASSWORD) : undefined
    const config = loadConfig(process.env)
    // Logs go to stderr: stdout carries only the command's JSON answer. The server's redaction applies.
    const logger = createLogger({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL }, pino.destination(2))
    runtime = await openRuntime(config, logger, { migrate: true })
    const result = await command.run(runtime, args, config, password)
    process.stdout.write(JSON.stringify(result, null, 2) + '\n')
    return 0
  } catch (err) {
    const known = err instanceof UsageError || err instanceof SecretInputError || err instanceof SecretsKeyError || err instanceof TenantError || err instanceof InventoryError || err instanceof ApiKeyError ||
      err instanceof ConfigError || err instanceof DataDirLockedError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    process.stderr.write(`massprov ${name}: ${known ? (err as Error).message : (err as Error).stack ?? String(err)}\n`)
    if (err instanceof UsageError) process.stderr.write(`${USAGE}\n`)
    return known ? 1 : 3
  } finally {
    await runtime?.close()
  }
}

process.exitCode = await main(process.argv.slice(2))
