// Outputs: alert policy, reason text, CRM webhook. (Record types come from src/contracts.ts.)
export * from './alert-policy.ts';
export * from './alert-reason.ts';
export * from './webhook.ts';
export * from './webhook-metrics.ts';
export * from './webhook-signature.ts';
