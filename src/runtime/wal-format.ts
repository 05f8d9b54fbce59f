/**
 * The record format of the write-ahead log: a 4-byte little-endian payload length, the payload's
 * CRC-32 (4 bytes, little-endian), then the payload. A scan reads records until the first one
 * that does not check out. A crash mid-append leaves a prefix of one record at the end (or, on
 * file systems that extend the size before the data lands, zeros): that is a torn tail, cut off
 * at the next start. A bad record with intact-looking data after it is not something a crash
 * makes (see scanLog); the log is corrupt and the node must not guess what it had promised.
 */
import * as zlib from 'node:zlib';

export const HEADER_BYTES = 8;
/** Far above any durable context; a larger length is garbage, not a record. */
export const MAX_RECORD_BYTES = 1 << 24;

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** The table-driven CRC-32, for a Node without zlib's (before 20.15). */
export function crc32Table(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-32 (IEEE 802.3, as zlib and gzip compute it): zlib's native one where Node has it. */
export const crc32: (bytes: Uint8Array) => number = (zlib as { crc32?: (bytes: Uint8Array) => number }).crc32 ?? crc32Table;

/** One record, header included. */
export function encodeRecord(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  out.set(payload, HEADER_BYTES);
  return out;
}

export interface LogScan {
  /** Payloads of the records that check out, in order. */
  records: Buffer[];
  /** Where the last good record ends: the log's length once a torn tail is cut. */
  end: number;
  /** `torn`: bytes after `end` a crash may leave; `corrupt`: a bad record with more after it. */
  tail: 'clean' | 'torn' | 'corrupt';
}

/** Whether a record that checks out starts at `at`; its end if so. */
function recordAt(data: Buffer, at: number): number | null {
  if (data.length - at < HEADER_BYTES) return null;
  const length = data.readUInt32LE(at);
  const stop = at + HEADER_BYTES + length;
  if (length === 0 || length > MAX_RECORD_BYTES || stop > data.length) return null;
  return crc32(data.subarray(at + HEADER_BYTES, stop)) === data.readUInt32LE(at + 4) ? stop : null;
}

/**
 * Reads the records of one log. Flushes are sequential and each ends with fdatasync, so a record
 * that checks out after a bad one proves the bad one was once durable: corruption, not a tear.
 */
export function scanLog(data: Buffer): LogScan {
  const records: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const stop = recordAt(data, at);
    if (stop === null) {
      for (let later = at + 1; later < data.length; later++) if (recordAt(data, later) !== null) return { records, end: at, tail: 'corrupt' };
      return { records, end: at, tail: 'torn' };
    }
    records.push(data.subarray(at + HEADER_BYTES, stop));
    at = stop;
  }
  return { records, end: at, tail: 'clean' };
}
