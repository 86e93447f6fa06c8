/** Types of scripts/lib/free-port.mjs. */
export declare function freePort(): Promise<number>;
