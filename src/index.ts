/** fiscal-engine public API. */
export * from './errors.js';
export * from './common/check-digits.js';
