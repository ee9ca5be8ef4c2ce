package bench.peer;

import java.util.Locale;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * engine: a stateless pipeline, Avro analytics events in → mapValues to an EventSummary →
 * Avro out; keys pass through as raw bytes. The Node side's twin is engineTopology in
 * ops/bench/app/topologies.ts.
 */
final class EngineTopology {
    private EngineTopology() {}

    static Topology build(String input, String output, int outputSchemaId) {
        Schema summary = Schemas.eventSummary();
        var events = ConfluentAvro.readOnly(ConfluentAvro.reader(Schemas.analyticsEvent()));
        var summaries = ConfluentAvro.writeOnly(ConfluentAvro.writer(summary, outputSchemaId));
        StreamsBuilder b = new StreamsBuilder();
        b.stream(input, Consumed.with(Serdes.ByteArray(), events))
                .mapValues(e -> e == null ? null : summarise(summary, e))
                .to(output, Produced.with(Serdes.ByteArray(), summaries));
        return b.build();
    }

    private static GenericRecord summarise(Schema summary, GenericRecord e) {
        GenericData.Record s = new GenericData.Record(summary);
        s.put(0, e.get("entity_id"));
        s.put(1, e.get("event_type").toString().toLowerCase(Locale.ROOT));
        Object value = e.get("value");
        s.put(2, value == null ? 0.0 : (Double) value);
        s.put(3, e.get("event_time"));
        return s;
    }
}
