package bench.peer;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The anomaly model on ONNX Runtime for Java, loaded from a version directory (model.onnx +
 * metadata.json), as src/inference/onnx-model.ts loads it on the Node side: the same session
 * settings (one intra-op and one inter-op thread, sequential, all graph optimisations), one
 * float32 row per record in the metadata's feature order, and column 1 of the probability
 * output as the score. The version is the directory's name, as the Node side's model
 * registry names it. One session is shared by all stream threads (ONNX Runtime allows
 * concurrent runs); each caller brings its own row buffer.
 */
final class AnomalyModel implements AutoCloseable {
    record Feature(String name, boolean integer, double min, double max) {}

    final String name;
    final String version;
    final String input;
    final String probabilities;
    final List<Feature> features;
    final double threshold;
    final String positiveLabel;
    final String negativeLabel;
    /** Every scoring call's time and rows (the harness's "stats"). */
    final ModelCalls calls = new ModelCalls();
    private final OrtEnvironment env;
    private final OrtSession session;

    private AnomalyModel(Path dir, JsonNode m, OrtEnvironment env, OrtSession session) {
        this.name = text(m, "name");
        this.version = dir.toAbsolutePath().normalize().getFileName().toString();
        this.input = text(m, "input");
        this.probabilities = text(m, "probabilities");
        this.threshold = m.path("threshold").asDouble(Double.NaN);
        if (!(threshold > 0 && threshold < 1)) throw new IllegalArgumentException("metadata.json: \"threshold\" must be a number between 0 and 1");
        this.positiveLabel = m.hasNonNull("positiveLabel") ? m.get("positiveLabel").asText() : "anomaly";
        this.negativeLabel = m.hasNonNull("negativeLabel") ? m.get("negativeLabel").asText() : "normal";
        List<Feature> list = new ArrayList<>();
        for (JsonNode f : m.path("features")) {
            String type = f.path("type").asText();
            if (!type.equals("int") && !type.equals("float")) throw new IllegalArgumentException("metadata.json: feature type \"" + type + "\" is not int or float");
            list.add(new Feature(text(f, "name"), type.equals("int"), f.path("min").asDouble(), f.path("max").asDouble()));
        }
        if (list.isEmpty()) throw new IllegalArgumentException("metadata.json lists no features");
        this.features = List.copyOf(list);
        this.env = env;
        this.session = session;
    }

    static AnomalyModel load(Path dir) throws IOException, OrtException {
        Path modelFile = dir.resolve("model.onnx");
        Path metadataFile = dir.resolve("metadata.json");
        if (!Files.isRegularFile(modelFile)) throw new IOException("the model directory " + dir + " has no model.onnx");
        if (!Files.isRegularFile(metadataFile)) throw new IOException("the model directory " + dir + " has no metadata.json");
        JsonNode metadata = new ObjectMapper().readTree(metadataFile.toFile());
        OrtEnvironment env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING, "kafka-streams-peer");
        OrtSession session;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = env.createSession(modelFile.toString(), options);
        }
        AnomalyModel model;
        try {
            model = new AnomalyModel(dir, metadata, env, session);
            model.checkSignature();
        } catch (RuntimeException | OrtException e) {
            session.close();
            throw e;
        }
        return model;
    }

    int width() {
        return features.size();
    }

    /**
     * Positive-class probabilities of {@code rows} rows laid out one after another in
     * {@code buffer} (a direct buffer of at least rows × width floats; its contents from
     * position 0 are used).
     */
    float[] score(FloatBuffer buffer, int rows) throws OrtException {
        if (rows == 0) return new float[0];
        buffer.clear().limit(rows * width());
        long started = System.nanoTime();
        try (OnnxTensor tensor = OnnxTensor.createTensor(env, buffer, new long[] {rows, width()});
                OrtSession.Result result = session.run(Map.of(input, tensor), Set.of(probabilities))) {
            OnnxValue out = result.get(probabilities).orElseThrow(() -> new OrtException("the model gave no \"" + probabilities + "\" output"));
            FloatBuffer probs = ((OnnxTensor) out).getFloatBuffer();
            float[] scores = new float[rows];
            for (int r = 0; r < rows; r++) scores[r] = probs.get(r * 2 + 1);
            calls.record((System.nanoTime() - started) / 1e6, rows);
            return scores;
        }
    }

    /** The graph must take a float32 input of the feature width and give [rows, 2] float32 probabilities; one probe row must score. */
    private void checkSignature() throws OrtException {
        NodeInfo in = session.getInputInfo().get(input);
        if (in == null) throw new IllegalArgumentException("the model has no input \"" + input + "\" (it has " + session.getInputNames() + ")");
        if (!(in.getInfo() instanceof TensorInfo t) || t.type != OnnxJavaType.FLOAT) throw new IllegalArgumentException("input \"" + input + "\" is not a float32 tensor");
        long[] shape = t.getShape();
        if (shape.length == 2 && shape[1] > 0 && shape[1] != width())
            throw new IllegalArgumentException("input \"" + input + "\" takes " + shape[1] + " features, metadata.json lists " + width());
        NodeInfo out = session.getOutputInfo().get(probabilities);
        if (out == null) throw new IllegalArgumentException("the model has no output \"" + probabilities + "\" (it has " + session.getOutputNames() + ")");
        if (!(out.getInfo() instanceof TensorInfo o) || o.type != OnnxJavaType.FLOAT) throw new IllegalArgumentException("output \"" + probabilities + "\" is not a float32 tensor");
        FloatBuffer probe = newRowBuffer(1);
        for (Feature f : features) probe.put((float) f.min());
        float[] s = score(probe, 1);
        if (s.length != 1 || !Float.isFinite(s[0])) throw new IllegalArgumentException("a probe row did not give one probability");
    }

    /** A direct buffer for {@code rows} rows (ONNX Runtime reads a direct buffer without copying it). */
    FloatBuffer newRowBuffer(int rows) {
        return java.nio.ByteBuffer.allocateDirect(rows * width() * Float.BYTES).order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            // closing at exit: nothing to do about it
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual() || v.asText().isEmpty()) throw new IllegalArgumentException("metadata.json: \"" + field + "\" must be a non-empty string");
        return v.asText();
    }
}
