// One error base with a closed list of codes. User mistakes (bad config, bad input files,
// unreachable brokers) are UserErrors: the CLI prints their message, not a stack trace.
export const ErrorCodes = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  BROKER_UNREACHABLE: 'BROKER_UNREACHABLE',
  KAFKA_AUTH: 'KAFKA_AUTH',
  LOCAL_KAFKA: 'LOCAL_KAFKA',
  /** The local schema registry (tests, development) could not start. */
  LOCAL_REGISTRY: 'LOCAL_REGISTRY',
  /** The schema registry refused the credentials or the TLS handshake, or answered what journeylens cannot use. */
  SCHEMA_REGISTRY: 'SCHEMA_REGISTRY',
  INPUT_INVALID: 'INPUT_INVALID',
  BUNDLE_INVALID: 'BUNDLE_INVALID',
  /** No TF.js backend (tfjs-node, wasm, cpu) could be initialised, or a kernel it needs is missing. */
  BACKEND_UNAVAILABLE: 'BACKEND_UNAVAILABLE',
  WEBHOOK_DELIVERY: 'WEBHOOK_DELIVERY',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class JourneylensError extends Error {
  override name = 'JourneylensError';
  readonly code: ErrorCode;
  readonly canRetry: boolean;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown; canRetry?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.canRetry = options.canRetry ?? false;
  }
}

/** A mistake the user can fix; `exitCode` 2 for bad invocations/config, 1 otherwise. */
export class UserError extends JourneylensError {
  override name = 'UserError';
  readonly exitCode: number;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(code, message, options);
    this.exitCode = options.exitCode ?? 1;
  }
}
