// Public API of the DNSSEC engine.
export * from './algorithms.ts';
export * from './bindkeys.ts';
export * from './ds.ts';
export * from './errors.ts';
export * from './keys.ts';
export * from './keytag.ts';
export * from './rrsig.ts';
export * from './sign.ts';
export * from './verify.ts';
export * from './bitmap.ts';
export * from './nsec.ts';
export * from './nsec3.ts';
export * from './signer.ts';
export * from './namekeys.ts';
export * from './answer.ts';
export * from './present.ts';
export * from './source.ts';
