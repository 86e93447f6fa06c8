/**
 * A string of its own: a value cut from a document's text may be a slice that keeps the whole text alive, and
 * what long-lived maps (caches, the key store, duplicate detectors) hold lives as long as they do.
 */
export const ownCopy = (v: string): string => Buffer.from(v, 'utf16le').toString('utf16le');
