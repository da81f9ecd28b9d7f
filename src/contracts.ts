// The record shapes of schemas/*.avsc as TypeScript types. test/unit/contracts.test.ts checks
// them against the schema files so the two cannot drift apart.

/** schemas/click-event.avsc */
export interface ClickEvent {
  eventId: string;
  sessionId: string;
  userId: string | null;
  /** Event time, ms since the epoch. */
  timestamp: number;
  type: string;
  page: string | null;
  durationMs: number | null;
  value: number | null;
  properties: Record<string, string>;
}
