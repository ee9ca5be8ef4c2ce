package bench.peer;

import ai.onnxruntime.OrtException;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Scores window updates with the model, like predict() in src/inference/predict.ts: the
 * features are checked against the metadata (a bad vector is rejected with the reason, never
 * scored), the valid rows are scored in one call, and one result per record is forwarded in
 * arrival order.
 *
 * Kafka Streams gives a processor no hook before a commit, so batching is a choice:
 * maxBatch 1 scores each record inside process() (exactly once); maxBatch N > 1 holds up to N
 * records back and scores them when N are waiting or on a 5 ms wall-clock punctuation. Held
 * records can cross a commit: their input offsets may be committed before their predictions
 * are written, and a crash in between loses them (README.md).
 */
final class PredictProcessor implements Processor<Windowed<String>, WindowAggregate, Windowed<String>, Scored> {
    static final Duration FLUSH_EVERY = Duration.ofMillis(5);

    private record Pending(Record<Windowed<String>, WindowAggregate> record, Map<String, Double> features) {}

    private final AnomalyModel model;
    private final FeatureVector vector;
    private final int maxBatch;
    private List<Pending> pending = new ArrayList<>();
    /** The batch's rows, as ONNX Runtime reads them, and one row being checked. */
    private final FloatBuffer rows;
    private final float[] row;
    private ProcessorContext<Windowed<String>, Scored> ctx;

    PredictProcessor(AnomalyModel model, FeatureVector vector, int maxBatch) {
        this.model = model;
        this.vector = vector;
        this.maxBatch = maxBatch;
        this.rows = model.newRowBuffer(maxBatch);
        this.row = new float[model.width()];
    }

    @Override
    public void init(ProcessorContext<Windowed<String>, Scored> context) {
        this.ctx = context;
        if (maxBatch > 1) context.schedule(FLUSH_EVERY, PunctuationType.WALL_CLOCK_TIME, now -> flush());
    }

    @Override
    public void process(Record<Windowed<String>, WindowAggregate> record) {
        if (record.value() == null) return;
        pending.add(new Pending(record, vector.of(record.value())));
        if (pending.size() >= maxBatch) flush();
    }

    private void flush() {
        if (pending.isEmpty()) return;
        List<Pending> batch = pending;
        pending = new ArrayList<>();
        Scored[] results = new Scored[batch.size()];
        rows.clear();
        int valid = 0;
        for (int i = 0; i < batch.size(); i++) {
            Pending p = batch.get(i);
            String reason = writeRow(p.features(), row);
            if (reason != null) results[i] = new Scored.Rejected(p.record().key().key(), p.features(), reason, model.name, model.version);
            else {
                rows.put(row);
                valid++;
            }
        }
        float[] scores;
        try {
            scores = model.score(rows, valid);
        } catch (OrtException e) {
            throw new StreamsException("model " + model.name + " v" + model.version + " failed on a batch of " + valid + ": " + e.getMessage(), e);
        }
        for (int i = 0, next = 0; i < batch.size(); i++) {
            Record<Windowed<String>, WindowAggregate> r = batch.get(i).record();
            Record<Windowed<String>, Scored> out;
            if (results[i] instanceof Scored.Rejected rejected)
                out = new Record<Windowed<String>, Scored>(r.key(), rejected, r.timestamp(), DeadLetters.headers(ctx, "SA_ERR_FEATURES_INVALID", rejected.reason()));
            else {
                double score = scores[next++];
                boolean flagged = score >= model.threshold;
                Scored.Prediction prediction = new Scored.Prediction(score, flagged ? model.positiveLabel : model.negativeLabel, flagged, model.name, model.version,
                        model.threshold, batch.get(i).features(), r.value().last);
                out = new Record<>(r.key(), prediction, r.timestamp(), r.headers());
            }
            ctx.forward(out);
        }
    }

    /** writeFeatures in src/inference/features.ts: the values in the metadata's order as float32, or why they are refused. */
    private String writeRow(Map<String, Double> values, float[] row) {
        for (int i = 0; i < model.features.size(); i++) {
            AnomalyModel.Feature spec = model.features.get(i);
            Double v = values.get(spec.name());
            if (v == null) return "feature \"" + spec.name() + "\" is missing";
            if (!Double.isFinite(v)) return "feature \"" + spec.name() + "\" is " + Js.number(v) + ", not a finite number";
            if (spec.integer() && v != Math.rint(v)) return "feature \"" + spec.name() + "\" is " + Js.number(v) + ", not a whole number";
            if (v < spec.min() || v > spec.max())
                return "feature \"" + spec.name() + "\" is " + Js.number(v) + ", outside its valid range [" + Js.number(spec.min()) + ", " + Js.number(spec.max()) + "]";
            row[i] = (float) (double) v;
        }
        return null;
    }
}
