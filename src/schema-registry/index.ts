// The schema registry: its REST client and the Confluent wire format.
export * from './client.ts';
export * from './wire-format.ts';
