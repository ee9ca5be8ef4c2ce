package bench.peer;

import java.io.IOException;
import java.io.InputStream;
import org.apache.avro.Schema;

/**
 * The Avro schemas: the repository's schemas/*.avsc, copied into the jar under schemas/ at
 * build time (pom.xml, resources), so the jar runs from any directory; and the engine
 * scenario's own output record, which the Node side declares inline too.
 */
final class Schemas {
    private Schemas() {}

    static Schema analyticsEvent() {
        return load("analytics-event.avsc");
    }

    static Schema mlPrediction() {
        return load("ml-prediction.avsc");
    }

    static Schema streamingAlert() {
        return load("streaming-alert.avsc");
    }

    /** The engine scenario's output: record bench.EventSummary. */
    static Schema eventSummary() {
        return new Schema.Parser().parse("""
            {"type": "record", "name": "EventSummary", "namespace": "bench", "fields": [
              {"name": "entity_id", "type": "string"},
              {"name": "kind", "type": "string"},
              {"name": "amount", "type": "double"},
              {"name": "event_time", "type": "long"}
            ]}""");
    }

    private static Schema load(String file) {
        try (InputStream in = Schemas.class.getResourceAsStream("/schemas/" + file)) {
            if (in == null) throw new IllegalStateException("schemas/" + file + " is not in the jar: rebuild it (mvn package)");
            return new Schema.Parser().parse(in);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read schemas/" + file + " from the jar: " + e.getMessage(), e);
        }
    }
}
