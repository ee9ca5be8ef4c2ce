export { Serdes } from './builtin';
export { SerdeError, type Serde, type Serializer, type Deserializer } from './serde';
