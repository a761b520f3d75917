// `--inspect`: streams the host's actors to a Stately inspector over WebSocket
// (@statelyai/inspect's createInspector with a WebSocket adapter of ours).
//
// Not the package's createWebSocketInspector: its socket and its 5 s reconnect timer are referenced
// (a process with no inspector listening never exits) and it serializes and buffers every event
// while nobody listens. Not XState's `inspect` actor option either: with an observer attached,
// XState builds an inspection event for every event, microstep and action: measured on the test
// machine, send went from 12 to 18-21 us with an observer that drops everything, and to 32 us
// with the package's `inspect.next` (it also schedules a timer per event). Instead the host reports
// each processed event and resulting snapshot itself, and only while a socket is open; the socket
// and the reconnect timer are unref'd. Nobody listening costs one boolean test per event.
import { createConnection, type NetConnectOpts } from 'node:net';
import { createInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import WebSocket from 'ws';
import type { AnyActorRef, AnyEventObject } from 'xstate';

export const DEFAULT_INSPECT_URL = 'ws://127.0.0.1:8080';

export interface HostInspector {
  /** True while a WebSocket to the inspector is open; the host reports nothing otherwise. */
  readonly connected: boolean;
  /** Reports that `actor` processed `event` and is now at its current snapshot. */
  transition(actor: AnyActorRef, event: AnyEventObject): void;
  /**
   * Stops reconnecting and closes the socket after what was sent so far. Never blocks process
   * exit, whether or not it is called.
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
  /** Incremented on every opened connection. */
  generation = 0;

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
    ws.on('open', () => {
      this.generation++;
      this.#open = true;
    });
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
  // Actors announced on the current connection (announced again after a reconnect).
  let announced = new WeakSet<AnyActorRef>();
  let generation = adapter.generation;
  return {
    get connected() {
      return adapter.open;
    },
    transition(actor, event) {
      if (!adapter.open) return;
      if (generation !== adapter.generation) {
        generation = adapter.generation;
        announced = new WeakSet();
      }
      if (!announced.has(actor)) {
        announced.add(actor);
        inspector.actor(actor, actor.getSnapshot() as object);
      }
      inspector.event(actor, event);
      inspector.snapshot(actor, actor.getSnapshot() as object, { event });
    },
    stop: () => {
      inspector.stop();
      return Promise.resolve();
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
