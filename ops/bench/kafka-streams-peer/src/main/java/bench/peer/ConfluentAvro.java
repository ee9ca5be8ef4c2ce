package bench.peer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.function.Function;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Avro values in the Confluent wire format, written here because Confluent's serdes are not
 * on Maven Central: byte 0 is the magic 0, bytes 1-4 the schema id (big-endian), then the
 * Avro binary body.
 *
 * Reading takes the writer schema to be the repository's .avsc (the harness registers exactly
 * that schema), so the id is not looked up; the magic byte is checked. Writing frames with
 * the id given on the command line. One serde instance is shared by every stream thread:
 * the datum readers and writers are thread-safe, the decoder, encoder and buffer are kept
 * per thread.
 */
final class ConfluentAvro {
    static final byte MAGIC = 0;
    private static final int HEADER = 5;

    private ConfluentAvro() {}

    /** A deserializer of framed records, mapped by {@code view} (e.g. to a lighter Java object). */
    static <T> Deserializer<T> reader(Schema schema, Function<GenericRecord, T> view) {
        GenericDatumReader<GenericRecord> datum = new GenericDatumReader<>(schema);
        ThreadLocal<BinaryDecoder> decoders = new ThreadLocal<>();
        return (topic, data) -> {
            if (data == null || data.length == 0) return null;
            if (data.length < HEADER) throw new SerializationException("a " + data.length + "-byte value on " + topic + " is too short for the Confluent Avro framing");
            if (data[0] != MAGIC) throw new SerializationException("a value on " + topic + " starts with byte " + data[0] + ", not the Confluent magic byte 0");
            BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, HEADER, data.length - HEADER, decoders.get());
            decoders.set(decoder);
            GenericRecord record;
            try {
                record = datum.read(null, decoder);
            } catch (IOException | RuntimeException e) {
                throw new SerializationException("a value on " + topic + " is not a " + schema.getFullName() + ": " + e.getMessage(), e);
            }
            try {
                if (!decoder.isEnd()) throw new SerializationException("a value on " + topic + " has bytes after its " + schema.getFullName());
            } catch (IOException e) {
                throw new SerializationException(e);
            }
            return view.apply(record);
        };
    }

    static Deserializer<GenericRecord> reader(Schema schema) {
        return reader(schema, r -> r);
    }

    /** A serializer framing with {@code schemaId}; {@code record} builds the Avro record from the Java value. */
    static <T> Serializer<T> writer(Schema schema, int schemaId, Function<T, GenericRecord> record) {
        GenericDatumWriter<GenericRecord> datum = new GenericDatumWriter<>(schema);
        ThreadLocal<Buffers> buffers = ThreadLocal.withInitial(Buffers::new);
        return (topic, value) -> {
            if (value == null) return null;
            Buffers b = buffers.get();
            b.out.reset();
            b.out.write(MAGIC);
            b.out.write(schemaId >>> 24);
            b.out.write(schemaId >>> 16);
            b.out.write(schemaId >>> 8);
            b.out.write(schemaId);
            b.encoder = EncoderFactory.get().binaryEncoder(b.out, b.encoder);
            try {
                datum.write(record.apply(value), b.encoder);
                b.encoder.flush();
            } catch (IOException | RuntimeException e) {
                throw new SerializationException("cannot write a " + schema.getFullName() + " to " + topic + ": " + e.getMessage(), e);
            }
            return b.out.toByteArray();
        };
    }

    static Serializer<GenericRecord> writer(Schema schema, int schemaId) {
        return writer(schema, schemaId, r -> r);
    }

    /** A serde that only reads (a source's value serde). */
    static <T> Serde<T> readOnly(Deserializer<T> deserializer) {
        return new Serde<>() {
            @Override
            public Serializer<T> serializer() {
                return (topic, value) -> {
                    throw new UnsupportedOperationException("this serde only reads (" + topic + ")");
                };
            }

            @Override
            public Deserializer<T> deserializer() {
                return deserializer;
            }
        };
    }

    /** A serde that only writes (a sink's value serde). */
    static <T> Serde<T> writeOnly(Serializer<T> serializer) {
        return new Serde<>() {
            @Override
            public Serializer<T> serializer() {
                return serializer;
            }

            @Override
            public Deserializer<T> deserializer() {
                return (topic, data) -> {
                    throw new UnsupportedOperationException("this serde only writes (" + topic + ")");
                };
            }
        };
    }

    private static final class Buffers {
        final ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        BinaryEncoder encoder;
    }
}
