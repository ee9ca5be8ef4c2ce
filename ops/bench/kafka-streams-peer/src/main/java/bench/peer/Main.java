package bench.peer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entry point: java -jar kafka-streams-peer.jar engine|windowed|pipeline --options (README.md).
 *
 * The harness's contract: exactly one line "RUNNING" on stdout, the first time the
 * application reaches RUNNING; a line "stats" on stdin is answered with one JSON line of the
 * model calls since the last one (ModelCalls); on SIGTERM the application is closed (30 s at
 * most) and the process exits 0; a bad command line is one stderr line and exit 2; a fatal
 * error of the application exits 1. Logging is WARN and above, on stderr.
 */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private Main() {}

    public static void main(String[] args) {
        Cli cli;
        Topology topology;
        AnomalyModel model = null;
        try {
            cli = Cli.parse(args);
            switch (cli.scenario) {
                case "engine" -> topology = EngineTopology.build(cli.string("input"), cli.string("output"), cli.intOption("output-schema-id", 0, Integer.MAX_VALUE, 0));
                case "windowed" -> topology = WindowedTopology.build(cli.string("input"), cli.string("counts"), cli.string("sums"));
                case "pipeline" -> {
                    model = loadModel(cli.string("model"));
                    topology = PipelineTopology.build(
                            new PipelineTopology.Topics(cli.string("events"), cli.string("predictions"), cli.string("alerts"), cli.string("dead-letter")), model,
                            cli.intOption("prediction-schema-id", 0, Integer.MAX_VALUE, 0), cli.intOption("alert-schema-id", 0, Integer.MAX_VALUE, 0),
                            cli.intOption("max-batch", 1, 1_000_000, 512));
                }
                default -> throw new Cli.UsageError("unknown scenario " + cli.scenario);
            }
        } catch (Cli.UsageError e) {
            System.err.println("kafka-streams-peer: " + e.getMessage());
            System.exit(2);
            return;
        }
        run(topology, config(cli), model);
    }

    private static AnomalyModel loadModel(String dir) throws Cli.UsageError {
        try {
            AnomalyModel model = AnomalyModel.load(Path.of(dir));
            model.calls.drain(); // the load's probe row is not a call the harness should see
            return model;
        } catch (Exception e) {
            throw new Cli.UsageError("--model " + dir + " cannot be loaded: " + e.getMessage());
        }
    }

    static Properties config(Cli cli) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, cli.string("application-id"));
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, cli.string("bootstrap"));
        p.put(StreamsConfig.STATE_DIR_CONFIG, cli.string("state-dir"));
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, cli.has("threads") ? cli.string("threads") : "1");
        if (cli.has("commit-interval")) p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, cli.string("commit-interval"));
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, SkipUndecodable.class.getName());
        return p;
    }

    /**
     * A line "stats" on stdin: one JSON line of the model calls since the last one (none
     * outside the pipeline), and the commits so far as Kafka Streams' own thread metrics give
     * them: commit-total, and commit-latency-avg (its mean over the metrics' sample window).
     */
    private static void answerStats(AnomalyModel model, KafkaStreams streams) {
        Thread t = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (!line.trim().equals("stats")) continue;
                    String calls = model == null ? "{\"calls\":0,\"rows\":0,\"batchMs\":[]}" : model.calls.drain();
                    String answer = calls.substring(0, calls.length() - 1) + ",\"commits\":" + commits(streams) + "}";
                    synchronized (System.out) {
                        System.out.println("STATS " + answer);
                        System.out.flush();
                    }
                }
            } catch (IOException e) {
                // stdin closed: nobody will ask
            }
        }, "kafka-streams-peer-stats");
        t.setDaemon(true);
        t.start();
    }

    /** "TASKS n1,n2,…": each stream thread's active task count, whenever it changes (the harness times a balanced instance). */
    private static void reportTasks(KafkaStreams streams) {
        Thread t = new Thread(() -> {
            String last = "";
            while (true) {
                try {
                    Thread.sleep(200);
                    if (streams.state() != KafkaStreams.State.RUNNING && streams.state() != KafkaStreams.State.REBALANCING) continue;
                    StringBuilder b = new StringBuilder();
                    for (var thread : streams.metadataForLocalThreads()) {
                        if (b.length() > 0) b.append(',');
                        b.append(thread.activeTasks().size());
                    }
                    String counts = b.toString();
                    if (counts.equals(last)) continue;
                    last = counts;
                    synchronized (System.out) {
                        System.out.println("TASKS " + counts);
                        System.out.flush();
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    // the application is closing: nothing more to report
                }
            }
        }, "kafka-streams-peer-tasks");
        t.setDaemon(true);
        t.start();
    }

    /** {"count", "meanMs"} over the application's stream threads. */
    private static String commits(KafkaStreams streams) {
        double count = 0;
        double weighted = 0;
        for (var e : streams.metrics().entrySet()) {
            MetricName name = e.getKey();
            if (!name.group().equals("stream-thread-metrics") || !name.name().equals("commit-total")) continue;
            double total = ((Number) e.getValue().metricValue()).doubleValue();
            double avg = threadMetric(streams, name.tags(), "commit-latency-avg");
            count += total;
            if (!Double.isNaN(avg)) weighted += avg * total;
        }
        return "{\"count\":" + (long) count + ",\"meanMs\":" + (count > 0 ? Math.round(weighted / count * 1000) / 1000.0 : 0) + "}";
    }

    private static double threadMetric(KafkaStreams streams, java.util.Map<String, String> tags, String metric) {
        for (var e : streams.metrics().entrySet()) {
            MetricName name = e.getKey();
            if (name.group().equals("stream-thread-metrics") && name.name().equals(metric) && name.tags().equals(tags))
                return ((Number) e.getValue().metricValue()).doubleValue();
        }
        return Double.NaN;
    }

    private static void run(Topology topology, Properties config, AnomalyModel model) {
        KafkaStreams streams = new KafkaStreams(topology, config);
        AtomicBoolean announced = new AtomicBoolean();
        AtomicBoolean closing = new AtomicBoolean();
        CountDownLatch failed = new CountDownLatch(1);
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING && announced.compareAndSet(false, true)) {
                synchronized (System.out) {
                    System.out.println("RUNNING");
                    System.out.flush();
                }
            }
            if (now == KafkaStreams.State.ERROR || (now == KafkaStreams.State.NOT_RUNNING && !closing.get())) failed.countDown();
        });
        streams.setUncaughtExceptionHandler(e -> {
            LOG.error("a stream thread failed; shutting the application down", e);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        // SIGTERM: close, then exit 0 (halt, since the JVM would otherwise exit 143 after the hooks).
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (!closing.compareAndSet(false, true)) return;
            if (!streams.close(CLOSE_TIMEOUT)) LOG.warn("the application did not close within {}", CLOSE_TIMEOUT);
            if (model != null) model.close();
            System.out.flush();
            System.err.flush();
            Runtime.getRuntime().halt(0);
        }, "kafka-streams-peer-shutdown"));
        answerStats(model, streams);
        streams.start();
        reportTasks(streams);
        try {
            failed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // The application failed on its own (not a SIGTERM): close what is left and exit 1.
        if (!closing.compareAndSet(false, true)) return; // a SIGTERM got there first: its hook exits
        LOG.error("the application stopped in state {}; exiting 1", streams.state());
        streams.close(CLOSE_TIMEOUT);
        if (model != null) model.close();
        System.exit(1);
    }
}
