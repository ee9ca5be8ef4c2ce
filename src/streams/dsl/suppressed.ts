/** How a windowed table holds its updates back (Kafka Streams' `Suppressed`): the processor is processors/suppress.ts. */
export const Suppressed = {
  /** One final result per window, once stream time passes its end plus its grace period. */
  untilWindowCloses: (): { kind: 'untilWindowCloses' } => ({ kind: 'untilWindowCloses' }),
};
