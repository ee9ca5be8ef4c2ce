export { Serdes, type JsonSerdeOptions } from './builtin';
export { AvroSerde, AvroSerdes, DEFAULT_MAX_RECORD_BYTES, type AvroSerdeOptions, type AvroSerdesOptions } from './avro';
export { WindowedSerdes, type Windowed } from './windowed';
export { mappedSerde, stampedListSerde } from './list';
export { RegistryWait } from './registry-wait';
export { SerdeError, type Serde, type SerdeFor, type Serializer, type Deserializer } from './serde';
