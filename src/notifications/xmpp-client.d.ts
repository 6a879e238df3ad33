// @xmpp/client ships no types: the part of its surface this project uses.
declare module '@xmpp/client' {
  export interface Element {
    name: string
    attrs: Record<string, string | undefined>
    children: Array<Element | string>
    is (name: string, xmlns?: string): boolean
    getChild (name: string, xmlns?: string): Element | undefined
    getChildren (name: string, xmlns?: string): Element[]
    toString (): string
  }

  export function xml (name: string, attrs?: Record<string, string | number | undefined> | null, ...children: Array<Element | string>): Element

  export interface Jid { local: string, domain: string, resource: string, bare (): Jid, toString (): string }

  export interface XmppClient {
    status: string
    jid?: Jid
    timeout: number
    reconnect: { stop (): void, delay: number }
    iqCaller: { request (stanza: Element, timeoutMs?: number): Promise<Element> }
    start (): Promise<Jid>
    stop (): Promise<unknown>
    send (stanza: Element): Promise<void>
    on (event: 'error', cb: (err: Error & { condition?: string }) => void): this
    on (event: 'stanza', cb: (stanza: Element) => void): this
    on (event: 'online', cb: (jid: Jid) => void): this
    on (event: 'offline' | 'disconnect', cb: (...args: unknown[]) => void): this
    on (event: 'status', cb: (status: string) => void): this
    removeAllListeners (event?: string): this
  }

  export function client (options: {
    service: string
    domain?: string
    resource?: string
    username?: string
    password?: string
    timeout?: number
  }): XmppClient
}
