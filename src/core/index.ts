/**
 * core: records, keys, durations, codecs, and SluiceError with its codes.
 * Imports nothing else of Sluice; every other folder may import it.
 */
export * from './codec.ts';
export * from './duration.ts';
export * from './errors.ts';
export * from './json-infinity.ts';
export * from './murmur2.ts';
export * from './record.ts';
export * from './process-owner.ts';
export * from './kafka-config.ts';
