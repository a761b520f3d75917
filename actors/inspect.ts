// `--inspect`: streams XState inspection events of the host's actors to a Stately inspector over
// WebSocket (@statelyai/inspect's createInspector with a WebSocket adapter of ours).
//
// Our adapter instead of the package's createWebSocketInspector, whose socket and 5 s reconnect
// timer are referenced (they keep a process alive forever when no inspector listens) and which
// serializes and buffers every event while nobody listens. Here: the socket and the reconnect timer
// are unref'd, and events are dropped before any serialization unless a socket is open, so an
// inspector that nobody listens to costs one boolean test per inspection event.
import { createConnection, type NetConnectOpts } from 'node:net';
import { createInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import WebSocket from 'ws';
import type { InspectionEvent, Observer } from 'xstate';

export const DEFAULT_INSPECT_URL = 'ws://127.0.0.1:8080';

export interface HostInspector {
  /** Pass to `createActor(machine, { inspect })`. */
  readonly observer: Observer<InspectionEvent>;
  /** True while a WebSocket to the inspector is open. */
  readonly connected: boolean;
  /**
   * Stops reconnecting and closes the socket, after the events already queued were sent (the
   * package converts events on a later macrotask). Never blocks process exit.
   */
  stop(): Promise<void>;
}

/** A TCP connection that does not keep the process alive. */
const unrefConnection = ((opts: NetConnectOpts) => {
  const socket = createConnection(opts);
  socket.unref();
  return socket;
}) as typeof createConnection;

class UnrefWebSocketAdapter {
  #ws: WebSocket | undefined;
  #open = false;
  #stopped = true;
  #retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly retryMs: number,
  ) {}

  get open(): boolean {
    return this.#open;
  }

  start(): void {
    this.#stopped = false;
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#open = false;
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws === undefined) return;
    if (ws.readyState === WebSocket.OPEN) {
      ws.close(1000);
      setTimeout(() => ws.terminate(), 1000).unref();
    } else ws.terminate();
  }

  send(event: StatelyInspectionEvent): void {
    if (this.#open) this.#ws?.send(JSON.stringify(event));
  }

  #connect(): void {
    if (this.#stopped) return;
    const ws = new WebSocket(this.url, {
      createConnection: unrefConnection,
    });
    this.#ws = ws;
    ws.on('open', () => (this.#open = true));
    ws.on('error', () => undefined);
    ws.on('close', () => {
      this.#open = false;
      if (this.#ws !== ws || this.#stopped) return;
      this.#retry = setTimeout(() => this.#connect(), this.retryMs);
      this.#retry.unref();
    });
  }
}

/** An inspector streaming to `url`; it connects (and reconnects every `retryMs`) in the background. */
export function createHostInspector(url: string = DEFAULT_INSPECT_URL, retryMs = 5000): HostInspector {
  const adapter = new UnrefWebSocketAdapter(url, retryMs);
  const inspector = createInspector(adapter, { autoStart: false });
  inspector.start();
  return {
    observer: {
      next: (event) => {
        if (adapter.open) inspector.inspect.next?.(event);
      },
    },
    get connected() {
      return adapter.open;
    },
    stop: async () => {
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
      inspector.stop();
    },
  };
}

/**
 * The inspector URL given by `--inspect` (DEFAULT_INSPECT_URL) or `--inspect=URL` in `argv`, or
 * undefined when the flag is absent (inspection off).
 */
export function parseInspectFlag(argv: readonly string[]): string | undefined {
  let url: string | undefined;
  for (const a of argv) {
    if (a === '--inspect') url = DEFAULT_INSPECT_URL;
    else if (a.startsWith('--inspect=')) url = a.slice('--inspect='.length) || DEFAULT_INSPECT_URL;
  }
  return url;
}
