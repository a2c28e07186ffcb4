/**
 * A small typed event emitter whose listeners cannot break it (like mediasoup's `safeEmit`): a
 * listener that throws is caught, the remaining listeners still run, and the error goes to
 * `onListenerError`. Listeners may add or remove listeners while an event is being emitted; the
 * change applies from the next emit.
 *
 * `Events` maps each event name to its single payload type.
 */
export type Listener<T> = (payload: T) => void;

/** Where the error thrown by a listener goes. */
export type ListenerErrorHandler<Events> = (error: unknown, event: keyof Events & string) => void;

export interface TypedEmitterOptions<Events> {
  /** Called with whatever a listener threw. Default: `console.error`. Errors thrown by this handler are swallowed. */
  onListenerError?: ListenerErrorHandler<Events>;
}

export class TypedEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Array<Listener<never>>>();
  readonly #onListenerError: ListenerErrorHandler<Events>;

  constructor(options: TypedEmitterOptions<Events> = {}) {
    this.#onListenerError = options.onListenerError ?? ((error, event) => console.error(`livecart: a "${event}" listener threw`, error));
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events & string>(event: K, listener: Listener<Events[K]>): () => void {
    const list = this.#listeners.get(event);
    // Copy on write: an emit in progress keeps iterating its own snapshot.
    this.#listeners.set(event, list ? [...list, listener] : [listener]);
    return () => this.off(event, listener);
  }

  /** Adds a listener that is removed before its first call. */
  once<K extends keyof Events & string>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  /** Removes one registration of `listener` (the most recent one if it was added twice). */
  off<K extends keyof Events & string>(event: K, listener: Listener<Events[K]>): void {
    const list = this.#listeners.get(event);
    if (!list) return;
    const index = list.lastIndexOf(listener as Listener<never>);
    if (index === -1) return;
    const next = list.filter((_, i) => i !== index);
    if (next.length === 0) this.#listeners.delete(event);
    else this.#listeners.set(event, next);
  }

  /** Removes every listener of `event`, or of all events. */
  removeAllListeners(event?: keyof Events & string): void {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
  }

  listenerCount(event: keyof Events & string): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /**
   * Calls every listener of `event` with `payload`, in registration order. Never throws: a throwing
   * listener is reported to `onListenerError`. Returns true when the event had listeners.
   */
  emit<K extends keyof Events & string>(event: K, payload: Events[K]): boolean {
    const list = this.#listeners.get(event) as Array<Listener<Events[K]>> | undefined;
    if (!list) return false;
    for (const listener of list) {
      try {
        listener(payload);
      } catch (error) {
        try {
          this.#onListenerError(error, event);
        } catch {
          // The error handler itself failed; nothing sensible is left to do.
        }
      }
    }
    return true;
  }
}
