/** Frames of the `malformed` fault: every venue's clients get these, then the protocol's venue-looking ones. */

/** A malformed frame: text, or bytes sent as a binary frame or as a text frame that is not UTF-8. */
export type MalformedFrame = string | { bytes: Buffer; binary: boolean };

/** Malformed frames any JSON venue client must survive. */
export const GENERIC_MALFORMED: readonly MalformedFrame[] = ['{"truncated":', '{}', '[]', 'null', { bytes: Buffer.from([0xde, 0xad, 0xbe, 0xef]), binary: true }];

/** `{"kind":"malformed","invalidUtf8":true}` adds a text frame whose bytes are not UTF-8. */
export const INVALID_UTF8: MalformedFrame = { bytes: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), binary: false };
