/**
 * Which partition — hence which task — holds a key. Producers place keyed records by one
 * of two hashes: murmur2 (Java's Utils.murmur2: the Java clients, Kafka Streams, and this
 * runtime's own producer through librdkafka's `murmur2_random`) or CRC32 (librdkafka's
 * default `consistent_random`: node-rdkafka, kcat, the Python and Go clients). A key
 * look-up, and a co-partitioned join, are right only with the partitioner that actually
 * wrote the input, so applications declare it, and `PartitionerCheck` watches for records
 * that arrive elsewhere.
 */
import { crc32 } from 'node:zlib';

export const PARTITIONERS = ['murmur2', 'crc32', 'unknown'] as const;
export type InputPartitioner = (typeof PARTITIONERS)[number];

/** Java's Utils.murmur2 over the key bytes. */
export function murmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  if (rest >= 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition the murmur2 partitioner (Java's default) gives a key. */
export function partitionForKey(key: Buffer, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/** The partition librdkafka's consistent partitioner (CRC32, its default for keyed records) gives a key. */
export function crc32Partition(key: Buffer, partitions: number): number {
  return crc32(key) % partitions;
}

/** The partition a known partitioner gives a key. */
export function partitionBy(partitioner: 'murmur2' | 'crc32', key: Buffer, partitions: number): number {
  return partitioner === 'murmur2' ? partitionForKey(key, partitions) : crc32Partition(key, partitions);
}

/**
 * The partitions a key may be in, most likely first: the declared partitioner's choice;
 * when it is unknown (or records were seen elsewhere), murmur2's and CRC32's, then the rest.
 */
export function candidatePartitions(partitioner: InputPartitioner, key: Buffer, partitions: number): number[] {
  if (partitioner !== 'unknown') return [partitionBy(partitioner, key, partitions)];
  const first = [partitionForKey(key, partitions), crc32Partition(key, partitions)];
  return [...new Set([...first, ...Array.from({ length: partitions }, (_, p) => p)])];
}
