import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { TypedEmitter } from '../../client/src/index.ts';

interface Events {
  greet: { name: string };
  count: number;
}

describe('TypedEmitter', () => {
  it('calls listeners in order with the payload and reports whether any listened', () => {
    const emitter = new TypedEmitter<Events>();
    const calls: string[] = [];
    emitter.on('greet', (p) => calls.push(`a:${p.name}`));
    emitter.on('greet', (p) => calls.push(`b:${p.name}`));
    expect(emitter.emit('greet', { name: 'Ann' })).toBe(true);
    expect(emitter.emit('count', 1)).toBe(false);
    expect(calls).toEqual(['a:Ann', 'b:Ann']);
  });

  it('types payloads per event', () => {
    const emitter = new TypedEmitter<Events>();
    emitter.on('count', (n) => expectTypeOf(n).toEqualTypeOf<number>());
    // @ts-expect-error wrong payload type
    emitter.emit('count', 'one');
    // @ts-expect-error unknown event
    emitter.on('nope', () => undefined);
  });

  it('removes listeners with off() and with the returned function', () => {
    const emitter = new TypedEmitter<Events>();
    const a = vi.fn();
    const b = vi.fn();
    emitter.on('count', a);
    const offB = emitter.on('count', b);
    emitter.off('count', a);
    offB();
    emitter.emit('count', 1);
    expect(a).not.toHaveBeenCalled();
    expect(b).not.toHaveBeenCalled();
    expect(emitter.listenerCount('count')).toBe(0);
  });

  it('once() fires a single time', () => {
    const emitter = new TypedEmitter<Events>();
    const fn = vi.fn();
    emitter.once('count', fn);
    emitter.emit('count', 1);
    emitter.emit('count', 2);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(fn).toHaveBeenCalledWith(1);
  });

  it('survives a throwing listener: the others run and the error is reported', () => {
    const onListenerError = vi.fn();
    const emitter = new TypedEmitter<Events>({ onListenerError });
    const after = vi.fn();
    const boom = new Error('boom');
    emitter.on('count', () => {
      throw boom;
    });
    emitter.on('count', after);
    expect(() => emitter.emit('count', 7)).not.toThrow();
    expect(after).toHaveBeenCalledWith(7);
    expect(onListenerError).toHaveBeenCalledWith(boom, 'count');
  });

  it('survives a throwing error handler too', () => {
    const emitter = new TypedEmitter<Events>({
      onListenerError: () => {
        throw new Error('handler broke');
      },
    });
    const after = vi.fn();
    emitter.on('count', () => {
      throw new Error('boom');
    });
    emitter.on('count', after);
    expect(() => emitter.emit('count', 1)).not.toThrow();
    expect(after).toHaveBeenCalled();
  });

  it('reports to console.error by default', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const emitter = new TypedEmitter<Events>();
    emitter.on('count', () => {
      throw new Error('boom');
    });
    emitter.emit('count', 1);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
  });

  it('applies listener changes made during an emit from the next emit on', () => {
    const emitter = new TypedEmitter<Events>();
    const late = vi.fn();
    const second = vi.fn();
    emitter.on('count', () => {
      emitter.on('count', late);
      emitter.off('count', second);
    });
    emitter.on('count', second);
    emitter.emit('count', 1);
    expect(late).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledTimes(1); // the snapshot of this emit still held it
    emitter.emit('count', 2);
    expect(late).toHaveBeenCalledWith(2);
    expect(second).toHaveBeenCalledTimes(1);
  });

  it('removes one registration of a listener added twice', () => {
    const emitter = new TypedEmitter<Events>();
    const fn = vi.fn();
    emitter.on('count', fn);
    emitter.on('count', fn);
    emitter.off('count', fn);
    emitter.emit('count', 1);
    expect(fn).toHaveBeenCalledTimes(1);
    emitter.removeAllListeners();
    expect(emitter.emit('count', 1)).toBe(false);
  });
});
