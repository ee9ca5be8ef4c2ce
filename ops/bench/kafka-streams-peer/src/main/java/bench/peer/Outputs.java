package bench.peer;

import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.streams.kstream.Windowed;

/**
 * The pipeline's output records, built field by field as toPrediction and toAlert build
 * them at the bottom of topologies/analytics.ts: the prediction of one window update
 * (processing_time is the wall clock when it is built), and the alert of a flagged one.
 */
final class Outputs {
    record MlPrediction(String entityId, long windowStart, long windowEnd, double score, String label, boolean flagged, double threshold, String modelName,
            String modelVersion, Map<String, Double> features, long eventTime, long processingTime) {}

    private final Schema prediction;
    private final Schema alert;
    private final Schema severity;

    Outputs(Schema prediction, Schema alert) {
        this.prediction = prediction;
        this.alert = alert;
        this.severity = alert.getField("severity").schema();
    }

    static MlPrediction toPrediction(Windowed<String> w, Scored.Prediction p, long now) {
        return new MlPrediction(w.key(), w.window().start(), w.window().end(), p.score(), p.label(), p.flagged(), p.threshold(), p.model(), p.modelVersion(),
                p.features(), p.last(), now);
    }

    GenericRecord predictionRecord(MlPrediction p) {
        GenericData.Record r = new GenericData.Record(prediction);
        r.put("entity_id", p.entityId());
        r.put("window_start", p.windowStart());
        r.put("window_end", p.windowEnd());
        r.put("score", p.score());
        r.put("label", p.label());
        r.put("flagged", p.flagged());
        r.put("threshold", p.threshold());
        r.put("model_name", p.modelName());
        r.put("model_version", p.modelVersion());
        r.put("features", p.features());
        r.put("event_time", p.eventTime());
        r.put("processing_time", p.processingTime());
        return r;
    }

    /** The alert of a flagged prediction; its id is entity@windowStart, as on the Node side. */
    GenericRecord alertRecord(MlPrediction p) {
        double margin = (p.score() - p.threshold()) / (1 - p.threshold());
        String level = margin >= 0.9 ? "CRITICAL" : margin >= 0.6 ? "HIGH" : margin >= 0.3 ? "MEDIUM" : "LOW";
        Double events = p.features().get("events");
        GenericData.Record r = new GenericData.Record(alert);
        r.put("alert_id", p.entityId() + "@" + p.windowStart());
        r.put("entity_id", p.entityId());
        r.put("kind", p.label());
        r.put("severity", new GenericData.EnumSymbol(severity, level));
        r.put("score", p.score());
        r.put("threshold", p.threshold());
        r.put("window_start", p.windowStart());
        r.put("window_end", p.windowEnd());
        r.put("model_name", p.modelName());
        r.put("model_version", p.modelVersion());
        r.put("event_time", p.eventTime());
        r.put("message", p.entityId() + ": " + p.label() + " score " + Js.toFixed(p.score(), 3) + " ≥ " + Js.number(p.threshold()) + " in the window starting "
                + Js.isoTime(p.windowStart()) + " (" + Js.number(events == null ? 0 : events) + " events)");
        return r;
    }
}
