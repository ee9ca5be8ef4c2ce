/**
 * HTTP for the model registry, distrusting every answer: no redirect is followed (a
 * registry that answers elsewhere is refused, so an intercepted or hostile answer cannot
 * point the processor at another host), every call has a timeout, and every body is read
 * with a byte cap that aborts the transfer as soon as it is passed — before the body is
 * buffered (JSON) or while it streams to disk (files).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { StreamingError } from '../errors';

/** Largest JSON answer accepted (a model version, a download URI, an artifact listing). */
export const MAX_JSON_BYTES = 1024 * 1024;

export interface RegistryCall {
  url: string;
  timeoutMs: number;
}

/** Where the answer came from, without query strings (they may carry names). */
const shown = (url: string): string => url.replace(/\?.*$/, '');

interface Opened {
  res: Response;
  controller: AbortController;
  /** Clears the deadline; call it once the body is read or dropped. */
  done: () => void;
}

/** Calls the registry; a redirect, a 404 or another error status is a typed error, its body read no further than a short excerpt. */
async function answer(call: RegistryCall): Promise<Opened> {
  const controller = new AbortController();
  // One deadline for the answer and its body.
  const timer = setTimeout(() => controller.abort(new Error(`no complete answer within ${call.timeoutMs} ms`)), call.timeoutMs);
  const done = (): void => clearTimeout(timer);
  let res: Response;
  try {
    res = await fetch(call.url, { signal: controller.signal, redirect: 'manual' });
  } catch (cause) {
    done();
    throw new StreamingError('SA_ERR_MODEL_REGISTRY_UNAVAILABLE', `the model registry did not answer (${shown(call.url)}): ${(cause as Error).message}`, {
      cause,
    });
  }
  if ((res.status >= 300 && res.status < 400) || res.type === 'opaqueredirect') {
    controller.abort();
    done();
    throw new StreamingError(
      'SA_ERR_MODEL_REGISTRY_UNAVAILABLE',
      `the model registry answered ${shown(call.url)} with a redirect (HTTP ${res.status}), which is not followed`,
      {
        retriable: false,
        hint: 'set STREAMING_REALTIME_ML__MLFLOW_TRACKING_URI to the address the tracking server itself answers on (scheme, host and port): registry redirects are refused',
      },
    );
  }
  if (res.ok) return { res, controller, done };
  const excerpt = await readCapped(res, controller, 300, call.url).then(
    (b) => b.toString('utf8'),
    () => '',
  );
  done();
  if (res.status === 404)
    throw new StreamingError('SA_ERR_MODEL_NOT_FOUND', `the model registry has no ${call.url.replace(/^.*\/api\/2\.0/, '')}: ${excerpt}`, {
      hint: 'check the model name, alias or version',
    });
  throw new StreamingError('SA_ERR_MODEL_REGISTRY_UNAVAILABLE', `the model registry answered HTTP ${res.status} to ${shown(call.url)}: ${excerpt}`);
}

/** The body, up to `max` bytes; past it the transfer is aborted and the part read so far returned. */
async function readCapped(res: Response, controller: AbortController, max: number, url: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  await eachChunk(
    res,
    controller,
    max,
    url,
    (chunk) => {
      const room = max - size;
      chunks.push(chunk.subarray(0, room));
      size += Math.min(room, chunk.length);
    },
    false,
  );
  return Buffer.concat(chunks);
}

/**
 * Feeds the body to `take` chunk by chunk. With `strict`, a declared or actual length over
 * `max` is a typed error (the transfer aborted at once); without, the body is cut at `max`.
 */
async function eachChunk(
  res: Response,
  controller: AbortController,
  max: number,
  url: string,
  take: (chunk: Buffer) => void,
  strict: boolean,
): Promise<number> {
  const tooLarge = (size: string): StreamingError =>
    new StreamingError('SA_ERR_MODEL_INVALID', `the model registry's answer to ${shown(url)} is larger than ${max} bytes (${size}); refused`, {
      hint: 'a model (all its files together) may take STREAMING_REALTIME_ML__MAX_MODEL_BYTES; a registry answer (JSON) at most 1 MiB',
    });
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (strict && declared > max) {
    controller.abort();
    throw tooLarge(`it declares ${declared}`);
  }
  if (!res.body) return 0;
  const reader = res.body.getReader();
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return size;
      size += value.byteLength;
      if (size > max) {
        controller.abort();
        if (strict) throw tooLarge('more arrived');
        take(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
        return size;
      }
      take(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    }
  } catch (cause) {
    if (cause instanceof StreamingError) throw cause;
    throw new StreamingError('SA_ERR_MODEL_REGISTRY_UNAVAILABLE', `the model registry's answer to ${shown(url)} broke off: ${(cause as Error).message}`, {
      cause,
    });
  } finally {
    reader.releaseLock();
  }
}

/** A JSON answer of at most MAX_JSON_BYTES, parsed (its shape is the caller's to check). */
export async function getJson(call: RegistryCall): Promise<unknown> {
  const { res, controller, done } = await answer(call);
  try {
    const chunks: Buffer[] = [];
    await eachChunk(res, controller, MAX_JSON_BYTES, call.url, (c) => chunks.push(c), true);
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    } catch (cause) {
      throw new StreamingError('SA_ERR_MODEL_INVALID', `the model registry's answer to ${shown(call.url)} is not JSON`, { cause });
    }
  } finally {
    done();
  }
}

/** Streams a file of at most `maxBytes` to `file` (created new); returns its size. */
export async function downloadTo(call: RegistryCall, file: string, maxBytes: number): Promise<number> {
  const { res, controller, done } = await answer(call);
  const fd = openSync(file, 'wx');
  try {
    return await eachChunk(res, controller, maxBytes, call.url, (c) => void writeSync(fd, c), true);
  } finally {
    closeSync(fd);
    done();
  }
}
