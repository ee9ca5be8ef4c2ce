export { Serdes } from './builtin';
export { AvroSerde, AvroSerdes, type AvroSerdeOptions } from './avro';
export { SerdeError, type Serde, type SerdeFor, type Serializer, type Deserializer } from './serde';
