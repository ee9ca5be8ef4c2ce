/**
 * The changelogging layer: every write that reaches it is also sent to the store's
 * changelog topic (inside the open Kafka transaction), so the store can be rebuilt from
 * Kafka. Under the write-back cache, that is once per key per flush, not once per update.
 * Restoration writes are not logged: they come from the changelog.
 */
import { WrappedStore, type KeyValueBytesStore } from './bytes-store';

export interface ChangelogWriter {
  log(key: Buffer, value: Buffer | null): void;
}

export class ChangeLoggingKeyValueStore extends WrappedStore {
  constructor(
    inner: KeyValueBytesStore,
    private readonly writer: ChangelogWriter,
  ) {
    super(inner);
  }

  override put(key: Buffer, value: Buffer | null, emit?: unknown): void {
    this.inner.put(key, value, emit);
    this.writer.log(key, value);
  }
}
