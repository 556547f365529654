// What a coordinator is told about its queue on the command line (`--queue URL --queue-timeout S`).

export interface QueueSettings {
  /** The Redis the stages go through: redis://HOST:PORT. */
  url: string;
  /** How long Redis may stay unreachable mid-run before the coordinator stops (exit 2, resumable). */
  timeoutSeconds: number;
}

export const DEFAULT_QUEUE_TIMEOUT_S = 300;
