/** Frames of the `malformed` fault (every venue; the protocol adds venue-looking ones after these). */

/** Malformed frames any JSON venue client must survive; the protocol adds venue-looking ones. */
export const GENERIC_MALFORMED: (string | Buffer)[] = ['{"truncated":', '{}', '[]', 'null', Buffer.from([0xde, 0xad, 0xbe, 0xef])];
