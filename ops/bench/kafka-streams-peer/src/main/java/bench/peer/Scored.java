package bench.peer;

import java.util.Map;

/** What the predict processor gives for one window update: a prediction, or features the model refuses (they go to the dead-letter topic). */
sealed interface Scored {
    /** As Prediction in src/inference/predict.ts; {@code last}: the event time of the window's latest event. */
    record Prediction(double score, String label, boolean flagged, String model, String modelVersion, double threshold, Map<String, Double> features, long last)
            implements Scored {}

    record Rejected(String entityId, Map<String, Double> features, String reason, String model, String modelVersion) implements Scored {}
}
