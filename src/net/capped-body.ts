/**
 * Reading an HTTP answer whose size the other side controls: at most `max` bytes, counted
 * as they arrive (a declared length is checked first, but never trusted), the transfer
 * cancelled past the cap — so no answer is buffered beyond what the caller allows.
 */
export class BodyTooLarge extends Error {}

export async function readCapped(res: Response, max: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > max) {
    await res.body?.cancel();
    throw new BodyTooLarge(`the answer is ${declared} bytes, more than ${max} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  for (;;) {
    const r = await reader?.read();
    if (!r || r.done) break;
    size += r.value.byteLength;
    if (size > max) {
      await reader!.cancel();
      throw new BodyTooLarge(`the answer is more than ${max} bytes`);
    }
    chunks.push(r.value);
  }
  return Buffer.concat(chunks);
}
