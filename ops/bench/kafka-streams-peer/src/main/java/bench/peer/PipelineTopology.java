package bench.peer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.WindowStore;

/**
 * pipeline: the analytics topology of topologies/analytics.ts as a Kafka Streams application.
 *
 *   events (Avro, keyed by entity_id)
 *     → validate (invalid → dead-letter topic, the reason in its headers)
 *     → per entity, 1-minute tumbling windows with 10 s grace, store entity-features-1m (RocksDB)
 *     → toStream → score with the ONNX model (PredictProcessor; features the model refuses → dead letter)
 *     → predictions (Avro ml-prediction), and the flagged ones → alerts (Avro streaming-alert)
 *
 * The streaming-metrics summaries of the Node topology are left out (README.md).
 */
final class PipelineTopology {
    static final String FEATURE_STORE = "entity-features-1m";
    static final long WINDOW_MS = 60_000;
    static final long GRACE_MS = 10_000;

    record Topics(String events, String predictions, String alerts, String deadLetter) {}

    private PipelineTopology() {}

    static Topology build(Topics topics, AnomalyModel model, int predictionSchemaId, int alertSchemaId, int maxBatch) {
        Serde<String> s = Serdes.String();
        Schema eventSchema = Schemas.analyticsEvent();
        Serde<Event> events = ConfluentAvro.readOnly(ConfluentAvro.reader(eventSchema, Event::of));
        Outputs outputs = new Outputs(Schemas.mlPrediction(), Schemas.streamingAlert());
        Serde<Outputs.MlPrediction> predictions = ConfluentAvro.writeOnly(ConfluentAvro.writer(Schemas.mlPrediction(), predictionSchemaId, outputs::predictionRecord));
        Serde<Outputs.MlPrediction> alerts = ConfluentAvro.writeOnly(ConfluentAvro.writer(Schemas.streamingAlert(), alertSchemaId, outputs::alertRecord));
        FeatureVector vector = new FeatureVector(eventSchema, WINDOW_MS);
        ObjectMapper json = new ObjectMapper();

        StreamsBuilder b = new StreamsBuilder();
        Map<String, KStream<String, ValidateEvents.Checked>> checked = b.stream(topics.events(), Consumed.with(s, events))
                .processValues(ValidateEvents::new, Named.as("validate-events"))
                .split(Named.as("events-"))
                .branch((k, c) -> c.problem() == null, Branched.as("valid"))
                .defaultBranch(Branched.as("invalid"));
        checked.get("events-invalid")
                .mapValues(c -> c.event().avro().toString(), Named.as("invalid-event-body"))
                .to(topics.deadLetter(), Produced.with(s, s));

        Map<String, KStream<Windowed<String>, Scored>> scored = checked.get("events-valid")
                .mapValues(ValidateEvents.Checked::event, Named.as("valid-event"))
                .groupByKey(Grouped.keySerde(s))
                .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofMillis(WINDOW_MS), Duration.ofMillis(GRACE_MS)))
                .aggregate(WindowAggregate::new, (k, e, a) -> a.add(e),
                        Materialized.<String, WindowAggregate, WindowStore<Bytes, byte[]>>as(FEATURE_STORE).withKeySerde(s).withValueSerde(WindowAggregate.serde()))
                .toStream()
                .process(() -> new PredictProcessor(model, vector, maxBatch), Named.as("predict"))
                .split(Named.as("scored-"))
                .branch((w, r) -> r instanceof Scored.Prediction, Branched.as("prediction"))
                .defaultBranch(Branched.as("rejected"));

        scored.get("scored-rejected")
                .map((w, r) -> {
                    Scored.Rejected x = (Scored.Rejected) r;
                    ObjectNode body = json.createObjectNode();
                    body.put("key", x.entityId());
                    body.set("features", json.valueToTree(x.features()));
                    body.put("reason", x.reason());
                    body.put("model", x.model());
                    body.put("modelVersion", x.modelVersion());
                    return KeyValue.pair(x.entityId(), body.toString());
                }, Named.as("rejected-features-body"))
                .to(topics.deadLetter(), Produced.with(s, s));

        KStream<String, Outputs.MlPrediction> out = scored.get("scored-prediction")
                .map((w, r) -> KeyValue.pair(w.key(), Outputs.toPrediction(w, (Scored.Prediction) r, System.currentTimeMillis())), Named.as("to-prediction"));
        out.to(topics.predictions(), Produced.with(s, predictions));
        out.filter((k, p) -> p.flagged(), Named.as("flagged")).to(topics.alerts(), Produced.with(s, alerts));
        return b.build();
    }
}
