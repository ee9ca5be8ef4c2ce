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
  interface BatchOp {
    type: 'put' | 'del';
    key: Buffer;
    value?: Buffer;
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
    batch(ops: BatchOp[], cb: Cb): void;
    iterator(options: RangeOptions): Iterator;
    clear(options: RangeOptions, cb: Cb): void;
  }
  function rocksdb(location: string): RocksDB;
  export = rocksdb;
}
