export { Serdes, type JsonSerdeOptions } from './builtin';
export { AvroSerde, AvroSerdes, DEFAULT_MAX_RECORD_BYTES, type AvroSerdeOptions, type AvroSerdesOptions } from './avro';
export { SerdeError, type Serde, type SerdeFor, type Serializer, type Deserializer } from './serde';
