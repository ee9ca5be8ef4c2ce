/** The part of the `rocksdb` package (abstract-leveldown 7 API) this project uses. */
declare module 'rocksdb' {
  type Cb<T = void> = (err: Error | undefined | null, value?: T) => void;
  interface OpenOptions {
    createIfMissing?: boolean;
    cacheSize?: number;
    writeBufferSize?: number;
    maxOpenFiles?: number;
    compression?: boolean;
  }
  /** A chained batch: writes collected one native call each, applied atomically by write(). */
  interface ChainedBatch {
    put(key: Buffer, value: Buffer): ChainedBatch;
    del(key: Buffer): ChainedBatch;
    write(cb: Cb): void;
  }
  interface RangeOptions {
    gte?: Buffer;
    lt?: Buffer;
    limit?: number;
    keyAsBuffer?: boolean;
    valueAsBuffer?: boolean;
  }
  interface Iterator {
    next(cb: (err: Error | undefined | null, key?: Buffer, value?: Buffer) => void): void;
    end(cb: Cb): void;
  }
  interface RocksDB {
    open(options: OpenOptions, cb: Cb): void;
    close(cb: Cb): void;
    getMany(keys: Buffer[], options: { asBuffer: boolean }, cb: Cb<(Buffer | undefined)[]>): void;
    batch(): ChainedBatch;
    iterator(options: RangeOptions): Iterator;
    clear(options: RangeOptions, cb: Cb): void;
  }
  function rocksdb(location: string): RocksDB;
  export = rocksdb;
}
