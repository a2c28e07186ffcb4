import type { NodeSignature } from '../auth/NodeSignature.ts';
import { type PipeConsumed, type PipeFull, type PipeLink, PipeLinkError, type PipeOpened } from '../media/PipeLink.ts';
import { PIPE_PATHS } from './MediaPipeApi.ts';

/** Calls another node's pipe routes (MediaPipeApi) over HTTP, signed; every call gives up after `timeoutMs`. */
export class MediaPipeClient implements PipeLink {
  readonly #signature: NodeSignature;
  readonly #timeoutMs: number;

  constructor(signature: NodeSignature, timeoutMs: number) {
    this.#signature = signature;
    this.#timeoutMs = timeoutMs;
  }

  open(url: string, request: Parameters<PipeLink['open']>[1]): Promise<PipeOpened | PipeFull> {
    return this.#call(url, PIPE_PATHS.open, request) as Promise<PipeOpened | PipeFull>;
  }

  consume(url: string, request: Parameters<PipeLink['consume']>[1]): Promise<PipeConsumed> {
    return this.#call(url, PIPE_PATHS.consume, request) as Promise<PipeConsumed>;
  }

  async keepalive(url: string, ref: Parameters<PipeLink['keepalive']>[1]): Promise<void> {
    await this.#call(url, PIPE_PATHS.keepalive, ref);
  }

  async close(url: string, ref: Parameters<PipeLink['close']>[1]): Promise<void> {
    await this.#call(url, PIPE_PATHS.close, ref);
  }

  async stopStream(url: string, roomId: string, reason: string): Promise<void> {
    await this.#call(url, PIPE_PATHS.stopStream, { roomId, reason });
  }

  async #call(url: string, path: string, payload: unknown): Promise<unknown> {
    const body = JSON.stringify(payload);
    let response: Response;
    try {
      response = await fetch(`${url.replace(/\/+$/, '')}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: this.#signature.sign('POST', path, body) },
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw new PipeLinkError('unreachable', `${url} did not answer: ${(error as Error).message}`);
    }
    const answer = (await response.json().catch(() => undefined)) as { error?: { name?: string; message?: string } } | undefined;
    if (response.ok && answer !== undefined) return answer;
    const name = answer?.error?.name ?? `HTTP ${response.status}`;
    throw new PipeLinkError(name === 'MEDIA_NOT_FOUND' ? 'gone' : 'refused', `${url}${path}: ${name}: ${answer?.error?.message ?? ''}`);
  }
}
