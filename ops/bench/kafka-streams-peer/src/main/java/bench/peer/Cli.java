package bench.peer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The command line the benchmark harness speaks (README.md): a scenario, then "--name value"
 * pairs. Anything unknown, repeated, missing or malformed is a {@link UsageError}, which
 * Main reports on one stderr line with exit status 2.
 */
final class Cli {
    static final List<String> SCENARIOS = List.of("engine", "windowed", "pipeline");

    private static final Set<String> COMMON_REQUIRED = Set.of("bootstrap", "application-id", "state-dir");
    private static final Set<String> COMMON_OPTIONAL = Set.of("threads", "commit-interval");

    private static Set<String> required(String scenario) {
        return switch (scenario) {
            case "engine" -> Set.of("input", "output", "output-schema-id");
            case "windowed" -> Set.of("input", "counts", "sums");
            case "pipeline" -> Set.of("events", "predictions", "alerts", "dead-letter", "model", "prediction-schema-id", "alert-schema-id");
            default -> Set.of();
        };
    }

    private static Set<String> optional(String scenario) {
        return scenario.equals("pipeline") ? Set.of("max-batch") : Set.of();
    }

    static final class UsageError extends Exception {
        private static final long serialVersionUID = 1L;

        UsageError(String message) {
            super(message);
        }
    }

    final String scenario;
    private final Map<String, String> values;

    private Cli(String scenario, Map<String, String> values) {
        this.scenario = scenario;
        this.values = values;
    }

    static Cli parse(String[] args) throws UsageError {
        if (args.length == 0) throw new UsageError("missing the scenario: one of " + String.join(", ", SCENARIOS));
        String scenario = args[0];
        if (!SCENARIOS.contains(scenario))
            throw new UsageError("unknown scenario \"" + scenario + "\": expected one of " + String.join(", ", SCENARIOS));
        Set<String> known = new TreeSet<>();
        known.addAll(COMMON_REQUIRED);
        known.addAll(COMMON_OPTIONAL);
        known.addAll(required(scenario));
        known.addAll(optional(scenario));
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 1; i < args.length; i += 2) {
            String arg = args[i];
            if (!arg.startsWith("--") || arg.length() == 2)
                throw new UsageError("unexpected argument \"" + arg + "\": options are --name value");
            String name = arg.substring(2);
            if (!known.contains(name))
                throw new UsageError("unknown option --" + name + " for " + scenario + " (known: --" + String.join(", --", known) + ")");
            if (i + 1 >= args.length) throw new UsageError("option --" + name + " needs a value");
            String value = args[i + 1];
            if (value.isEmpty()) throw new UsageError("option --" + name + " has an empty value");
            if (values.putIfAbsent(name, value) != null) throw new UsageError("option --" + name + " is given twice");
        }
        Set<String> missing = new TreeSet<>(COMMON_REQUIRED);
        missing.addAll(required(scenario));
        missing.removeAll(values.keySet());
        if (!missing.isEmpty()) throw new UsageError("missing option(s) for " + scenario + ": --" + String.join(", --", missing));
        Cli cli = new Cli(scenario, values);
        // Numbers are checked now, so a bad one is a usage error and not a failure later.
        if (values.containsKey("threads")) cli.intOption("threads", 1, 64, 1);
        if (values.containsKey("commit-interval")) cli.longOption("commit-interval", 0, Long.MAX_VALUE);
        for (String id : List.of("output-schema-id", "prediction-schema-id", "alert-schema-id"))
            if (values.containsKey(id)) cli.intOption(id, 0, Integer.MAX_VALUE, 0);
        if (values.containsKey("max-batch")) cli.intOption("max-batch", 1, 1_000_000, 512);
        return cli;
    }

    String string(String name) {
        String v = values.get(name);
        if (v == null) throw new IllegalStateException("--" + name + " was not parsed");
        return v;
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    int intOption(String name, int min, int max, int fallback) throws UsageError {
        String v = values.get(name);
        if (v == null) return fallback;
        long n = parseLong(name, v);
        if (n < min || n > max) throw new UsageError("option --" + name + " is " + v + ": expected a whole number from " + min + " to " + max);
        return (int) n;
    }

    long longOption(String name, long min, long max) throws UsageError {
        long n = parseLong(name, string(name));
        if (n < min || n > max) throw new UsageError("option --" + name + " is " + n + ": expected a whole number from " + min + " to " + max);
        return n;
    }

    private static long parseLong(String name, String v) throws UsageError {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new UsageError("option --" + name + " is \"" + v + "\": expected a whole number");
        }
    }
}
