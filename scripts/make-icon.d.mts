/** Types of scripts/make-icon.mjs, for the tests. */
export declare const SIZE: number;
/** The icon as PNG bytes. */
export declare function drawIcon(): Buffer;
