/** The functions the DSL's aggregations take (Kafka Streams' Initializer, Aggregator, Reducer, Merger). */
export type Initializer<VA> = () => VA;
export type Aggregator<K, V, VA> = (key: K, value: V, aggregate: VA) => VA;
export type Reducer<V> = (aggregate: V, value: V) => V;
/** Combines the aggregates of two sessions a record brings together. */
export type Merger<K, VA> = (key: K, left: VA, right: VA) => VA;
