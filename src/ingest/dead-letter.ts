import { isUtf8 } from 'node:buffer';
import type { DeadLetter, DeadLetterReason } from '../contract/reading.js';

const MAX_PAYLOAD_BYTES = 4096;
const MAX_DETAIL_CHARS = 512;

/** Payload as UTF-8 when it is text, else base64 with a "base64:" prefix; both cut to 4 KiB. */
export function payloadText(payload: Buffer): string {
  const head = payload.length > MAX_PAYLOAD_BYTES ? payload.subarray(0, MAX_PAYLOAD_BYTES) : payload;
  if (isUtf8(payload) || (payload.length > MAX_PAYLOAD_BYTES && isUtf8(trimPartialChar(head)))) return trimPartialChar(head).toString('utf8');
  return `base64:${head.toString('base64')}`;
}

/** Drops a multi-byte character cut in half at the end of a truncated payload. */
function trimPartialChar(head: Buffer): Buffer {
  let end = head.length;
  for (let i = 1; i <= 3 && end - i >= 0; i++) {
    const byte = head[end - i] ?? 0;
    if ((byte & 0xc0) === 0x80) continue;
    if (byte >= 0xc0) {
      const width = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      if (i < width) end -= i;
    }
    break;
  }
  return head.subarray(0, end);
}

export function makeDeadLetter(topic: string, payload: Buffer, reason: DeadLetterReason, detail: string | undefined, ts: number): DeadLetter {
  const cut = detail && detail.length > MAX_DETAIL_CHARS ? `${detail.slice(0, MAX_DETAIL_CHARS)}...` : detail;
  return cut === undefined ? { topic: topic.slice(0, 1024), reason, payload: payloadText(payload), ts } : { topic: topic.slice(0, 1024), reason, payload: payloadText(payload), detail: cut, ts };
}
