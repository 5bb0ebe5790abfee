// Where audit events go: the writer (writer.ts) is the sink in every running gateway; a test of unrelated
// behaviour may hand the gateway a sink of its own. The event type is record.ts's AuditEvent, the one list
// of event types.
import type { AuditEvent } from './record.js';

export interface AuditSink {
  /** Resolves once the event is durably recorded; rejects when it cannot be (a join waiting for it is refused). */
  append(event: AuditEvent): Promise<unknown>;
  /** False after a failed write until a later one succeeds (/readyz, the metrics and the reviewer page say so). */
  readonly healthy: boolean;
}
